-- tensor_reduce.lua: sum, mean, max, argmax with and without a dim.
--
-- With no dim the result is a one-element tensor and :item() gives the number
-- (API.md). With a dim the reduced dimension is dropped, as in numpy and
-- PyTorch (keepdim=false): [3,4]:sum(1) is [4]. argmax is 1-based; with no dim
-- it indexes the row-major flattening, as numpy and PyTorch do.
-- References are plain Lua loops over the input tables (double precision).

local T = dofile((os.getenv("ATTNLAB_PATH") or ".") .. "/tests/lua/tap.lua")
local attn = attn or require "attn"
math.randomseed(99)

local TOL = 1e-5

local function lsum(l) local s = 0 for _, v in ipairs(l) do s = s + v end return s end
local function lmean(l) return lsum(l) / #l end
local function lmax(l)
  local m = -math.huge
  for _, v in ipairs(l) do m = math.max(m, v) end
  return m
end
local function largmax(l)
  local m, at = -math.huge, 0
  for i, v in ipairs(l) do if v > m then m, at = v, i end end
  return at
end

T.section("no dim: one-element results", function()
  -- by hand: {{1,2,3},{4,5,6}}: sum 21, mean 3.5, max 6 at flat index 6
  local t = attn.tensor({{1, 2, 3}, {4, 5, 6}})
  local s = t:sum()
  T.ok(T.is_tensor(s), "sum() returns a tensor")
  T.is(s:numel(), 1, "sum() has one element")
  T.is(s:item(), 21, "sum() by hand = 21")
  T.is(t:mean():item(), 3.5, "mean() by hand = 3.5")
  T.is(t:max():item(), 6, "max() by hand = 6")
  T.is(t:argmax():item(), 6, "argmax() by hand = 6 (1-based, row-major)")
  T.is(attn.tensor({{9, 2, 3}, {4, 5, 6}}):argmax():item(), 1, "argmax() at the first element is 1")
  T.is(attn.tensor({{1, 2, 3}, {4, 9, 6}}):argmax():item(), 5, "argmax() at (2,2) is 5")
  T.is(attn.tensor({-3, -1, -2}):max():item(), -1, "max of negatives")
  T.is(attn.tensor({-3, -1, -2}):argmax():item(), 2, "argmax of negatives")
  T.is(attn.tensor({7}):sum():item(), 7, "sum of a single element")

  local r = T.rtable({4, 3, 5})
  local flat = T.flatten(r)
  local x = attn.tensor(r)
  T.near(x:sum():item(), lsum(flat), TOL, "sum() of random [4,3,5]")
  T.near(x:mean():item(), lmean(flat), TOL, "mean() of random [4,3,5]")
  T.is(x:max():item(), lmax(flat), "max() of random [4,3,5] (exact)")
  T.is(x:argmax():item(), largmax(flat), "argmax() of random [4,3,5]")
  -- on a view: the flattening is the view's own row-major order
  local rt = T.build({5, 3, 4}, function(i, j, k) return r[k][j][i] end)
  local ft = T.flatten(rt)
  T.near(x:transpose(1, 3):sum():item(), lsum(ft), TOL, "sum() of a transposed view")
  T.is(x:transpose(1, 3):argmax():item(), largmax(ft), "argmax() of a transposed view")
  T.is(x:narrow(2, 2, 1):max():item(), lmax(T.flatten(T.build({4, 1, 5},
       function(i, _, k) return r[i][2][k] end))), "max() of a narrowed view")
end)

T.section("with a dim", function()
  -- by hand on {{1,2,3},{4,5,6}}
  local t = attn.tensor({{1, 2, 3}, {4, 5, 6}})
  T.is(t:sum(1):shape(), {3}, "sum(1) of [2,3] has shape [3]")
  T.is(t:sum(1):table(), {5, 7, 9}, "sum(1) by hand: column sums")
  T.is(t:sum(2):table(), {6, 15}, "sum(2) by hand: row sums")
  T.is(t:mean(1):table(), {2.5, 3.5, 4.5}, "mean(1) by hand")
  T.is(t:mean(2):table(), {2, 5}, "mean(2) by hand")
  T.is((t:max(1)):table(), {4, 5, 6}, "max(1) by hand")
  T.is((t:max(2)):table(), {3, 6}, "max(2) by hand")
  T.is(attn.tensor({{3, 1, 2}, {0, 5, 4}}):argmax(2):table(), {1, 2},
       "argmax(2) by hand (1-based)")
  T.is(attn.tensor({{3, 1, 2}, {0, 5, 4}}):argmax(1):table(), {1, 2, 2},
       "argmax(1) by hand (1-based)")

  local shape = {3, 4, 5}
  local r = T.rtable(shape)
  local x = attn.tensor(r)
  for d = 1, 3 do
    local tag = ("(%d) of random [3,4,5]"):format(d)
    T.tensor_near(x:sum(d), T.reduce_fibers(r, d, lsum), TOL, "sum" .. tag)
    T.tensor_near(x:mean(d), T.reduce_fibers(r, d, lmean), TOL, "mean" .. tag)
    T.tensor_near((x:max(d)), T.reduce_fibers(r, d, lmax), 0, "max" .. tag)
    T.tensor_near(x:argmax(d), T.reduce_fibers(r, d, largmax), 0, "argmax" .. tag)
  end
  -- views as input
  local rt = T.build({5, 4, 3}, function(i, j, k) return r[k][j][i] end)
  for d = 1, 3 do
    local tag = ("(%d) of a transposed view"):format(d)
    T.tensor_near(x:transpose(1, 3):sum(d), T.reduce_fibers(rt, d, lsum), TOL, "sum" .. tag)
    T.tensor_near(x:transpose(1, 3):argmax(d), T.reduce_fibers(rt, d, largmax), 0,
                  "argmax" .. tag)
  end
  -- a large odd-sized input over each dim (threads split rows or columns)
  local rb = T.rtable({333, 1001})
  local xb = attn.tensor(rb)
  for d = 1, 2 do
    T.tensor_near(xb:sum(d), T.reduce_fibers(rb, d, lsum), TOL, ("sum(%d) of [333,1001]"):format(d))
    T.tensor_near((xb:max(d)), T.reduce_fibers(rb, d, lmax), 0, ("max(%d) of [333,1001]"):format(d))
    T.tensor_near(xb:argmax(d), T.reduce_fibers(rb, d, largmax), 0,
                  ("argmax(%d) of [333,1001]"):format(d))
  end
  -- 1-D with dim 1 reduces to one element
  T.is(attn.tensor({1, 5, 2}):sum(1):item(), 8, "sum(1) of a 1-D tensor is one element")
  T.is(attn.tensor({1, 5, 2}):argmax(1):item(), 2, "argmax(1) of a 1-D tensor")
end)

T.section("accuracy of long sums", function()
  -- 2e7 ones: a float32 running sum stops at 2^24 = 16777216, since 2^24 + 1
  -- rounds back to 2^24; the true sum 2e7 is exactly representable in float32.
  local n = 20000000
  do
    local o <close> = attn.ones(n)
    T.is(o:sum():item(), n, "sum of 2e7 ones is 2e7 (no float32 stagnation)")
    T.is(o:mean():item(), 1, "mean of 2e7 ones is 1")
  end
  -- 1e6 random values: compare with the double sum of their float32 values
  local r = T.rtable({1000000}, 0, 1)
  local x = attn.tensor(r)
  T.near(x:sum():item(), lsum(r), 1e-5, "sum of 1e6 random values")
  T.near(x:mean():item(), lmean(r), 1e-5, "mean of 1e6 random values")
end)

T.done_testing()
