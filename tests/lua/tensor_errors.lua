-- tensor_errors.lua: every wrong call raises a Lua error whose message names
-- the function, what was given and what was expected (API.md), and nothing
-- crashes the process. Each check asserts the function name and the offending
-- numbers or shapes; the one exact message required by API.md is checked
-- exactly. NaN data flows through every op without crashing.

local T = dofile((os.getenv("ATTNLAB_PATH") or ".") .. "/tests/lua/tap.lua")
local attn = attn or require "attn"

local a23 = attn.ones(2, 3)

T.section("matmul", function()
  T.raises(function() return attn.ones(2, 3):matmul(attn.ones(2, 3)) end,
           "matmul: shapes [2,3] and [2,3] do not match (inner dims 3 and 2)",
           "matmul [2,3]x[2,3]: the exact message of API.md")
  T.raises(function() return attn.matmul(attn.ones(4, 8), attn.ones(4, 8)) end,
           "matmul: shapes [4,8] and [4,8] do not match (inner dims 8 and 4)",
           "attn.matmul [4,8]x[4,8]: the STYLE.md example")
  T.raises(function() return attn.ones(3):matmul(attn.ones(4)) end,
           {"matmul", "[3]", "[4]"}, "matmul of 1-D [3] and [4]")
  T.raises(function() return attn.ones(2, 3, 4):matmul(attn.ones(3, 5, 6)) end,
           {"matmul", "[2,3,4]", "[3,5,6]"}, "matmul with inner dims 4 and 5")
  T.raises(function() return attn.ones(2, 3, 4):matmul(attn.ones(3, 4, 6)) end,
           {"matmul", "[2,3,4]", "[3,4,6]"}, "matmul with batch dims 2 and 3 not broadcastable")
  T.raises(function() return a23:matmul("x") end, {"bad argument", "matmul"},
           "matmul with a string is a bad argument")
  T.raises(function() return attn.matmul(a23, 5) end, {"bad argument", "matmul"},
           "attn.matmul with a number is a bad argument")
  T.raises(function() return attn.matmul("abc", a23) end, {"bad argument", "attn.Tensor"},
           "attn.matmul('abc', t): bad argument naming attn.Tensor")
end)

T.section("broadcasting", function()
  local b43 = attn.ones(4, 3)
  T.raises(function() return a23 + b43 end, {"[2,3]", "[4,3]", "add"}, "[2,3] + [4,3]")
  T.raises(function() return a23 - b43 end, {"[2,3]", "[4,3]", "sub"}, "[2,3] - [4,3]")
  T.raises(function() return a23 * b43 end, {"[2,3]", "[4,3]", "mul"}, "[2,3] * [4,3]")
  T.raises(function() return a23 / b43 end, {"[2,3]", "[4,3]", "div"}, "[2,3] / [4,3]")
  T.raises(function() return a23 + attn.ones(2) end, {"[2,3]", "[2]"}, "[2,3] + [2]")
  T.raises(function() return a23 + "x" end, {"bad argument"},
           "tensor + string: a string where a tensor is expected is a bad argument")
  T.raises(function() return a23 + {} end, {}, "tensor + table is an error")
  T.raises(function() return attn.allclose(a23, "x") end, {"bad argument", "allclose"},
           "allclose with a string")
end)

T.section("creation", function()
  T.raises(function() return attn.zeros(1e12, 1e12) end, {"zeros", "1000000000000"},
           "zeros(1e12,1e12) is an error, not a crash")
  T.raises(function() return attn.ones(2 ^ 62, 4) end, {"ones"},
           "ones(2^62,4) (overflowing numel) is an error")
  T.raises(function() return attn.zeros(-1) end, {"zeros", "-1"}, "zeros(-1)")
  T.raises(function() return attn.zeros(2, 2.5) end, {"zeros"}, "zeros(2, 2.5)")
  T.raises(function() return attn.zeros("a") end, {"zeros"}, "zeros('a')")
  T.raises(function() return attn.zeros(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1) end, {"zeros"},
           "zeros with 12 dims (more than the maximum)")
  T.raises(function() return attn.full({2, 3}, "seven") end, {"full"}, "full with a string value")
  T.raises(function() return attn.eye(-2) end, {"eye", "-2"}, "eye(-2)")
  T.raises(function() return attn.arange(0, 5, 0) end, {"arange", "step"}, "arange with step 0")
  T.raises(function() return attn.arange(0, 1e15, 1e-3) end, {"arange"},
           "arange with 1e18 values is an error")
  T.raises(function() return attn.rand(-3) end, {"rand", "-3"}, "rand(-3)")
  T.raises(function() return attn.randn(2, "x") end, {"randn"}, "randn(2, 'x')")
  T.raises(function() return attn.tensor({{1, 2}, {3}}) end, {"tensor"}, "ragged table")
  T.raises(function() return attn.tensor({1, 2}, {device = "tpu"}) end, {"tensor", "tpu"},
           "tensor with device 'tpu' names tensor and tpu")
  T.raises(function() return attn.zeros(2, {device = "tpu"}) end, {"zeros", "tpu"},
           "zeros with device 'tpu' names zeros and tpu")
  T.raises(function() return attn.seed("x") end, {"seed"}, "seed('x')")
end)

T.section("indexing and views", function()
  local t = attn.ones(3, 4)
  T.raises(function() return t:select(1, 5) end, {"select", "5", "3"},
           "select index 5 of a size-3 dim names 5 and 3")
  T.raises(function() return t:select(1, 0) end, {"select", "0"}, "select index 0 (1-based)")
  T.raises(function() return t:select(3, 1) end, {"select", "3"}, "select dim 3 of a 2-D tensor")
  T.raises(function() return t:narrow(2, 3, 5) end, {"narrow", "5"},
           "narrow 3..7 of a size-4 dim")
  T.raises(function() return t:narrow(2, 0, 1) end, {"narrow", "0"}, "narrow start 0")
  T.raises(function() return t:narrow(4, 1, 1) end, {"narrow", "4"}, "narrow dim 4 of 2-D")
  T.raises(function() return t:reshape(5, 2) end, {"reshape", "[5,2]", "12"},
           "reshape 12 elements to [5,2] names both")
  T.raises(function() return t:reshape(-1, -1) end, {"reshape", "-1"}, "reshape with two -1")
  T.raises(function() return t:reshape(5, -1) end, {"reshape", "5", "12"},
           "reshape(5,-1): 12 is not a multiple of 5")
  T.raises(function() return t:transpose(1, 3) end, {"transpose", "3"},
           "transpose(1,3) of a 2-D tensor")
  T.raises(function() return t:transpose(0, 1) end, {"transpose", "0"}, "transpose(0,1)")
  T.raises(function() return t:get(1, 1, 1) end, {"get", "3", "2"},
           "get with 3 indices on a 2-D tensor names 3 and 2")
  T.raises(function() return t:get(1) end, {"get", "1", "2"}, "get with 1 index on a 2-D tensor")
  T.raises(function() return t:get(4, 1) end, {"get", "4", "3"}, "get(4,1) of a [3,4]")
  T.raises(function() return t:get(0, 1) end, {"get", "0"}, "get(0,1): indices are 1-based")
  T.raises(function() return t:get(1, "a") end, {"get"}, "get with a string index")
  T.raises(function() return t:set(1, 5, 0) end, {"set", "5", "4"}, "set(1,5,v) of a [3,4]")
  T.raises(function() return t:set(1, 1) end, {"set"}, "set without a value")
  T.raises(function() return t:set(1, 1, "v") end, {"set"}, "set with a string value")
  T.raises(function() return t:size(3) end, {"size", "3"}, "size(3) of a 2-D tensor")
  T.raises(function() return t:item() end, {"item", "12"}, "item of 12 elements")
  T.raises(function() return t[4] end, {"4", "3"}, "t[4] of a size-3 dim")
  T.raises(function() return t[0] end, {"0"}, "t[0]")
  T.raises(function() return attn.ones(3)[4] end, {"4", "3"}, "t[4] of a 1-D size-3 tensor")
  -- a huge index is reported as given, not truncated to a C int (2^40 -> 0)
  T.raises(function() return t:select(1, 2 ^ 40) end, {"select", "1099511627776"},
           "select(1, 2^40) reports 1099511627776")
  T.raises(function() return t:get(2 ^ 40, 1) end, {"get", "1099511627776"},
           "get(2^40, 1) reports 1099511627776")
  T.raises(function() return t:to("tpu") end, {"to", "tpu"}, "to('tpu')")
  -- a device name containing % must come back verbatim (the message is an
  -- argument, never a format string)
  T.raises(function() return t:to("%s%d%n") end, {"%s%d%n"}, "to('%s%d%n') echoes its input")
end)

T.section("cat and stack", function()
  T.raises(function() return attn.cat({attn.ones(2, 3), attn.ones(2, 4)}, 1) end,
           {"cat", "[2,3]", "[2,4]"}, "cat along 1 of [2,3] and [2,4]")
  T.raises(function() return attn.cat({attn.ones(2, 3), attn.ones(3)}, 1) end,
           {"cat", "[2,3]", "[3]"}, "cat of 2-D and 1-D")
  T.raises(function() return attn.cat({attn.ones(2, 3)}, 3) end, {"cat", "3"},
           "cat along dim 3 of 2-D tensors")
  T.raises(function() return attn.cat({}, 1) end, {"cat"}, "cat of nothing")
  local m = T.raises(function() return attn.cat({attn.ones(2), "x"}, 1) end, {"cat", "string"},
                     "cat with a string in the list")
  -- the string is entry 2 of argument 1; "#-1" (a stack slot) says nothing
  T.ok(m and not m:find("#-", 1, true), "cat names the entry, not a stack slot", m)
  T.raises(function() return attn.cat(attn.ones(2), 1) end, {"cat"}, "cat of a tensor, not a list")
  T.raises(function() return attn.stack({attn.ones(2, 3), attn.ones(3, 2)}) end,
           {"stack", "[2,3]", "[3,2]"}, "stack of [2,3] and [3,2]")
  T.raises(function() return attn.stack({}) end, {"stack"}, "stack of nothing")
end)

T.section("reductions and functions", function()
  local t = attn.ones(2, 3)
  T.raises(function() return t:sum(3) end, {"sum", "3"}, "sum(3) of a 2-D tensor")
  T.raises(function() return t:sum(0) end, {"sum", "0"}, "sum(0): dims are 1-based")
  T.raises(function() return t:mean(-5) end, {"mean", "-5"}, "mean(-5)")
  T.raises(function() return t:max(3) end, {"max", "3"}, "max(3)")
  T.raises(function() return t:argmax(3) end, {"argmax", "3"}, "argmax(3)")
  T.raises(function() return t:softmax(3) end, {"softmax", "3"}, "softmax(3) of a 2-D tensor")
  T.raises(function() return t:softmax() end, {"softmax"}, "softmax without a dim")
  T.raises(function() return t:pow("x") end, {"pow"}, "pow('x')")
  T.raises(function() return t:sum("x") end, {"sum"}, "sum('x')")
end)

T.section("bad self and __name", function()
  local t = attn.ones(2)
  T.is(getmetatable(t).__name, "attn.Tensor", "the metatable's __name is attn.Tensor")
  local numel = t.numel
  T.raises(function() return numel(5) end, {"bad argument", "attn.Tensor", "number"},
           "numel(5): bad argument, attn.Tensor expected, got number")
  local sum = t.sum
  T.raises(function() return sum("s") end, {"bad argument", "attn.Tensor", "string"},
           "sum('s'): bad argument naming attn.Tensor and string")
  T.raises(function() return t.matmul({}, t) end, {"bad argument", "attn.Tensor"},
           "matmul with a table as self")
  T.raises(function() return attn.stack({t, 3}) end, {"stack"}, "stack with a number inside")
end)

T.section("nan flows through without crashing", function()
  local nan = 0 / 0
  local x = attn.tensor({{1, nan, 3}, {4, 5, 6}})
  T.ok(x:get(1, 2) ~= x:get(1, 2), "a nan element reads back as nan")
  local s = T.lives(function() return x:sum():item() end, "sum with a nan runs")
  T.ok(s ~= s, "sum with a nan is nan")
  T.is(T.lives(function() return x:sum(2):get(2) end, "sum(2) with a nan runs"), 15,
       "the row without nan sums normally")
  T.lives(function() return x:max():item() end, "max with a nan runs")
  T.lives(function() return x:argmax():item() end, "argmax with a nan runs")
  local sm = T.lives(function() return x:softmax(2) end, "softmax with a nan runs")
  if sm then
    T.near(sm:get(2, 1) + sm:get(2, 2) + sm:get(2, 3), 1, 1e-5,
           "softmax of the clean row still sums to 1")
  end
  T.lives(function() return x:matmul(attn.ones(3, 2)):table() end, "matmul with a nan runs")
  T.lives(function() return (x * 2 + 1):exp():log():sqrt():tanh():gelu():table() end,
          "elementwise chain with a nan runs")
  T.lives(function() return x:norm() end, "norm with a nan runs")
  local str = T.lives(function() return tostring(x) end, "tostring with a nan runs")
  T.ok(str and str:lower():find("nan", 1, true), "the print shows nan")
  T.is(attn.allclose(x, x:clone()), false, "allclose with a nan is false")
end)

T.done_testing()
