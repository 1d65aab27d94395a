-- bench/matmul.lua: matmul through attnlab (Lua call, ops layer, CPU
-- backend, BLAS), on the shapes of bench/shapes.def. Prints lines in the
-- format of bench/raw_sgemm so bench/run.sh can set them side by side.
local attn = require "attn"
local here = (arg and arg[0] or "bench/matmul.lua"):match("^(.*)/[^/]*$") or "."

local shapes = {}
for line in io.lines(here .. "/shapes.def") do
  local name, m, k, n, t = line:match('SHAPE%("([%w_]+)", (%d+), (%d+), (%d+), (%d)%)')
  if name then
    shapes[#shapes + 1] = {name = name, m = tonumber(m), k = tonumber(k), n = tonumber(n),
                           trans_b = t == "1"}
  end
end

local function runs(s)
  local flops = 2.0 * s.m * s.n * s.k
  return flops > 4e9 and 3 or flops > 2e8 and 7 or 15
end

attn.seed(1)
for threads = 1, 2 do
  attn.threads(threads)
  for _, s in ipairs(shapes) do
    local a = attn.rand(s.m, s.k)
    -- q @ k^T: k is stored [n, k] and passed as a transposed view, no copy
    local b = s.trans_b and attn.rand(s.n, s.k):T() or attn.rand(s.k, s.n)
    local sec = attn.time(function() return a:matmul(b) end, runs(s))
    print(string.format("%s %d %d %d %d %.2f", s.name, s.m, s.k, s.n, threads,
                        2.0 * s.m * s.n * s.k / sec * 1e-9))
  end
end
