-- tensor_math.lua: elementwise arithmetic with numpy broadcasting (+ - * / and
-- unary minus, tensors and numbers on either side), the unary functions (exp,
-- log, sqrt, pow, abs, tanh, sigmoid, relu, gelu), softmax, norm, allclose.
--
-- References are computed in double precision by plain Lua over tables whose
-- values are already float32, so the tolerance only has to absorb the
-- library's float32 rounding: 1e-5 * (1 + |expected|) unless said otherwise.

local T = dofile((os.getenv("ATTNLAB_PATH") or ".") .. "/tests/lua/tap.lua")
local attn = attn or require "attn"
math.randomseed(31337)

local TOL = 1e-5

-- ---- independent references ------------------------------------------------

-- numpy broadcasting of two shapes, right-aligned; nil if incompatible
local function bshape(sa, sb)
  local n, out = math.max(#sa, #sb), {}
  for i = 1, n do
    local a = sa[#sa - n + i] or 1
    local b = sb[#sb - n + i] or 1
    if a ~= b and a ~= 1 and b ~= 1 then return nil end
    out[i] = math.max(a, b)
    if a == 0 or b == 0 then out[i] = 0 end
  end
  return out
end

-- element of nested table tbl (shape s) seen through broadcasting at the
-- output index idx (of length n >= #s)
local function bget(tbl, s, idx)
  local v, n = tbl, #idx
  for d = 1, #s do
    local i = idx[n - #s + d]
    v = v[s[d] == 1 and 1 or i]
  end
  return v
end

-- a op b for nested tables or numbers, broadcast like numpy
local function bop(a, b, f)
  local sa = type(a) == "table" and T.shape_of(a) or {}
  local sb = type(b) == "table" and T.shape_of(b) or {}
  local out = assert(bshape(sa, sb))
  local ga = type(a) == "table" and a or {}
  local gb = type(b) == "table" and b or {}
  return T.build(out, function(...)
    local idx = {...}
    local x = type(a) == "table" and bget(ga, sa, idx) or a
    local y = type(b) == "table" and bget(gb, sb, idx) or b
    return f(x, y)
  end)
end

local function map(tbl, f)
  if type(tbl) ~= "table" then return f(tbl) end
  local out = {}
  for i = 1, #tbl do out[i] = map(tbl[i], f) end
  return out
end

local add = function(x, y) return x + y end
local sub = function(x, y) return x - y end
local mul = function(x, y) return x * y end
local div = function(x, y) return x / y end

-- tanh from exp, safe for large |x| (Lua 5.4 has no math.tanh)
local function tanh(x)
  if x > 20 then return 1 elseif x < -20 then return -1 end
  local e = math.exp(2 * x)
  return (e - 1) / (e + 1)
end

local function sigmoid(x)
  if x >= 0 then return 1 / (1 + math.exp(-x)) end
  local e = math.exp(x)
  return e / (1 + e)
end

-- erf, written here so the gelu reference does not depend on any library:
-- |x| <= 3: the Maclaurin series erf(x) = 2/sqrt(pi) * sum (-1)^n x^(2n+1) /
-- (n! (2n+1)), summed until the term is below 1e-17 (at x = 3 the largest term
-- is ~1e2, so cancellation costs at most ~1e-14);
-- |x| > 3: erfc(x) = exp(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...))))
-- (the Laplace continued fraction), evaluated bottom-up with 80 levels, which
-- converges to double precision for x >= 3.
local SQRTPI = math.sqrt(math.pi)
local function erf(x)
  local ax = math.abs(x)
  if ax <= 3 then
    local sum, term, n = 0, x, 0 -- term = (-1)^n x^(2n+1) / n!
    repeat
      local c = term / (2 * n + 1)
      sum = sum + c
      n = n + 1
      term = -term * x * x / n
    until math.abs(c) < 1e-17 * math.max(1, math.abs(sum)) and n > 2
    return 2 / SQRTPI * sum
  end
  local f = ax
  for k = 80, 1, -1 do f = ax + (k / 2) / f end
  local erfc = math.exp(-ax * ax) / SQRTPI / f
  return x > 0 and 1 - erfc or erfc - 1
end

-- exact gelu: x * Phi(x) = x/2 * (1 + erf(x / sqrt 2))
local function gelu(x) return 0.5 * x * (1 + erf(x / math.sqrt(2))) end

-- softmax of a list, max subtracted first
local function softmax_list(l)
  local m = -math.huge
  for _, v in ipairs(l) do m = math.max(m, v) end
  local s, out = 0, {}
  for i, v in ipairs(l) do out[i] = math.exp(v - m); s = s + out[i] end
  for i = 1, #out do out[i] = out[i] / s end
  return out
end

-- ---- tests --------------------------------------------------------------------

T.section("the erf reference itself", function()
  -- published values (Abramowitz & Stegun table 7.1 / any erf table)
  T.near(erf(0.5), 0.5204998778130465, 1e-14, "erf(0.5)")
  T.near(erf(1), 0.8427007929497149, 1e-14, "erf(1)")
  T.near(erf(2), 0.9953222650189527, 1e-14, "erf(2)")
  T.near(1 - erf(3), 2.209049699858544e-05, 1e-9, "erfc(3) by the series")
  T.near(1 - erf(3.5), 7.430983723414128e-07, 1e-9, "erfc(3.5) by the continued fraction")
  T.near(erf(-1), -0.8427007929497149, 1e-14, "erf is odd")
end)

T.section("same-shape arithmetic", function()
  local ra, rb = T.rtable({3, 4}), T.rtable({3, 4}, 0.5, 2)
  local a, b = attn.tensor(ra), attn.tensor(rb)
  T.tensor_near(a + b, bop(ra, rb, add), TOL, "a + b")
  T.tensor_near(a - b, bop(ra, rb, sub), TOL, "a - b")
  T.tensor_near(a * b, bop(ra, rb, mul), TOL, "a * b")
  T.tensor_near(a / b, bop(ra, rb, div), TOL, "a / b")
  T.tensor_near(-a, map(ra, function(x) return -x end), 0, "-a")
  T.tensor_near(a, ra, 0, "operands are not modified")
  -- hand-checked small case: {1,2}+{10,20} = {11,22}; {1,2}*{10,20} = {10,40}
  local p, q = attn.tensor({1, 2}), attn.tensor({10, 20})
  T.is((p + q):table(), {11, 22}, "by hand: {1,2}+{10,20}")
  T.is((p * q):table(), {10, 40}, "by hand: {1,2}*{10,20}")
  T.is((q / p):table(), {10, 10}, "by hand: {10,20}/{1,2}")
  T.is((p - q):table(), {-9, -18}, "by hand: {1,2}-{10,20}")
  -- 3-D
  local r3a, r3b = T.rtable({2, 3, 4}), T.rtable({2, 3, 4})
  T.tensor_near(attn.tensor(r3a) * attn.tensor(r3b), bop(r3a, r3b, mul), TOL, "3-D a * b")
  -- a result is a new tensor
  local s = p + q
  s:set(1, 0)
  T.is(p:get(1), 1, "a + b does not write into a")
end)

T.section("numbers on either side", function()
  local ra = T.rtable({2, 5}, 0.5, 3)
  local a = attn.tensor(ra)
  T.tensor_near(a + 2, bop(ra, 2, add), TOL, "tensor + number")
  T.tensor_near(2 + a, bop(2, ra, add), TOL, "number + tensor")
  T.tensor_near(a - 2, bop(ra, 2, sub), TOL, "tensor - number")
  T.tensor_near(2 - a, bop(2, ra, sub), TOL, "number - tensor")
  T.tensor_near(a * -3, bop(ra, -3, mul), TOL, "tensor * number")
  T.tensor_near(-3 * a, bop(-3, ra, mul), TOL, "number * tensor")
  T.tensor_near(a / 4, bop(ra, 4, div), TOL, "tensor / number")
  T.tensor_near(1 / a, bop(1, ra, div), TOL, "number / tensor")
  T.tensor_near(a * 0.5 + 1, map(ra, function(x) return x * 0.5 + 1 end), TOL,
                "an expression a*0.5+1")
  T.tensor_near(-(a - 1), map(ra, function(x) return 1 - x end), TOL, "-(a - 1)")
  -- integers as well as floats
  T.is((attn.tensor({1, 2}) + 1):table(), {2, 3}, "by hand: {1,2} + 1 (integer)")
end)

T.section("broadcasting", function()
  local cases = {
    {{2, 3}, {3}},
    {{2, 1}, {1, 3}},
    {{4, 1, 3}, {2, 3}},
    {{3}, {2, 3}},
    {{1}, {2, 3}},
    {{2, 3}, {1}},
    {{5, 1, 4, 1}, {3, 1, 2}},
    {{1, 1}, {4, 1, 2}},
  }
  for _, c in ipairs(cases) do
    local ra, rb = T.rtable(c[1]), T.rtable(c[2], 0.5, 2)
    local a, b = attn.tensor(ra), attn.tensor(rb)
    local tag = T.shape_str(c[1]) .. " op " .. T.shape_str(c[2])
    T.tensor_near(a + b, bop(ra, rb, add), TOL, tag .. " +")
    T.tensor_near(a - b, bop(ra, rb, sub), TOL, tag .. " -")
    T.tensor_near(a * b, bop(ra, rb, mul), TOL, tag .. " *")
    T.tensor_near(a / b, bop(ra, rb, div), TOL, tag .. " /")
  end
  -- by hand: [2,1] {{1},{2}} + [1,3] {{10,20,30}} = {{11,21,31},{12,22,32}}
  T.is((attn.tensor({{1}, {2}}) + attn.tensor({{10, 20, 30}})):table(),
       {{11, 21, 31}, {12, 22, 32}}, "by hand: [2,1] + [1,3] is [2,3]")
  -- by hand: [2,3] - [3]: each row minus {1,2,3}
  T.is((attn.tensor({{1, 2, 3}, {4, 5, 6}}) - attn.tensor({1, 2, 3})):table(),
       {{0, 0, 0}, {3, 3, 3}}, "by hand: [2,3] - [3]")
  -- a one-element tensor from a reduction broadcasts like a scalar:
  -- sum of {1,2,3} = 6; {{1,2},{3,4}} * 6
  local six = attn.tensor({1, 2, 3}):sum()
  T.is((attn.tensor({{1, 2}, {3, 4}}) * six):table(), {{6, 12}, {18, 24}},
       "a reduction result (one element) broadcasts as a scalar")
  T.is((six * attn.tensor({{1, 2}, {3, 4}})):table(), {{6, 12}, {18, 24}},
       "... on the left too")
  -- a 0-d tensor made from a number is a scalar too
  T.is((attn.tensor({{1, 2}, {3, 4}}) - attn.tensor(1)):table(), {{0, 1}, {2, 3}},
       "[2,2] - 0-d tensor(1)")
  -- big operands with odd sizes: work split over threads must cover every
  -- element exactly once ([999,1] x [1,1001] is 999999 elements)
  local rc, rr = T.rtable({999, 1}), T.rtable({1, 1001})
  T.tensor_near(attn.tensor(rc) * attn.tensor(rr), bop(rc, rr, mul), TOL,
                "[999,1] * [1,1001] (a million elements)")
  local rl1, rl2 = T.rtable({1000003}), T.rtable({1000003})
  T.tensor_near(attn.tensor(rl1) - attn.tensor(rl2), bop(rl1, rl2, sub), TOL,
                "[1000003] - [1000003]")
  -- operands that are views: transposed and narrowed
  local r = T.rtable({3, 4})
  local x = attn.tensor(r)
  local xt = T.build({4, 3}, function(i, j) return r[j][i] end)
  local rb = T.rtable({4, 3})
  T.tensor_near(x:T() + attn.tensor(rb), bop(xt, rb, add), TOL, "transposed view + tensor")
  local xn = T.build({3, 2}, function(i, j) return r[i][j + 1] end)
  T.tensor_near(x:narrow(2, 2, 2) * attn.tensor({{2, 3}}), bop(xn, {{2, 3}}, mul), TOL,
                "narrowed view * [1,2]")
  T.tensor_near(x:select(2, 4) * x:select(1, 3):narrow(1, 1, 3),
                bop(T.build({3}, function(i) return r[i][4] end),
                    T.build({3}, function(i) return r[3][i] end), mul),
                TOL, "select * select of the same tensor")
end)

T.section("unary functions", function()
  local r = T.rtable({4, 5}, -3, 3)
  local pos = T.rtable({3, 4}, 0.01, 5)
  local x, p = attn.tensor(r), attn.tensor(pos)
  T.tensor_near(x:exp(), map(r, math.exp), TOL, "exp")
  T.tensor_near(p:log(), map(pos, math.log), TOL, "log")
  T.tensor_near(p:sqrt(), map(pos, math.sqrt), TOL, "sqrt")
  T.tensor_near(x:abs(), map(r, math.abs), 0, "abs")
  T.tensor_near(x:tanh(), map(r, tanh), TOL, "tanh")
  T.tensor_near(x:sigmoid(), map(r, sigmoid), TOL, "sigmoid")
  T.tensor_near(x:relu(), map(r, function(v) return v > 0 and v or 0 end), 0, "relu")
  T.tensor_near(x:gelu(), map(r, gelu), TOL, "gelu (exact erf form)")
  for _, pw in ipairs({2, 3, 0.5, -1, 1.7}) do
    T.tensor_near(p:pow(pw), map(pos, function(v) return v ^ pw end), TOL,
                  ("pow(%g)"):format(pw))
  end
  T.tensor_near(x:pow(2), map(r, function(v) return v * v end), TOL, "pow(2) of negatives")
  -- the tanh approximation of gelu differs from the exact form by ~1e-4 near
  -- |x| = 2, more than TOL: gelu(2) = 2*Phi(2) = 1.9544997361 (exact)
  T.near(attn.tensor({2}):gelu():item(), 1.9544997361036416, TOL,
         "gelu(2) is the exact erf form, not the tanh approximation")
  T.near(attn.tensor({-1}):gelu():item(), -0.15865525393145707, TOL, "gelu(-1) = -Phi(-1)")
  -- by hand: relu{-1,0,2} = {0,0,2}; abs{-1.5,2} = {1.5,2}; sqrt{4,9} = {2,3}
  T.is(attn.tensor({-1, 0, 2}):relu():table(), {0, 0, 2}, "by hand: relu")
  T.is(attn.tensor({-1.5, 2}):abs():table(), {1.5, 2}, "by hand: abs")
  T.is(attn.tensor({4, 9}):sqrt():table(), {2, 3}, "by hand: sqrt")
  T.is(attn.tensor({0}):exp():item(), 1, "by hand: exp(0) = 1")
  T.is(attn.tensor({1}):log():item(), 0, "by hand: log(1) = 0")
  -- on a non-contiguous view
  local rt = T.build({5, 4}, function(i, j) return r[j][i] end)
  T.tensor_near(x:T():exp(), map(rt, math.exp), TOL, "exp of a transposed view")
  T.tensor_near(x:T():gelu(), map(rt, gelu), TOL, "gelu of a transposed view")
  -- long odd-sized input for the vectorised / threaded paths
  local rbig = T.rtable({100003}, -8, 8)
  local xb = attn.tensor(rbig)
  T.tensor_near(xb:exp(), map(rbig, math.exp), TOL, "exp of 100003 values")
  T.tensor_near(xb:tanh(), map(rbig, tanh), TOL, "tanh of 100003 values")
  T.tensor_near(xb:sigmoid(), map(rbig, sigmoid), TOL, "sigmoid of 100003 values")
  T.tensor_near(xb:gelu(), map(rbig, gelu), TOL, "gelu of 100003 values")
  -- extremes: no nan where the true value is finite or a clean infinity
  T.is(attn.tensor({-1000, 1000}):sigmoid():table(), {0, 1}, "sigmoid(+-1000) = 0, 1")
  T.is(attn.tensor({-1000, 1000}):tanh():table(), {-1, 1}, "tanh(+-1000) = -1, 1")
  T.tensor_near(attn.tensor({-1000, 1000}):gelu(), {0, 1000}, TOL, "gelu(+-1000) = 0, 1000")
  T.is(attn.tensor({100}):exp():item(), math.huge, "exp(100) overflows float32 to inf")
  T.is(attn.tensor({0}):log():item(), -math.huge, "log(0) = -inf")
  local nan = attn.tensor({-1}):sqrt():item()
  T.ok(nan ~= nan, "sqrt(-1) is nan")
end)

T.section("softmax", function()
  local r = T.rtable({3, 5}, -4, 4)
  local x = attn.tensor(r)
  local s2 = x:softmax(2)
  T.tensor_near(s2, T.map_fibers(r, 2, softmax_list), TOL, "softmax(2) of [3,5]")
  local ok_rows = true
  for i = 1, 3 do
    local s = 0
    for j = 1, 5 do s = s + s2:get(i, j) end
    if math.abs(s - 1) > 1e-5 then ok_rows = false end
  end
  T.ok(ok_rows, "softmax(2): every row sums to 1")
  T.tensor_near(x:softmax(1), T.map_fibers(r, 1, softmax_list), TOL, "softmax(1) of [3,5]")
  local r3 = T.rtable({2, 3, 4}, -5, 5)
  local c = attn.tensor(r3)
  for d = 1, 3 do
    T.tensor_near(c:softmax(d), T.map_fibers(r3, d, softmax_list), TOL,
                  ("softmax(%d) of [2,3,4]"):format(d))
  end
  T.tensor_near(attn.tensor({1, 2, 3}):softmax(1), softmax_list({1, 2, 3}), TOL,
                "softmax of a 1-D tensor")
  -- stability: softmax(1000,1001,1002) = softmax(0,1,2) =
  -- {1, e, e^2} / (1 + e + e^2) = {0.0900306, 0.2447285, 0.6652410}
  local want = {0.09003057317038046, 0.24472847105479767, 0.6652409557748219}
  T.tensor_near(attn.tensor({1000, 1001, 1002}):softmax(1), want, TOL,
                "softmax(1000,1001,1002) is stable")
  T.tensor_near(attn.tensor({-1002, -1001, -1000}):softmax(1), want, TOL,
                "softmax(-1002,-1001,-1000) is stable")
  T.tensor_near(attn.tensor({{1000, 1001, 1002}, {0, 1, 2}}):softmax(2), {want, want}, TOL,
                "softmax rows with large and small values")
  -- a dim of size 1: every weight is 1
  T.is(attn.tensor({{3}, {-7}}):softmax(2):table(), {{1}, {1}}, "softmax over a size-1 dim is 1")
  -- long rows (threads, vector loops with a remainder): 3 x 1027
  local rlong = T.rtable({3, 1027}, -10, 10)
  T.tensor_near(attn.tensor(rlong):softmax(2), T.map_fibers(rlong, 2, softmax_list), TOL,
                "softmax(2) of [3,1027]")
  -- -inf entries (masking) get weight 0; the rest is a normal softmax
  T.tensor_near(attn.tensor({0, -math.huge, 0}):softmax(1), {0.5, 0, 0.5}, TOL,
                "softmax with -inf gives it weight 0")
  -- a fully masked row has no distribution: zeros; a NaN anywhere gives NaN
  -- (rows of 20 take the eight-lane path with a tail)
  local rows = T.rtable({3, 20}, -5, 5)
  for j = 1, 20 do rows[2][j] = -math.huge end
  rows[3][13] = 0 / 0
  local sm = attn.tensor(rows):softmax(2):table()
  T.tensor_near(attn.tensor(sm[1]), softmax_list(rows[1]), TOL, "a normal row beside them")
  local zeros, nans = true, true
  for j = 1, 20 do
    zeros = zeros and sm[2][j] == 0
    nans = nans and sm[3][j] ~= sm[3][j]
  end
  T.ok(zeros, "softmax of an all -inf row is all zeros")
  T.ok(nans, "softmax of a row holding a NaN is all NaN")
  -- many rows, so the slices are shared out in several chunks: 300 x 301
  local many = T.rtable({300, 301}, -3, 3)
  T.tensor_near(attn.tensor(many):softmax(2), T.map_fibers(many, 2, softmax_list), TOL,
                "softmax(2) of [300, 301]")
  -- transposed view: softmax(2) of x:T() is softmax(1) of x, transposed
  local xt = T.build({5, 3}, function(i, j) return r[j][i] end)
  T.tensor_near(x:T():softmax(2), T.map_fibers(xt, 2, softmax_list), TOL,
                "softmax of a transposed view")
end)

T.section("norm", function()
  -- by hand: norm of {3,4} = 5; norm of {{1,2},{2,4}} = sqrt(1+4+4+16) = 5
  T.near(T.num(attn.tensor({3, 4}):norm()), 5, TOL, "norm{3,4} = 5")
  T.near(T.num(attn.tensor({{1, 2}, {2, 4}}):norm()), 5, TOL, "Frobenius norm of a 2x2")
  local r = T.rtable({4, 3, 5})
  local s = 0
  for _, v in ipairs(T.flatten(r)) do s = s + v * v end
  T.near(T.num(attn.tensor(r):norm()), math.sqrt(s), TOL, "norm of a random 3-D tensor")
  T.near(T.num(attn.tensor(r):transpose(1, 3):norm()), math.sqrt(s), TOL,
         "norm of a transposed view")
  T.near(T.num(attn.zeros(3):norm()), 0, 0, "norm of zeros is 0")
  -- no overflow in the squares: norm{3e20, 4e20} = 5e20 (3e20^2 overflows float32)
  T.near(T.num(attn.tensor({3e20, 4e20}):norm()), 5e20, 1e-5,
         "norm does not overflow for large elements")
end)

T.section("allclose", function()
  local r = T.rtable({3, 3})
  local a = attn.tensor(r)
  T.is(attn.allclose(a, a:clone()), true, "allclose(a, a) is true")
  T.is(attn.allclose(a, a + 0.1), false, "allclose(a, a + 0.1) is false")
  T.is(attn.allclose(a, a + 0.1, 0.5), true, "allclose(a, a + 0.1, 0.5) is true")
  T.is(attn.allclose(a, a + 1e-3, 1e-2), true, "a tolerance of 1e-2 accepts 1e-3")
  T.is(attn.allclose(a, a + 1e-3, 1e-5), false, "a tolerance of 1e-5 rejects 1e-3")
  T.is(attn.allclose(a:T(), attn.tensor(T.build({3, 3}, function(i, j) return r[j][i] end))),
       true, "allclose on a transposed view")
  local b = a:clone()
  b:set(3, 3, b:get(3, 3) + 1)
  T.is(attn.allclose(a, b), false, "one differing element makes allclose false")
end)

T.done_testing()
