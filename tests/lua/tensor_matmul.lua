-- tensor_matmul.lua: a:matmul(b) and attn.matmul(a, b) against a naive triple
-- loop over plain Lua tables: 2-D over random and odd shapes, batched,
-- broadcast batch dimensions, 1-D operands (numpy rules) and view operands
-- (transposed, narrowed, selected).
--
-- Inputs are float32 values in [-1,1); the reference sums in double. For K
-- terms the float32 result is off by at most about K * 2^-24 * sum|a*b| <=
-- K^2 * 6e-8, so tolerance 1e-5 * (1 + |expected|) covers K up to ~100 with
-- room; the bigger products below use 1e-4.

local T = dofile((os.getenv("ATTNLAB_PATH") or ".") .. "/tests/lua/tap.lua")
local attn = attn or require "attn"
math.randomseed(4242)

local TOL = 1e-5

-- [M,K] x [K,N] by the textbook triple loop
local function mm2(a, b)
  local M, K, N = #a, #b, #b[1]
  assert(#a[1] == K)
  local c = {}
  for i = 1, M do
    c[i] = {}
    for j = 1, N do
      local s = 0
      for k = 1, K do s = s + a[i][k] * b[k][j] end
      c[i][j] = s
    end
  end
  return c
end

-- numpy matmul semantics over nested tables: 1-D a is [1,K] (then dim -2 is
-- dropped), 1-D b is [K,1] (then dim -1 is dropped); batch dims broadcast.
local function matmul_ref(a, b)
  local sa, sb = T.shape_of(a), T.shape_of(b)
  local a1, b1 = #sa == 1, #sb == 1
  if a1 then a = {a}; sa = {1, sa[1]} end
  if b1 then b = T.build({sb[1], 1}, function(k) return b[k] end); sb = {sb[1], 1} end
  -- batch shapes
  local ba, bb = {}, {}
  for d = 1, #sa - 2 do ba[d] = sa[d] end
  for d = 1, #sb - 2 do bb[d] = sb[d] end
  local n = math.max(#ba, #bb)
  local bo = {}
  for i = 1, n do
    local x, y = ba[#ba - n + i] or 1, bb[#bb - n + i] or 1
    assert(x == y or x == 1 or y == 1)
    bo[i] = math.max(x, y)
  end
  local function sub(tbl, bshape, idx) -- the matrix of tbl at broadcast idx
    local v = tbl
    for d = 1, #bshape do
      local i = idx[n - #bshape + d]
      v = v[bshape[d] == 1 and 1 or i]
    end
    return v
  end
  local out
  if n == 0 then
    out = mm2(a, b)
  else
    out = T.build(bo, function(...)
      local idx = {...}
      return mm2(sub(a, ba, idx), sub(b, bb, idx))
    end)
  end
  -- drop the unit dims that 1-D operands added
  local function strip(m)
    if type(m) ~= "table" then return m end
    if type(m[1]) == "table" and type(m[1][1]) ~= "table" then -- a matrix
      if a1 and b1 then return m[1][1] end
      if a1 then return m[1] end
      if b1 then
        local v = {}
        for i = 1, #m do v[i] = m[i][1] end
        return v
      end
      return m
    end
    local r = {}
    for i = 1, #m do r[i] = strip(m[i]) end
    return r
  end
  return strip(out)
end

T.section("the reference itself", function()
  -- by hand: {{1,2},{3,4}} x {{5,6},{7,8}} = {{19,22},{43,50}}
  T.is(mm2({{1, 2}, {3, 4}}, {{5, 6}, {7, 8}}), {{19, 22}, {43, 50}}, "mm2 by hand")
  T.is(matmul_ref({1, 2, 3}, {4, 5, 6}), 32, "dot by hand: 4+10+18")
  T.is(matmul_ref({{1, 2}, {3, 4}}, {1, 1}), {3, 7}, "matrix x vector by hand")
  T.is(matmul_ref({1, 1}, {{1, 2}, {3, 4}}), {4, 6}, "vector x matrix by hand")
end)

T.section("2-D by hand", function()
  local a = attn.tensor({{1, 2}, {3, 4}})
  local b = attn.tensor({{5, 6}, {7, 8}})
  -- 1*5+2*7 = 19, 1*6+2*8 = 22, 3*5+4*7 = 43, 3*6+4*8 = 50
  T.is(a:matmul(b):table(), {{19, 22}, {43, 50}}, "{{1,2},{3,4}} x {{5,6},{7,8}}")
  T.is(attn.matmul(a, b):table(), {{19, 22}, {43, 50}}, "attn.matmul(a, b) is the same")
  -- [2,3] x [3,1]: {1,2,3}.{1,0,-1} = -2, {4,5,6}.{1,0,-1} = -2
  T.is(attn.tensor({{1, 2, 3}, {4, 5, 6}}):matmul(attn.tensor({{1}, {0}, {-1}})):table(),
       {{-2}, {-2}}, "[2,3] x [3,1] by hand")
  T.is(attn.eye(3):matmul(attn.tensor({{1, 2}, {3, 4}, {5, 6}})):table(),
       {{1, 2}, {3, 4}, {5, 6}}, "eye(3) x B = B")
end)

T.section("2-D random shapes", function()
  local shapes = {
    {1, 1, 1}, {1, 7, 1}, {1, 5, 9}, {9, 5, 1}, {6, 1, 4}, {17, 33, 5}, {33, 17, 33},
    {2, 3, 4}, {64, 1, 64},
  }
  for _ = 1, 8 do -- and a few drawn at random
    shapes[#shapes + 1] = {math.random(1, 20), math.random(1, 20), math.random(1, 20)}
  end
  for _, s in ipairs(shapes) do
    local M, K, N = s[1], s[2], s[3]
    local ra, rb = T.rtable({M, K}), T.rtable({K, N})
    local want = mm2(ra, rb)
    local tag = ("[%d,%d]x[%d,%d]"):format(M, K, K, N)
    T.tensor_near(attn.tensor(ra):matmul(attn.tensor(rb)), want, TOL, tag)
    T.tensor_near(attn.matmul(attn.tensor(ra), attn.tensor(rb)), want, TOL,
                  "attn.matmul " .. tag)
  end
  -- an empty inner dimension: every entry is an empty sum, 0 (as numpy)
  T.is(attn.zeros(2, 0):matmul(attn.zeros(0, 3)):table(), {{0, 0, 0}, {0, 0, 0}},
       "[2,0]x[0,3] is a [2,3] of zeros")
  -- one bigger product, still checkable in plain Lua (~0.8M multiply-adds)
  local ra, rb = T.rtable({64, 128}), T.rtable({128, 96})
  T.tensor_near(attn.tensor(ra):matmul(attn.tensor(rb)), mm2(ra, rb), 1e-4, "[64,128]x[128,96]")
end)

T.section("view operands", function()
  local M, K, N = 7, 11, 5
  local rx, ry = T.rtable({K, M}), T.rtable({K, N}) -- x is stored [K,M]
  local x, y = attn.tensor(rx), attn.tensor(ry)
  local xt = T.build({M, K}, function(i, k) return rx[k][i] end)
  T.tensor_near(x:T():matmul(y), mm2(xt, ry), TOL, "x:T():matmul(y)")
  T.tensor_near(attn.matmul(x:transpose(1, 2), y), mm2(xt, ry), TOL,
                "attn.matmul(x:transpose(1,2), y)")
  local rz = T.rtable({N, K}) -- z:T() is [K,N]
  local z = attn.tensor(rz)
  local zt = T.build({K, N}, function(k, j) return rz[j][k] end)
  T.tensor_near(x:T():matmul(z:T()), mm2(xt, zt), TOL, "x:T():matmul(z:T())")
  T.tensor_near(attn.tensor(xt):matmul(z:T()), mm2(xt, zt), TOL, "a:matmul(z:T())")
  -- narrowed operand (offset and row stride): columns 3..8 of a [4,10]
  local rw = T.rtable({4, 10})
  local w = attn.tensor(rw)
  local wn = T.build({4, 6}, function(i, j) return rw[i][j + 2] end)
  local rv = T.rtable({6, 3})
  T.tensor_near(w:narrow(2, 3, 6):matmul(attn.tensor(rv)), mm2(wn, rv), TOL,
                "narrowed [4,6] view x [6,3]")
  -- a selected slice of a 3-D tensor, transposed: c[2]:T()
  local rc = T.rtable({3, 5, 4})
  local c = attn.tensor(rc)
  local c2t = T.build({4, 5}, function(i, j) return rc[2][j][i] end)
  local re = T.rtable({5, 2})
  T.tensor_near(c[2]:T():matmul(attn.tensor(re)), mm2(c2t, re), TOL, "c[2]:T() x [5,2]")
  -- the result of a view matmul is an ordinary tensor: row 1 sums as expected
  T.ok(T.is_tensor(x:T():matmul(y)), "the product is a tensor")
  -- inputs unchanged
  T.tensor_near(x, rx, 0, "operands are not modified")
end)

T.section("one row or one column (matrix-vector products)", function()
  -- [1, K] x [K, N] and [M, K] x [K, 1], each operand as itself and as a
  -- transposed view of its transpose; sizes large enough to be shared out
  local M, K, N = 600, 300, 700
  local ra, rb = T.rtable({1, K}), T.rtable({K, N})
  local rc, rd = T.rtable({M, K}), T.rtable({K, 1})
  -- the tensor, the same matrix as a transposed view, and (for a row or a
  -- column) a view BLAS must step through with a stride: a row of a
  -- transposed [K, 3], a column of a transposed [1, M]
  local function both(r)
    local rows, cols = #r, #r[1]
    local t = attn.tensor(r)
    local views = {t, t:T():contiguous():T()}
    if rows == 1 then
      local wide = T.build({cols, 3}, function(j, i) return i == 1 and r[1][j] or 0 end)
      views[3] = attn.tensor(wide):T():narrow(1, 1, 1)
    elseif cols == 1 then
      views[3] = attn.tensor(T.build({1, rows}, function(_, i) return r[i][1] end)):T()
    end
    return views
  end
  for ia, a in ipairs(both(ra)) do
    for ib, b in ipairs(both(rb)) do
      T.tensor_near(a:matmul(b), mm2(ra, rb), 1e-3,
                    ("[1,%d] x [%d,%d], layouts %d/%d"):format(K, K, N, ia, ib))
    end
  end
  for ic, c in ipairs(both(rc)) do
    for id, d in ipairs(both(rd)) do
      T.tensor_near(c:matmul(d), mm2(rc, rd), 1e-3,
                    ("[%d,%d] x [%d,1], layouts %d/%d"):format(M, K, K, ic, id))
    end
  end
end)

T.section("batched and broadcast", function()
  local function check(sa, sb, tol)
    local ra, rb = T.rtable(sa), T.rtable(sb)
    local want = matmul_ref(ra, rb)
    local tag = T.shape_str(sa) .. "x" .. T.shape_str(sb)
    T.tensor_near(attn.tensor(ra):matmul(attn.tensor(rb)), want, tol or TOL, tag)
    T.tensor_near(attn.matmul(attn.tensor(ra), attn.tensor(rb)), want, tol or TOL,
                  "attn.matmul " .. tag)
  end
  check({3, 4, 5}, {3, 5, 2})      -- [B,M,K]x[B,K,N]
  check({1, 1, 1}, {1, 1, 1})
  check({5, 1, 7}, {5, 7, 1})
  check({2, 17, 9}, {2, 9, 33})
  check({3, 4, 5}, {5, 6})         -- [B,M,K]x[K,N]
  check({4, 5}, {3, 5, 6})         -- [M,K]x[B,K,N]
  check({1, 4, 5}, {3, 5, 2})      -- [1,M,K]x[B,K,N]
  check({3, 4, 5}, {1, 5, 2})      -- [B,M,K]x[1,K,N]
  check({2, 1, 3, 4}, {3, 4, 2})   -- [2,1,M,K]x[3,K,N] -> [2,3,M,N]
  check({2, 3, 3, 4}, {2, 3, 4, 5}) -- 4-D, equal batches
  check({2, 2, 2, 2, 3}, {3, 1})   -- 5-D x 2-D

  -- batched with view operands: b:transpose(2,3) of a [B,N,K] tensor
  local B, M, K, N = 3, 4, 6, 5
  local ra, rb = T.rtable({B, M, K}), T.rtable({B, N, K})
  local rbt = T.build({B, K, N}, function(b, k, j) return rb[b][j][k] end)
  T.tensor_near(attn.tensor(ra):matmul(attn.tensor(rb):transpose(2, 3)), matmul_ref(ra, rbt),
                TOL, "[B,M,K] x [B,N,K]:transpose(2,3)")
  -- a transposed batch dimension: x:transpose(1,2) of a [M,B,K] tensor is [B,M,K]
  local rx = T.rtable({M, B, K})
  local rxt = T.build({B, M, K}, function(b, i, k) return rx[i][b][k] end)
  local rk = T.rtable({K, N})
  T.tensor_near(attn.tensor(rx):transpose(1, 2):matmul(attn.tensor(rk)), matmul_ref(rxt, rk),
                TOL, "[M,B,K]:transpose(1,2) x [K,N]")
end)

T.section("1-D operands (numpy rules)", function()
  local function check(sa, sb, name)
    local ra, rb = T.rtable(sa), T.rtable(sb)
    local want = matmul_ref(ra, rb)
    T.tensor_near(attn.tensor(ra):matmul(attn.tensor(rb)), want, TOL, name)
  end
  check({7}, {7}, "[K]x[K] is a dot product (one element)")
  check({1}, {1}, "[1]x[1]")
  check({5}, {5, 3}, "[K]x[K,N] is [N]")
  check({4, 5}, {5}, "[M,K]x[K] is [M]")
  check({5}, {2, 5, 3}, "[K]x[B,K,N] is [B,N]")
  check({2, 4, 5}, {5}, "[B,M,K]x[K] is [B,M]")
  -- shapes written out by hand
  T.is(attn.tensor({1, 2}):matmul(attn.tensor({{1, 2, 3}, {4, 5, 6}})):shape(), {3},
       "[2]x[2,3] has shape [3]")
  T.is(attn.tensor({{1, 2, 3}, {4, 5, 6}}):matmul(attn.tensor({1, 1, 1})):table(), {6, 15},
       "[2,3]x[3] = row sums {6,15}")
  T.is(attn.tensor({1, 2, 3}):matmul(attn.tensor({4, 5, 6})):item(), 32,
       "{1,2,3}.{4,5,6} = 32")
  T.is(attn.tensor({1, 2, 3}):matmul(attn.tensor({4, 5, 6})):numel(), 1,
       "a dot product is one element")
end)

T.done_testing()
