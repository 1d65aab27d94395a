-- autograd.lua: every differentiable tensor op's gradient against central
-- finite differences, plus the graph's rules (sharing, accumulation,
-- no_grad, detach, in-place writes, errors).
--
-- (the method and its tolerance: tests/lua/gradcheck.lua)

local T = dofile((os.getenv("ATTNLAB_PATH") or ".") .. "/tests/lua/tap.lua")
local attn = attn or require "attn"
attn.seed(2024)

local gradcheck = dofile((os.getenv("ATTNLAB_PATH") or ".") .. "/tests/lua/gradcheck.lua")
local function check(...) return gradcheck(T, ...) end

-- ---- elementwise with broadcasting -------------------------------------------
check("a + b broadcast [2,3]+[3]", function(a, b) return a + b end, {{2, 3}, {3}})
check("a - b broadcast [2,1]-[1,3]", function(a, b) return a - b end, {{2, 1}, {1, 3}})
check("a * b broadcast [4,1,3]*[2,3]", function(a, b) return a * b end, {{4, 1, 3}, {2, 3}})
check("a / b", function(a, b) return a / b end, {{2, 3}, {2, 3}}, {positive = true})
check("a ^ b", function(a, b) return a ^ b end, {{2, 3}, {3}}, {positive = true})
-- max/min have a kink where a = b: keep the operands 0.5 apart so the
-- finite differences never step across it
local a0 = attn.randn(3, 4)
local apart = {inputs = {a0, a0 + attn.randn(3, 4):sign() * 0.5}}
check("maximum(a, b)", function(a, b) return a:maximum(b) end, {{3, 4}, {3, 4}}, apart)
check("minimum(a, b)", function(a, b) return a:minimum(b) end, {{3, 4}, {3, 4}}, apart)
check("scalars on either side", function(a)
  return ((2 - a) * 3 + a / 4 - 1) / (a + 5) + 2 ^ a + a ^ 3 + 1 / (a + 4)
end, {{2, 3}}, {positive = true})
check("unary minus", function(a) return -a end, {{3}})
check("maximum and minimum with a number", function(a) return a:maximum(0.1):minimum(0.8) end,
      {{3, 4}}, {away = true})

for _, u in ipairs({"exp", "tanh", "sigmoid", "gelu", "sin", "cos", "square"}) do
  check(u, function(a) return a[u](a) end, {{3, 4}})
end
check("gelu('tanh')", function(a) return a:gelu("tanh") end, {{3, 4}})
check("log", function(a) return a:log() end, {{3, 4}}, {positive = true})
check("sqrt", function(a) return a:sqrt() end, {{3, 4}}, {positive = true})
check("abs", function(a) return a:abs() end, {{3, 4}}, {away = true})
check("relu", function(a) return a:relu() end, {{3, 4}}, {away = true})
check("pow(p)", function(a) return a:pow(1.5) end, {{3, 4}}, {positive = true})

-- ---- reductions, softmax, norm ---------------------------------------------------
check("sum()", function(a) return a:sum() end, {{3, 4}})
check("sum(1)", function(a) return a:sum(1) end, {{3, 4, 2}})
check("sum(-1, keepdim)", function(a) return a:sum(-1, true) end, {{3, 4}})
check("mean(2)", function(a) return a:mean(2) end, {{3, 4}})
check("mean()", function(a) return a:mean() end, {{3, 4}})
check("max(2)", function(a) return (a:max(2)) end, {{3, 5}})
check("max()", function(a) return a:max() end, {{3, 5}})
check("min(1, keepdim)", function(a) return (a:min(1, true)) end, {{4, 3}})
check("softmax(2)", function(a) return a:softmax(2) end, {{3, 5}})
check("softmax(1) of 3-d", function(a) return a:softmax(1) end, {{3, 2, 4}})
check("norm", function(a) return a:norm() end, {{3, 4}})

-- ---- matmul ----------------------------------------------------------------------------
check("matmul 2-d", function(a, b) return a:matmul(b) end, {{3, 4}, {4, 5}})
check("matmul batched", function(a, b) return a:matmul(b) end, {{2, 3, 4}, {2, 4, 2}})
check("matmul broadcast weight", function(a, b) return a:matmul(b) end, {{2, 3, 4}, {4, 5}})
check("matmul 4-d batch with a weight", function(a, b) return a:matmul(b) end, {{2, 2, 3, 4}, {4, 5}})
check("matmul transposed batch with a weight", function(a, b) return a:transpose(2, 3):matmul(b) end,
      {{2, 4, 3}, {4, 5}})
check("matmul broadcast batch [1,..]", function(a, b) return a:matmul(b) end, {{1, 3, 4}, {2, 4, 2}})
check("matmul vector @ matrix", function(a, b) return a:matmul(b) end, {{4}, {4, 3}})
check("matmul matrix @ vector", function(a, b) return a:matmul(b) end, {{3, 4}, {4}})
check("matmul vector @ vector", function(a, b) return a:matmul(b) end, {{4}, {4}})
check("matmul with a transposed view", function(a, b) return a:T():matmul(b) end, {{4, 3}, {4, 2}})

-- ---- views and copies -------------------------------------------------------------
check("select", function(a) return a:select(2, 3) end, {{3, 4}})
check("t[i]", function(a) return a[2] end, {{3, 4}})
check("narrow", function(a) return a:narrow(2, 2, 2) end, {{3, 4}})
check("transpose", function(a) return a:transpose(1, 3) end, {{2, 3, 4}})
check("reshape", function(a) return a:reshape(4, -1) end, {{2, 3, 2}})
check("reshape of a transpose", function(a) return a:T():reshape(-1) end, {{3, 4}})
check("unsqueeze / squeeze", function(a) return a:unsqueeze(2):squeeze() end, {{3, 4}})
check("expand", function(a) return a:expand(3, 2, 4) end, {{2, 1}})
check("clone and contiguous", function(a) return a:T():contiguous():clone() end, {{3, 4}})
check("cat", function(a, b) return attn.cat({a, b, a}, 2) end, {{2, 3}, {2, 2}})
check("stack of 6 (a tree of cats)", function(a, b)
  return attn.stack({a, b, a * 2, b, a, b - 1})
end, {{2, 3}, {2, 3}})

-- ---- a small network, the way training code uses it ----------------------------
check("two-layer net with softmax attention", function(x, w1, w2)
  local h = x:matmul(w1):gelu()
  local att = h:matmul(h:T()):softmax(-1)
  return att:matmul(h):matmul(w2):tanh()
end, {{4, 3}, {3, 5}, {5, 2}})

-- ---- graph rules ----------------------------------------------------------------------
do
  local x = attn.tensor({1, 2, 3}):requires_grad(true)
  local y = (x * x + x):sum()      -- dy/dx = 2x + 1
  y:backward()
  T.is(x.grad:table(), {3, 5, 7}, "a tensor used twice gets both contributions")
  y:backward()
  T.is(x.grad:table(), {6, 10, 14}, "a second backward adds into .grad")
  x:zero_grad()
  T.is(x.grad:table(), {0, 0, 0}, "zero_grad zeroes in place")
  T.ok(x:is_leaf() and not y:is_leaf() and y:grad_fn() == "sum", "leaves and grad_fn names")
end

do
  local x = attn.ones(2):requires_grad(true)
  local y = attn.no_grad(function() return x * 2 end)
  T.ok(not y:needs_grad() and y:grad_fn() == nil, "no_grad records nothing")
  local ok = pcall(attn.no_grad, function() error("inside") end)
  T.ok(not ok and (x * 2):needs_grad(), "grad mode comes back after an error in no_grad")
  local d = (x * 3):detach()
  T.ok(not d:needs_grad() and d:is_leaf(), "detach gives a leaf outside the graph")
end

do
  local w = attn.ones(3):requires_grad(true)
  T.raises(function() w:fill(0) end, {"fill", "gradient graph"}, "fill on a leaf that requires grad")
  T.raises(function() w[1] = 5 end, {"setindex", "gradient graph"}, "t[i] = v on it")
  local e = w:exp()
  T.raises(function() e:requires_grad(true) end, {"requires_grad", "exp"},
           "requires_grad on a computed tensor names its op")
  T.raises(function() (w * 2):backward() end, {"backward", "[3]"},
           "backward on a non-scalar without a gradient")
  T.raises(function() attn.ones(2):sum():backward() end, {"backward", "requires grad"},
           "backward with nothing to differentiate")
  -- a saved value changed in place after the forward pass
  local a = attn.tensor({1, 2}):requires_grad(true)
  local b = attn.tensor({3, 4})
  local y = (a * b):sum()
  b[1] = 10
  T.raises(function() y:backward() end, {"backward", "mul", "modified in place"},
           "a saved input modified in place is caught")
  local g = attn.tensor({1, 1, 1})
  local z = w * 2
  z:backward(g)
  T.is(w.grad:table(), {2, 2, 2}, "backward with an explicit gradient")
end

T.done_testing()
