-- tap.lua: a tiny TAP producer for the Lua tests, plus the plain-table helpers
-- they share (random float32 tables, flatten, shapes).
--
-- Load it with
--   local T = dofile((os.getenv("ATTNLAB_PATH") or ".") .. "/tests/lua/tap.lua")
-- Every check prints "ok N - name" or "not ok N - name" and, on failure, "# "
-- diagnostic lines; the TAP driver reads those. A test script ends with
-- T.done_testing() (or announces T.plan(n) first). T.section(name, fn) runs a
-- block under pcall so that one unexpected error becomes a "not ok" line and the
-- rest of the script still runs. With TAP_VERBOSE set in the environment,
-- raises() shows the message of passing checks too (to review error texts).
--
-- Nothing here knows the tensor library except through its public Lua methods
-- (shape, table, item), so the helpers themselves can be trusted independently.

local T = {}

local count, failed, planned = 0, 0, nil

local function diag(s)
  for line in (tostring(s) .. "\n"):gmatch("(.-)\n") do
    io.write("# ", line, "\n")
  end
end
T.diag = diag

function T.plan(n)
  planned = n
  io.write("1..", n, "\n")
end

function T.done_testing()
  if not planned then
    io.write("1..", count, "\n")
  elseif planned ~= count then
    diag(("planned %d tests but ran %d"):format(planned, count))
  end
  if failed > 0 then diag(("%d of %d failed"):format(failed, count)) end
  io.stdout:flush()
  return failed
end

function T.failed() return failed end

-- One test line. name must not start with a digit (TAP would read it as an id);
-- a "#" inside would start a directive, so it is replaced.
local function emit(pass, name)
  count = count + 1
  name = tostring(name or ""):gsub("#", "\\#"):gsub("\n", " ")
  io.write(pass and "ok " or "not ok ", count, name ~= "" and (" - " .. name) or "", "\n")
  if not pass then failed = failed + 1 end
  io.stdout:flush()
  return pass
end

-- ---- formatting for diagnostics -------------------------------------------

local function fmt(v, depth)
  depth = depth or 0
  if type(v) == "number" then
    if math.type(v) == "integer" then return tostring(v) end
    return ("%.9g"):format(v)
  elseif type(v) == "string" then
    return ("%q"):format(v)
  elseif type(v) == "table" and depth < 3 then
    local parts = {}
    for i = 1, math.min(#v, 12) do parts[#parts + 1] = fmt(v[i], depth + 1) end
    if #v > 12 then parts[#parts + 1] = "..." end
    return "{" .. table.concat(parts, ",") .. "}"
  end
  return tostring(v)
end
T.fmt = fmt

-- ---- the checks -------------------------------------------------------------

function T.ok(cond, name, ...)
  local pass = emit(cond and true or false, name)
  if not pass and select("#", ...) > 0 then diag(table.concat({...}, " ")) end
  return pass
end

function T.pass(name) return emit(true, name) end
function T.fail(name, why)
  emit(false, name)
  if why then diag(why) end
  return false
end

local function deep_eq(a, b)
  if type(a) ~= "table" or type(b) ~= "table" then
    if a ~= a and b ~= b then return true end -- nan is nan
    return a == b
  end
  if #a ~= #b then return false end
  for k, v in pairs(a) do if not deep_eq(v, b[k]) then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end
T.deep_eq = deep_eq

-- is(a, b): equality; tables are compared deeply (shapes, small lists).
function T.is(got, want, name)
  local pass = emit(deep_eq(got, want), name)
  if not pass then diag(("got %s expected %s"):format(fmt(got), fmt(want))) end
  return pass
end

function T.isnt(got, unwanted, name)
  local pass = emit(not deep_eq(got, unwanted), name)
  if not pass then diag(("got %s, which it should not be"):format(fmt(got))) end
  return pass
end

-- close(a, b, tol): |a-b| <= tol * (1 + |b|), i.e. absolute near 0 and relative
-- for large values; nan matches nan and equal infinities match.
local function close(a, b, tol)
  if type(a) ~= "number" or type(b) ~= "number" then return false end
  if a ~= a or b ~= b then return a ~= a and b ~= b end
  if a == b then return true end
  if a == math.huge or a == -math.huge or b == math.huge or b == -math.huge then
    return false
  end
  return math.abs(a - b) <= tol * (1 + math.abs(b))
end
T.close = close

function T.near(got, want, tol, name)
  tol = tol or 1e-5
  local pass = emit(close(got, want, tol), name)
  if not pass then
    diag(("got %s expected %s (tol %g)"):format(fmt(got), fmt(want), tol))
  end
  return pass
end

-- ---- plain-table helpers ----------------------------------------------------

-- The float32 nearest to x: tensors store float32, so references computed
-- from these inputs see exactly the numbers the library sees.
function T.f32(x) return (string.unpack("<f", string.pack("<f", x))) end

-- Shape of a nested table (by its first elements): {{1,2,3},{4,5,6}} -> {2,3}.
function T.shape_of(tbl)
  local s = {}
  while type(tbl) == "table" do
    s[#s + 1] = #tbl
    tbl = tbl[1]
  end
  return s
end

-- Row-major list of the leaves of a nested table.
function T.flatten(tbl, out)
  out = out or {}
  if type(tbl) ~= "table" then
    out[#out + 1] = tbl
    return out
  end
  for i = 1, #tbl do T.flatten(tbl[i], out) end
  return out
end

-- Inverse of flatten for a given shape.
function T.unflatten(flat, shape)
  local pos = 0
  local function build(d)
    local t = {}
    for i = 1, shape[d] do
      if d == #shape then
        pos = pos + 1
        t[i] = flat[pos]
      else
        t[i] = build(d + 1)
      end
    end
    return t
  end
  if #shape == 0 then return flat[1] end
  return build(1)
end

function T.numel(shape)
  local n = 1
  for i = 1, #shape do n = n * shape[i] end
  return n
end

-- Nested table of the given shape filled by f(i1, i2, ...) (1-based indices).
function T.build(shape, f)
  local idx = {}
  local function rec(d)
    local t = {}
    for i = 1, shape[d] do
      idx[d] = i
      if d == #shape then t[i] = f(table.unpack(idx, 1, #shape)) else t[i] = rec(d + 1) end
    end
    return t
  end
  return rec(1)
end

-- Random float32 values in [lo, hi) (default [-1, 1)) from Lua's own generator,
-- seeded by each test, so references never depend on attn.rand.
function T.rtable(shape, lo, hi)
  lo, hi = lo or -1, hi or 1
  return T.build(shape, function() return T.f32(lo + (hi - lo) * math.random()) end)
end

-- Fibers along one dimension of a nested table: the lists of values you get
-- by fixing every index but dim. map_fibers(tbl, dim, f) replaces each fiber by
-- f(fiber) (a list of the same length); reduce_fibers(tbl, dim, f) replaces it by
-- the number f(fiber), dropping dim (a 1-D table reduces to a number).
local function fibers(tbl, dim)
  local shape = T.shape_of(tbl)
  local flat = T.flatten(tbl)
  local stride = 1
  for d = #shape, dim + 1, -1 do stride = stride * shape[d] end
  local n = shape[dim]
  local outer = T.numel(shape) // (n * stride)
  local list = {}
  for o = 0, outer - 1 do
    for i = 0, stride - 1 do
      local pos, fib = {}, {}
      for k = 0, n - 1 do
        pos[k + 1] = o * n * stride + k * stride + i + 1
        fib[k + 1] = flat[pos[k + 1]]
      end
      list[#list + 1] = {pos = pos, values = fib}
    end
  end
  return list, shape, flat
end

function T.map_fibers(tbl, dim, f)
  local list, shape, flat = fibers(tbl, dim)
  local out = {}
  for _, fb in ipairs(list) do
    local r = f(fb.values)
    for k, p in ipairs(fb.pos) do out[p] = r[k] end
  end
  assert(#out == #flat)
  return T.unflatten(out, shape)
end

function T.reduce_fibers(tbl, dim, f)
  local list, shape = fibers(tbl, dim)
  local out = {}
  for i, fb in ipairs(list) do out[i] = f(fb.values) end
  local rshape = {}
  for d = 1, #shape do if d ~= dim then rshape[#rshape + 1] = shape[d] end end
  return T.unflatten(out, rshape)
end

-- A number from a number or a one-element tensor (reductions with no dim).
function T.num(x)
  if type(x) == "number" then return x end
  return x:item()
end

local function is_tensor(x)
  return type(x) == "userdata" and getmetatable(x) ~= nil
end
T.is_tensor = is_tensor

local function shape_str(s) return "[" .. table.concat(s, ",") .. "]" end
T.shape_str = shape_str

-- tensor_near(t, want, tol, name): t (a tensor, or a nested table) holds the
-- values of the nested table want, with want's shape. want may be a number for a
-- one-element tensor. Diagnostics give the first mismatching index.
function T.tensor_near(t, want, tol, name)
  tol = tol or 1e-5
  if type(want) == "number" then
    local okc, got = pcall(T.num, t)
    if not okc then return T.fail(name, "item() failed: " .. tostring(got)) end
    local pass = emit(close(got, want, tol), name)
    if not pass then diag(("got %s expected %s (tol %g)"):format(fmt(got), fmt(want), tol)) end
    return pass
  end
  local got_tbl, got_shape = t, nil
  if is_tensor(t) then
    local ok1, s = pcall(function() return t:shape() end)
    local ok2, tb = pcall(function() return t:table() end)
    if not (ok1 and ok2) then
      return T.fail(name, "shape()/table() failed: " .. tostring(ok1 and tb or s))
    end
    got_shape, got_tbl = s, tb
  elseif type(t) ~= "table" then
    return T.fail(name, "not a tensor or table: " .. tostring(t))
  else
    got_shape = T.shape_of(t)
  end
  local want_shape = T.shape_of(want)
  if not deep_eq(got_shape, want_shape) then
    return T.fail(name, ("shape %s expected %s"):format(shape_str(got_shape),
                                                          shape_str(want_shape)))
  end
  local g, w = T.flatten(got_tbl), T.flatten(want)
  if #g ~= #w then
    return T.fail(name, ("%d values for %d expected"):format(#g, #w))
  end
  local bad, first = 0, nil
  for i = 1, #w do
    if not close(g[i], w[i], tol) then
      bad = bad + 1
      first = first or i
    end
  end
  local pass = emit(bad == 0, name)
  if not pass then
    -- multi-index of the first bad flat position
    local idx, rem = {}, first - 1
    for d = #want_shape, 1, -1 do
      idx[d] = rem % want_shape[d] + 1
      rem = rem // want_shape[d]
    end
    diag(("%d of %d differ (tol %g); first at (%s): got %s expected %s"):format(
      bad, #w, tol, table.concat(idx, ","), fmt(g[first]), fmt(w[first])))
  end
  return pass
end

-- raises(fn, pattern, name): fn must raise; the message must contain pattern,
-- tried first as a plain substring and then as a Lua pattern. pattern may be a
-- list: every entry must match. Returns the message (or nil) for further checks.
local function matches(msg, pat)
  if msg:find(pat, 1, true) then return true end
  local okp, r = pcall(string.find, msg, pat)
  return okp and r ~= nil
end

function T.raises(fn, pattern, name)
  local okc, err = pcall(fn)
  if okc then
    T.fail(name, "no error raised")
    return nil
  end
  local msg = tostring(err)
  local pats = type(pattern) == "table" and pattern or { pattern }
  local missing = {}
  for _, p in ipairs(pats) do
    if not matches(msg, p) then missing[#missing + 1] = ("%q"):format(p) end
  end
  local pass = emit(#missing == 0, name)
  if pass and os.getenv("TAP_VERBOSE") then diag("message: " .. msg) end
  if not pass then
    diag("message: " .. msg)
    diag("missing: " .. table.concat(missing, ", "))
  end
  return msg
end

-- lives(fn, name): fn runs without raising; returns its first result.
function T.lives(fn, name)
  local okc, r = pcall(fn)
  emit(okc, name)
  if not okc then diag("raised: " .. tostring(r)) end
  return okc and r or nil
end

function T.skip(name, reason)
  count = count + 1
  io.write("ok ", count, " - ", tostring(name or ""):gsub("#", "\\#"),
           " # SKIP ", reason or "", "\n")
end

-- section(name, fn): run a group of checks; an error escaping it is one failure
-- (with a traceback) and the script carries on.
function T.section(name, fn)
  local okc, err = xpcall(fn, debug.traceback)
  if not okc then T.fail(name .. ": raised an error", tostring(err)) end
end

return T
