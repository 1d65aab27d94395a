-- attn: the Lua half of attnlab's `attn` table.
--
-- The C half ("attn.core") holds tensors and their kernels; this file adds
-- what reads better in Lua, so a student can open it and see how it works.

local attn = require "attn.core"

--- attn.time(fn, n): run fn n times (default 5, after one warm-up call) and
-- return the median wall time in seconds, plus the fastest and slowest.
function attn.time(fn, n)
  n = n or 5
  assert(type(fn) == "function", "time: expected a function, got " .. type(fn))
  assert(math.type(n) == "integer" and n >= 1, "time: n must be a positive integer")
  fn()
  local times = {}
  for i = 1, n do
    local t0 = attn.clock()
    fn()
    times[i] = attn.clock() - t0
  end
  table.sort(times)
  local mid = (n + 1) // 2
  local median = n % 2 == 1 and times[mid] or (times[mid] + times[mid + 1]) / 2
  return median, times[1], times[n]
end

require "attn.F"
attn.nn = require "attn.nn"
attn.models = require "attn.models"
require "attn.checkpoint"  -- adds attn.models.load and m:save
require "attn.zoo"         -- attn.models.list, builtin, and load by name
require "attn.viz"
attn.optim = require "attn.optim"
attn.train = require "attn.train"
attn.metrics = require "attn.metrics"
attn.heads = require "attn.heads"
attn.look = require("attn.look").look
attn.lesson = require "attn.lesson"
attn.save, attn.load = attn._io.save, attn._io.load
attn.help = require("attn.help").help

return attn
