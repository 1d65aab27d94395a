-- tensor_create.lua: making tensors (attn.tensor, zeros, ones, full, eye,
-- arange, rand, randn, seed) and reading them back (shape, size, dim, numel,
-- device, get, set, item, table, #t, to).
--
-- Expected values are written by hand in comments or built by plain Lua loops;
-- statistical bounds for rand/randn are derived next to each check.

local T = dofile((os.getenv("ATTNLAB_PATH") or ".") .. "/tests/lua/tap.lua")
local attn = attn or require "attn"
math.randomseed(20240601)

T.section("attn.tensor from nested tables", function()
  local t = attn.tensor({{1, 2}, {3, 4}})
  T.is(t:shape(), {2, 2}, "tensor 2-D shape")
  T.is(t:dim(), 2, "tensor 2-D dim")
  T.is(t:numel(), 4, "tensor 2-D numel")
  -- by hand: row-major, 1-based: (1,1)=1 (1,2)=2 (2,1)=3 (2,2)=4
  T.is(t:get(1, 1), 1, "get(1,1) is the first element")
  T.is(t:get(1, 2), 2, "get(1,2) walks the row")
  T.is(t:get(2, 1), 3, "get(2,1) is the second row")
  T.is(t:table(), {{1, 2}, {3, 4}}, "table() gives the nested tables back")

  local v = attn.tensor({5, 6, 7})
  T.is(v:shape(), {3}, "tensor 1-D shape")
  T.is(v:dim(), 1, "tensor 1-D dim")
  T.is(v:table(), {5, 6, 7}, "tensor 1-D table")
  T.is(v:get(3), 7, "tensor 1-D get(3)")

  local c = attn.tensor({{{1, 2, 3}, {4, 5, 6}}, {{7, 8, 9}, {10, 11, 12}}})
  T.is(c:shape(), {2, 2, 3}, "tensor 3-D shape")
  T.is(c:numel(), 12, "tensor 3-D numel")
  -- by hand: element (2,1,3) = block 2, row 1, column 3 = 9
  T.is(c:get(2, 1, 3), 9, "tensor 3-D get(2,1,3)")
  T.is(c:get(1, 2, 1), 4, "tensor 3-D get(1,2,1)")
  T.is(c:table(), {{{1, 2, 3}, {4, 5, 6}}, {{7, 8, 9}, {10, 11, 12}}}, "tensor 3-D table")

  -- a random 4-D table round-trips exactly (values are float32 already)
  local r = T.rtable({2, 3, 1, 4})
  T.tensor_near(attn.tensor(r), r, 0, "tensor 4-D random round trip is exact")

  -- storage is float32: 0.1 becomes the float32 nearest 0.1, not the double
  local f = attn.tensor({0.1, 1 / 3})
  T.is(f:get(1), T.f32(0.1), "values are stored as float32 (0.1)")
  T.is(f:get(2), T.f32(1 / 3), "values are stored as float32 (1/3)")

  local d = attn.tensor({{1, 2}}, {device = "cpu"})
  T.is(d:device(), "cpu", "tensor(tbl, {device='cpu'}) is on the cpu")
  T.is(d:shape(), {1, 2}, "tensor(tbl, opts) keeps the shape")
end)

T.section("attn.tensor rejects bad tables", function()
  T.raises(function() return attn.tensor({{1, 2}, {3}}) end, "tensor",
           "ragged rows are an error naming tensor")
  T.raises(function() return attn.tensor({{1, 2}, 3}) end, "tensor",
           "a number where a row is expected is an error")
  T.raises(function() return attn.tensor({{{1}, {2}}, {{3}, {4, 5}}}) end, "tensor",
           "ragged at depth 3 is an error")
  T.raises(function() return attn.tensor({1, "x", 3}) end, "tensor",
           "a string element is an error")
  T.raises(function() return attn.tensor("abc") end, "bad argument",
           "a string instead of a table is a bad argument")
end)

T.section("zeros, ones, full, eye", function()
  local z = attn.zeros(2, 3)
  T.is(z:shape(), {2, 3}, "zeros(2,3) shape")
  T.is(z:table(), {{0, 0, 0}, {0, 0, 0}}, "zeros(2,3) values")
  T.is(attn.zeros(4):table(), {0, 0, 0, 0}, "zeros(4) is 1-D")
  T.is(attn.zeros(2, 1, 2):table(), {{{0, 0}}, {{0, 0}}}, "zeros(2,1,2) is 3-D")

  local o = attn.ones(2, 3)
  T.is(o:shape(), {2, 3}, "ones(2,3) shape")
  T.is(o:table(), {{1, 1, 1}, {1, 1, 1}}, "ones(2,3) values")

  local f = attn.full({2, 3}, 7)
  T.is(f:shape(), {2, 3}, "full({2,3},7) shape")
  T.is(f:table(), {{7, 7, 7}, {7, 7, 7}}, "full({2,3},7) values")
  T.is(attn.full({3}, -2.5):table(), {-2.5, -2.5, -2.5}, "full({3},-2.5)")

  for _, n in ipairs({1, 4, 7}) do
    local e = attn.eye(n)
    T.is(e:shape(), {n, n}, ("eye(%d) shape"):format(n))
    -- reference: 1 where i == j, else 0
    local want = T.build({n, n}, function(i, j) return i == j and 1 or 0 end)
    T.is(e:table(), want, ("eye(%d) is the identity"):format(n))
  end
end)

-- arange follows numpy/PyTorch: values a, a+step, ... strictly before b;
-- arange(n) = arange(0, n, 1). The count is ceil((b - a) / step).
T.section("arange", function()
  T.is(attn.arange(5):table(), {0, 1, 2, 3, 4}, "arange(5) = 0..4")
  T.is(attn.arange(1):table(), {0}, "arange(1) = {0}")
  T.is(attn.arange(2, 5):table(), {2, 3, 4}, "arange(2,5) = 2,3,4 (step 1)")
  T.is(attn.arange(2, 11, 3):table(), {2, 5, 8}, "arange(2,11,3): 11 excluded")
  T.is(attn.arange(2, 12, 3):table(), {2, 5, 8, 11}, "arange(2,12,3): ceil(10/3)=4 values")
  -- negative step: 5, 3.5, 2, 0.5 (ceil(5/1.5) = 4 values, all > 0)
  T.tensor_near(attn.arange(5, 0, -1.5), {5, 3.5, 2, 0.5}, 1e-6, "arange(5,0,-1.5)")
  T.tensor_near(attn.arange(3, -3, -2), {3, 1, -1}, 1e-6, "arange(3,-3,-2)")
  -- fractional step: 0, 0.25, 0.5, 0.75 (exact in binary)
  T.is(attn.arange(0, 1, 0.25):table(), {0, 0.25, 0.5, 0.75}, "arange(0,1,0.25)")
  -- 0.3 is not exact: ceil(1/0.3) = 4 values 0, .3, .6, .9 within float32 rounding
  local a = attn.arange(0, 1, 0.3)
  T.is(a:numel(), 4, "arange(0,1,0.3) has 4 values")
  T.tensor_near(a, {0, 0.3, 0.6, 0.9}, 1e-6, "arange(0,1,0.3) values")
  -- a long fractional range: element i (1-based) is a + (i-1)*step; a library
  -- that accumulates step in float32 drifts visibly by the end
  local n = 1000
  local l = attn.arange(-1, -1 + n * 0.01 - 0.005, 0.01)
  T.is(l:numel(), n, "arange(-1, 8.995, 0.01) has 1000 values")
  local want = {}
  for i = 1, n do want[i] = -1 + (i - 1) * 0.01 end
  T.tensor_near(l, want, 1e-6, "arange with step 0.01 does not drift")
end)

T.section("rand, randn, seed", function()
  local r = attn.rand(2, 3)
  T.is(r:shape(), {2, 3}, "rand(2,3) shape")
  T.is(attn.randn(4, 1, 2):shape(), {4, 1, 2}, "randn(4,1,2) shape")

  attn.seed(42)
  local a = attn.rand(1000):table()
  local an = attn.randn(50):table()
  attn.seed(42)
  local b = attn.rand(1000):table()
  local bn = attn.randn(50):table()
  T.is(a, b, "seed(42) twice gives the same rand numbers")
  T.is(an, bn, "seed(42) twice gives the same randn numbers")
  attn.seed(43)
  local c = attn.rand(1000):table()
  T.isnt(c, a, "seed(43) gives other numbers than seed(42)")
  local again = attn.rand(1000):table()
  T.isnt(again, c, "successive draws differ")

  -- Draws are shared by the thread pool in chunks of blocks: the numbers
  -- must not depend on the thread count (an odd length tests the tail).
  local threads = attn.threads()
  local draws = {}
  for _, n in ipairs({1, 3}) do
    attn.threads(n)
    attn.seed(11)
    draws[n] = {attn.rand(300001), attn.randn(300003), attn.randn(5)}
  end
  attn.threads(threads)
  for i, what in ipairs({"rand", "randn", "the draw after"}) do
    T.ok(attn.allclose(draws[1][i], draws[3][i], 0, 0),
         what .. ": the same numbers on 1 and 3 threads")
  end

  -- rand: every value in [0,1). Over n = 1e5 uniform draws the mean has
  -- standard error sqrt(1/12/n) = 9.1e-4; 6 standard errors = 0.0055.
  attn.seed(7)
  local n = 100000
  local u = attn.rand(n):table()
  local lo, hi, s = math.huge, -math.huge, 0
  for i = 1, n do
    local x = u[i]
    if x < lo then lo = x end
    if x > hi then hi = x end
    s = s + x
  end
  T.ok(lo >= 0 and hi < 1, "rand values lie in [0,1)", ("min %g max %g"):format(lo, hi))
  T.near(s / n, 0.5, 0.0055, "rand mean is 1/2 within 6 standard errors")
  -- quarter buckets: each holds 1/4 of draws, sd sqrt(n/4*3/4) = 137; 6 sd = 822
  local bucket = {0, 0, 0, 0}
  for i = 1, n do
    local k = math.floor(u[i] * 4) + 1
    bucket[k] = (bucket[k] or 0) + 1
  end
  local worst = 0
  for k = 1, 4 do worst = math.max(worst, math.abs(bucket[k] - n / 4)) end
  T.ok(worst < 822, "rand fills the four quarters of [0,1) evenly",
       ("buckets %s"):format(T.fmt(bucket)))

  -- randn: n = 1e5 standard normal draws. Mean: standard error 1/sqrt(n) =
  -- 3.2e-3, bound 6 se = 0.019. Standard deviation: standard error of the
  -- sample sd is about 1/sqrt(2n) = 2.2e-3, bound 6 se = 0.0134. Fraction
  -- within one sd: p = 0.682689, se sqrt(p(1-p)/n) = 1.47e-3, bound 0.0088.
  attn.seed(11)
  local g = attn.randn(n):table()
  local sum, sq, inside, finite = 0, 0, 0, true
  for i = 1, n do
    local x = g[i]
    if x ~= x or x == math.huge or x == -math.huge then finite = false end
    sum = sum + x
    if math.abs(x) < 1 then inside = inside + 1 end
  end
  local mean = sum / n
  for i = 1, n do sq = sq + (g[i] - mean) ^ 2 end
  local sd = math.sqrt(sq / (n - 1))
  T.ok(finite, "randn draws are all finite")
  T.ok(math.abs(mean) < 0.019, "randn mean is 0 within 6 standard errors", "mean " .. mean)
  T.ok(math.abs(sd - 1) < 0.0134, "randn sd is 1 within 6 standard errors", "sd " .. sd)
  T.ok(math.abs(inside / n - 0.682689) < 0.0088, "randn: 68.3% fall within one sd",
       "fraction " .. inside / n)
end)

T.section("shape, size, dim, numel, device, #t", function()
  local t = attn.zeros(2, 3, 5)
  local s = t:shape()
  T.is(s, {2, 3, 5}, "shape() is a list of sizes")
  s[1] = 99
  T.is(t:shape(), {2, 3, 5}, "shape() returns a fresh table")
  T.is(t:size(1), 2, "size(1)")
  T.is(t:size(2), 3, "size(2)")
  T.is(t:size(3), 5, "size(3)")
  T.is(t:dim(), 3, "dim()")
  T.is(t:numel(), 30, "numel() = 2*3*5")
  T.is(t:device(), "cpu", "device() is cpu")
  T.is(#t, 2, "#t is the length of dim 1")
  T.is(#attn.zeros(7), 7, "#t of a 1-D tensor")
  T.is(math.type(t:numel()), "integer", "numel is a Lua integer")
  T.is(math.type(t:size(2)), "integer", "size is a Lua integer")
end)

T.section("get, set, item, table", function()
  local t = attn.zeros(3, 4)
  local ret = t:set(2, 3, 5.5)
  T.is(t:get(2, 3), 5.5, "set(2,3,5.5) then get(2,3)")
  T.is(t:get(3, 2), 0, "set touches only its element")
  -- the whole table by hand: one 5.5 at row 2 column 3
  T.is(t:table(), {{0, 0, 0, 0}, {0, 0, 5.5, 0}, {0, 0, 0, 0}}, "table() after set")
  T.ok(ret == nil or ret == t, "set returns nothing or the tensor itself")
  t:set(1, 1, -1e-3)
  T.is(t:get(1, 1), T.f32(-1e-3), "set stores float32")

  local v = attn.zeros(5)
  v:set(5, 9)
  T.is(v:get(5), 9, "1-D set/get at the last index")

  T.is(attn.tensor({3.5}):item(), 3.5, "item() of a one-element 1-D tensor")
  T.is(attn.tensor({{-2}}):item(), -2, "item() of a 1x1 tensor")
  T.is(attn.full({1, 1, 1}, 4):item(), 4, "item() of a 1x1x1 tensor")
  T.is(math.type(attn.ones(2):get(1)), "float", "get returns a Lua float")

  -- table() of a random 3-D tensor is exactly its input
  local r = T.rtable({3, 2, 4})
  local rt = attn.tensor(r)
  T.is(rt:table(), r, "table() of a random 3-D tensor")
  -- and get agrees with table at every index
  local all = true
  for i = 1, 3 do for j = 1, 2 do for k = 1, 4 do
    if rt:get(i, j, k) ~= r[i][j][k] then all = false end
  end end end
  T.ok(all, "get(i,j,k) agrees with the nested table everywhere")
end)

T.section("to(device)", function()
  local t = attn.tensor({{1, 2}, {3, 4}})
  local c = t:to("cpu")
  T.is(c:device(), "cpu", "to('cpu') stays on the cpu")
  T.is(c:table(), {{1, 2}, {3, 4}}, "to('cpu') keeps the values")
  local have_cuda = attn.cuda and attn.cuda.available and attn.cuda.available()
  if have_cuda then
    local g = t:to("cuda")
    T.is(g:device(), "cuda", "to('cuda') is on cuda")
    T.is(g:to("cpu"):table(), {{1, 2}, {3, 4}}, "cpu -> cuda -> cpu keeps the values")
    -- "same numbers on every device" (API.md)
    attn.seed(5)
    local c1, n1 = attn.rand(1000):table(), attn.randn(1000):table()
    attn.seed(5)
    local c2 = attn.rand(1000, {device = "cuda"}):to("cpu"):table()
    local n2 = attn.randn(1000, {device = "cuda"}):to("cpu"):table()
    T.is(c2, c1, "rand gives the same numbers on cuda as on the cpu")
    T.tensor_near(n2, n1, 1e-6, "randn gives the same numbers on cuda (to rounding)")
  else
    -- the message names the function (the word "to") and the device
    T.raises(function() return t:to("cuda") end, {"%f[%w]to%f[%W]", "cuda"},
             "to('cuda') without a CUDA device is a clear error naming to")
  end
  T.raises(function() return t:to("tpu") end, {"to", "tpu"},
           "to('tpu') is an error naming the device")
end)

T.done_testing()
