-- tensor_views.lua: t[i], select, narrow, reshape, transpose, T, contiguous,
-- clone, cat, stack. Views share storage: a write through a view is seen in
-- the base and the other way round. References are plain-table index
-- arithmetic written below.

local T = dofile((os.getenv("ATTNLAB_PATH") or ".") .. "/tests/lua/tap.lua")
local attn = attn or require "attn"
math.randomseed(777)

-- 3x4 with distinct values: element (i,j) = 10*i + j
local function base34()
  return attn.tensor(T.build({3, 4}, function(i, j) return 10 * i + j end))
end

T.section("t[i]", function()
  local t = base34()
  local row = t[2]
  T.ok(T.is_tensor(row), "t[2] of a 2-D tensor is a tensor")
  T.is(row:shape(), {4}, "t[2] has shape [4]")
  T.is(row:table(), {21, 22, 23, 24}, "t[2] is row 2")
  row:set(3, -5)
  T.is(t:get(2, 3), -5, "writing through t[2] changes the parent")
  t:set(2, 1, 100)
  T.is(row:get(1), 100, "writing the parent shows in t[2]")
  t[3]:set(4, 77)
  T.is(t:get(3, 4), 77, "t[3]:set(...) in one expression changes the parent")

  local v = attn.tensor({4, 5, 6})
  T.is(v[1], 4, "t[1] of a 1-D tensor is a number")
  T.is(v[3], 6, "t[3] of a 1-D tensor")
  T.is(type(v[2]), "number", "t[i] of a 1-D tensor is a Lua number")

  local c = attn.tensor(T.build({2, 3, 2}, function(i, j, k) return 100 * i + 10 * j + k end))
  T.is(c[2]:shape(), {3, 2}, "t[2] of a 3-D tensor is 2-D")
  T.is(c[2][3]:table(), {231, 232}, "t[2][3] of a 3-D tensor")
  T.is(c[2][3][1], 231, "t[2][3][1] is a number")
  c[1][2]:set(2, 0.5)
  T.is(c:get(1, 2, 2), 0.5, "write through t[1][2] reaches the 3-D base")

  -- methods still work by name next to numeric indexing
  T.is(t.numel ~= nil and t:numel(), 12, "string keys are still methods")
end)

T.section("select", function()
  local t = base34()
  local col = t:select(2, 3)
  T.is(col:shape(), {3}, "select(2,3) of [3,4] has shape [3]")
  T.is(col:table(), {13, 23, 33}, "select(2,3) is column 3")
  T.is(t:select(1, 3):table(), {31, 32, 33, 34}, "select(1,3) is row 3")
  col:set(2, -1)
  T.is(t:get(2, 3), -1, "select is a view: write shows in the base")

  local r = T.rtable({2, 3, 4})
  local c = attn.tensor(r)
  for dim = 1, 3 do
    local n = ({2, 3, 4})[dim]
    for i = 1, n do
      -- reference: drop dimension `dim` at index i
      local want
      if dim == 1 then
        want = r[i]
      elseif dim == 2 then
        want = T.build({2, 4}, function(a, b) return r[a][i][b] end)
      else
        want = T.build({2, 3}, function(a, b) return r[a][b][i] end)
      end
      T.tensor_near(c:select(dim, i), want, 0, ("3-D select(%d,%d)"):format(dim, i))
    end
  end
end)

T.section("narrow", function()
  local t = base34()
  local n = t:narrow(2, 2, 2)
  T.is(n:shape(), {3, 2}, "narrow(2,2,2) of [3,4] has shape [3,2]")
  T.is(n:table(), {{12, 13}, {22, 23}, {32, 33}}, "narrow(2,2,2) keeps columns 2..3")
  T.is(t:narrow(1, 3, 1):table(), {{31, 32, 33, 34}}, "narrow(1,3,1) is the last row")
  T.is(t:narrow(1, 1, 3):table(), t:table(), "narrow to the full length is everything")
  n:set(3, 1, 0)
  T.is(t:get(3, 2), 0, "narrow is a view: write shows in the base")
  t:set(1, 3, 9)
  T.is(n:get(1, 2), 9, "base write shows in the narrow view")
  -- narrow of a narrow: columns 2..3 then column 2 of that = column 3
  T.is(n:narrow(2, 2, 1):table(), {{9}, {23}, {33}}, "narrow of a narrow")
end)

T.section("reshape", function()
  local t = attn.tensor({{1, 2, 3}, {4, 5, 6}})
  T.is(t:reshape(3, 2):table(), {{1, 2}, {3, 4}, {5, 6}}, "reshape(3,2) keeps row-major order")
  T.is(t:reshape(6):table(), {1, 2, 3, 4, 5, 6}, "reshape(6) flattens")
  T.is(t:reshape(-1):table(), {1, 2, 3, 4, 5, 6}, "reshape(-1) flattens")
  T.is(t:reshape(-1, 2):shape(), {3, 2}, "reshape(-1,2) infers 3")
  T.is(t:reshape(3, -1):shape(), {3, 2}, "reshape(3,-1) infers 2")
  T.is(t:reshape(1, -1, 3):shape(), {1, 2, 3}, "reshape(1,-1,3) infers 2")
  T.is(t:reshape(2, 1, 3, 1):table(), {{{{1}, {2}, {3}}}, {{{4}, {5}, {6}}}},
       "reshape(2,1,3,1) inserts unit dims")
  local r = t:reshape(3, 2)
  r:set(3, 1, 50) -- row-major position 5 -> (2,2) of the base
  T.is(t:get(2, 2), 50, "reshape of a contiguous tensor is a view")

  -- reshape of a transposed (non-contiguous) view: values follow the view's
  -- row-major order. After the write, t = {{1,2,3},{4,50,6}} so
  -- t:T() = {{1,4},{2,50},{3,6}}
  local tt = t:T():reshape(6)
  T.is(tt:table(), {1, 4, 2, 50, 3, 6}, "reshape of a transposed view reads in view order")
end)

T.section("transpose and T", function()
  local r = T.rtable({3, 5})
  local t = attn.tensor(r)
  local tr = t:transpose(1, 2)
  T.is(tr:shape(), {5, 3}, "transpose(1,2) of [3,5] is [5,3]")
  T.tensor_near(tr, T.build({5, 3}, function(i, j) return r[j][i] end), 0,
                "transpose(1,2) swaps the indices")
  T.tensor_near(t:transpose(2, 1), T.build({5, 3}, function(i, j) return r[j][i] end), 0,
                "transpose(2,1) is the same")
  T.tensor_near(t:T(), T.build({5, 3}, function(i, j) return r[j][i] end), 0,
                "T() is the 2-D transpose")
  T.tensor_near(t:T():T(), r, 0, "T():T() is the original")
  t:T():set(5, 1, -321)
  T.is(t:get(1, 5), -321, "T() is a view: write shows in the base")
  tr:set(4, 2, 123)
  T.is(t:get(2, 4), 123, "transpose is a view: write shows in the base")
  T.is(t:transpose(1, 1):table(), t:table(), "transpose(1,1) changes nothing")

  local r3 = T.rtable({2, 3, 4})
  local c = attn.tensor(r3)
  T.tensor_near(c:transpose(1, 3), T.build({4, 3, 2}, function(i, j, k) return r3[k][j][i] end),
                0, "3-D transpose(1,3)")
  T.tensor_near(c:transpose(2, 3), T.build({2, 4, 3}, function(i, j, k) return r3[i][k][j] end),
                0, "3-D transpose(2,3)")
  -- a chain of views against index arithmetic:
  -- c:transpose(1,3) is [4,3,2] with (i,j,k) -> r3[k][j][i];
  -- :narrow(1,2,2) keeps i = 2..3; :select(3,2) fixes k = 2 -> [2,3]: r3[2][j][i+1]
  local chain = c:transpose(1, 3):narrow(1, 2, 2):select(3, 2)
  T.tensor_near(chain, T.build({2, 3}, function(i, j) return r3[2][j][i + 1] end), 0,
                "transpose:narrow:select chain")
  chain:set(1, 3, 42) -- r3 index [2][3][2]
  T.is(c:get(2, 3, 2), 42, "write through the chain reaches the base")
end)

T.section("contiguous and clone", function()
  local r = T.rtable({4, 3})
  local t = attn.tensor(r)
  local tv = t:T()
  local tc = tv:contiguous()
  T.tensor_near(tc, T.build({3, 4}, function(i, j) return r[j][i] end), 0,
                "contiguous() of a transposed view keeps the values")
  T.is(tc:shape(), {3, 4}, "contiguous() keeps the shape")
  -- the copy is laid out row-major, so a reshape reads it in that order
  T.tensor_near(tc:reshape(12), T.flatten(T.build({3, 4}, function(i, j) return r[j][i] end)),
                0, "contiguous() then reshape reads the transposed order")

  local cl = t:clone()
  T.tensor_near(cl, r, 0, "clone() has the same values")
  cl:set(1, 1, 1000)
  T.is(t:get(1, 1), r[1][1], "clone() does not share storage (write to clone)")
  t:set(2, 2, -1000)
  T.is(cl:get(2, 2), r[2][2], "clone() does not share storage (write to base)")
  local vc = t:narrow(1, 2, 2):clone()
  T.is(vc:shape(), {2, 3}, "clone() of a narrow view has the view's shape")
  T.is(vc:get(1, 2), -1000, "clone() of a view copies the view's values")
end)

T.section("cat", function()
  local a = attn.tensor({{1, 2, 3}, {4, 5, 6}})
  local b = attn.tensor({{7, 8, 9}})
  local c1 = attn.cat({a, b}, 1)
  T.is(c1:table(), {{1, 2, 3}, {4, 5, 6}, {7, 8, 9}}, "cat({[2,3],[1,3]}, 1)")
  local d = attn.tensor({{10, 11}, {12, 13}})
  T.is(attn.cat({a, d}, 2):table(), {{1, 2, 3, 10, 11}, {4, 5, 6, 12, 13}},
       "cat({[2,3],[2,2]}, 2)")
  T.is(attn.cat({attn.tensor({1, 2}), attn.tensor({3}), attn.tensor({4, 5})}, 1):table(),
       {1, 2, 3, 4, 5}, "cat of three 1-D tensors")
  T.is(attn.cat({a}, 1):table(), a:table(), "cat of one tensor is a copy")
  -- cat makes new storage
  c1:set(1, 1, -1)
  T.is(a:get(1, 1), 1, "cat result does not share storage with its inputs")
  -- non-contiguous inputs: a:T() is [3,2] = {{1,4},{2,5},{3,6}}
  T.is(attn.cat({a:T(), d}, 1):table(), {{1, 4}, {2, 5}, {3, 6}, {10, 11}, {12, 13}},
       "cat of a transposed view")
  -- random 3-D along each dimension against table splicing
  local r1, r2 = T.rtable({2, 3, 2}), T.rtable({2, 3, 2})
  local x, y = attn.tensor(r1), attn.tensor(r2)
  T.tensor_near(attn.cat({x, y}, 1), T.build({4, 3, 2}, function(i, j, k)
    if i <= 2 then return r1[i][j][k] end
    return r2[i - 2][j][k]
  end), 0, "3-D cat along dim 1")
  T.tensor_near(attn.cat({x, y}, 2), T.build({2, 6, 2}, function(i, j, k)
    if j <= 3 then return r1[i][j][k] end
    return r2[i][j - 3][k]
  end), 0, "3-D cat along dim 2")
  T.tensor_near(attn.cat({x, y}, 3), T.build({2, 3, 4}, function(i, j, k)
    if k <= 2 then return r1[i][j][k] end
    return r2[i][j][k - 2]
  end), 0, "3-D cat along dim 3")
end)

T.section("stack", function()
  local a = attn.tensor({{1, 2, 3}, {4, 5, 6}})
  local b = attn.tensor({{7, 8, 9}, {10, 11, 12}})
  local s = attn.stack({a, b})
  T.is(s:shape(), {2, 2, 3}, "stack of two [2,3] is [2,2,3]")
  T.is(s:table(), {a:table(), b:table()}, "stack puts inputs along a new dim 1")
  T.is(s[1]:table(), a:table(), "stack(...)[1] is the first input")
  local v = attn.stack({attn.tensor({1, 2}), attn.tensor({3, 4}), attn.tensor({5, 6})})
  T.is(v:table(), {{1, 2}, {3, 4}, {5, 6}}, "stack of three 1-D tensors is 2-D")
  s:set(1, 1, 1, 99)
  T.is(a:get(1, 1), 1, "stack result does not share storage")
  T.is(attn.stack({a:T(), b:T()}):table(),
       {{{1, 4}, {2, 5}, {3, 6}}, {{7, 10}, {8, 11}, {9, 12}}}, "stack of transposed views")
end)

T.done_testing()
