-- cuda_parity.lua: every op of the CUDA backend and its gradient against the
-- CPU backend over several shapes (odd sizes that cut every tile, broadcast
-- operands, transposed views), the seeded random stream, the two-device
-- error, and GPT / BERT forward passes and a training step on both devices.
--
-- The CPU results are the reference: each op there is itself checked against
-- loops and finite differences by the other tests. Inputs are made once on
-- the CPU and copied, so both devices see the same floats. Where no GPU can
-- be used every device case is reported as "# SKIP no CUDA device"; the checks
-- that need no GPU (the message, the CPU working on) still run.

local T = dofile((os.getenv("ATTNLAB_PATH") or ".") .. "/tests/lua/tap.lua")
local attn = attn or require "attn"
local F = attn.F

-- CUDA_PARITY_SELFTEST=1 runs every device case with the cpu standing in
-- for the GPU: a check of this script itself on machines without one.
local selftest = os.getenv("CUDA_PARITY_SELFTEST") == "1"
local GPU = selftest and "cpu" or "cuda"
local have_gpu = attn.cuda.available() or selftest

-- ---- without a device -----------------------------------------------------------
if not attn.cuda.available() then
  local name, why = attn.cuda.device_name()
  T.is(name, nil, "no GPU: device_name gives nil")
  T.ok(type(why) == "string" and why:find("cuda", 1, true) ~= nil, "and a reason that names cuda",
       why)
  T.raises(function() return attn.ones(2):to("cuda") end, {"cuda"},
           "moving a tensor to cuda is an error that says why")
  T.raises(function() attn.set_default_device("cuda") end, {"cuda"},
           "so is making cuda the default device")
  T.is(attn.default_device(), "cpu", "and the default stays the cpu")
  T.is((attn.ones(2, 2) * 3):sum():item(), 12, "the cpu keeps working after the refusals")
end

-- ---- helpers --------------------------------------------------------------------

-- max |a - b| / (1 + max |b|); NaN and infinities must sit at the same
-- places in both. (masked_fill keeps where its mask is non-zero.)
local function rel_err(a, b)
  a, b = a:to("cpu"), b:to("cpu")
  local a_nan, b_nan = a:ne(a), b:ne(b)
  if not attn.allclose(a_nan, b_nan, 0, 0) then return math.huge end
  local differ = a:ne(b):masked_fill(a:eq(a), 0)         -- 0 at NaNs and at equal values
  local d = (a - b):abs():masked_fill(differ, 0)          -- inf where one is infinite alone
  local finite_b = b:masked_fill(b:eq(b), 0)
  finite_b = finite_b:masked_fill(finite_b:abs():lt(math.huge), 0)
  return d:max():item() / (1 + finite_b:abs():max():item())
end

-- check(name, tol, fn): fn(dev) returns a tensor or a list of tensors computed
-- on dev from inputs made by `inputs` (a table of CPU tensors moved to dev).
local function on(dev, xs, grad)
  local out = {}
  for k, x in pairs(xs) do
    local t = x:to(dev)
    if grad then t = t:detach():requires_grad(true) end
    out[k] = t
  end
  return out
end

local function as_list(r) return attn.is_tensor(r) and {r} or r end

local function check(name, tol, inputs, fn)
  if not have_gpu then return T.skip(name, "no CUDA device") end
  local ok, cpu = pcall(function() return as_list(fn(on("cpu", inputs), "cpu")) end)
  if not ok then return T.fail(name, "cpu: " .. tostring(cpu)) end
  local ok2, gpu = pcall(function() return as_list(fn(on(GPU, inputs), GPU)) end)
  if not ok2 then return T.fail(name, "cuda: " .. tostring(gpu)) end
  local worst = 0
  for i = 1, #cpu do
    T.ok(gpu[i]:device() == GPU, "on " .. GPU)
    T.is(gpu[i]:shape(), cpu[i]:shape(), nil)
    worst = math.max(worst, rel_err(gpu[i], cpu[i]))
  end
  T.ok(worst <= tol, name, string.format("worst relative error %.3g (tol %g)", worst, tol))
end

-- check_grad(name, tol, inputs, fn): fn(xs) returns one tensor; compares it and
-- the gradients of sum(out * R) with respect to every input.
local function check_grad(name, tol, inputs, fn)
  if not have_gpu then return T.skip(name, "no CUDA device") end
  local R
  local function run(dev)
    local xs = on(dev, inputs, true)
    local out = fn(xs, dev)
    R = R or attn.randn(table.unpack(out:shape()))
    ;(out * R:to(dev)):sum():backward()
    local res, keys = {out}, {}
    for k in pairs(xs) do keys[#keys + 1] = k end
    table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
    for _, k in ipairs(keys) do res[#res + 1] = xs[k].grad end
    return res
  end
  local ok, cpu = pcall(run, "cpu")
  if not ok then return T.fail(name, "cpu: " .. tostring(cpu)) end
  local ok2, gpu = pcall(run, GPU)
  if not ok2 then return T.fail(name, "cuda: " .. tostring(gpu)) end
  local worst = 0
  for i = 1, #cpu do worst = math.max(worst, rel_err(gpu[i], cpu[i])) end
  T.ok(worst <= tol, name .. " (value and gradients)",
       string.format("worst relative error %.3g (tol %g)", worst, tol))
end

attn.seed(11)
local function randn(...) return attn.randn(...) end

-- ---- creation, copies, the random stream ------------------------------------------

check("full and zeros", 0, {}, function(_, dev)
  return {attn.full({3, 5}, 2.5, {device = dev}), attn.zeros(7, {device = dev}),
          attn.eye(4, 6, {device = dev}), attn.arange(0, 3, 0.25, {device = dev})}
end)
check("copies of transposed, narrowed and expanded views", 0,
  {x = randn(37, 19), r = randn(1, 19)}, function(x)
    return {x.x:T():contiguous(), x.x:narrow(2, 3, 11):contiguous(),
            x.r:expand(5, 19):contiguous(), x.x:T():narrow(1, 2, 5):clone()}
  end)
check("a view written in place", 0, {x = randn(6, 8)}, function(x)
  local t = x.x:clone()
  t:narrow(2, 2, 3):fill(7)
  t:select(1, 4):copy(x.x:select(1, 1))
  return t
end)

if have_gpu then
  for _, n in ipairs({1, 5, 4097}) do
    attn.seed(99); local c1, n1 = attn.rand(n), attn.randn(n)
    attn.seed(99)
    local c2, n2 = attn.rand(n, {device = GPU}), attn.randn(n, {device = GPU})
    T.is(c2:to("cpu"):table(), c1:table(), "rand: the same numbers on cuda, n = " .. n)
    T.ok(rel_err(n2, n1) <= 1e-6, "randn: the same numbers to rounding, n = " .. n,
         rel_err(n2, n1))
  end
  attn.seed(5); local a = attn.rand(10); local b = attn.rand(10)
  attn.seed(5); local a2 = attn.rand(10, {device = GPU}); local b2 = attn.rand(10)
  T.is({a2:to("cpu"):table(), b2:table()}, {a:table(), b:table()},
       "a draw on cuda advances the one stream as a cpu draw does")
else
  T.skip("rand and randn give the cpu's numbers", "no CUDA device")
end

-- ---- elementwise ----------------------------------------------------------------

local binary = {"add", "sub", "mul", "div", "maximum", "minimum", "eq", "ne", "lt", "le",
                "gt", "ge"}
local pairs_of_shapes = {{{5, 7}, {7}}, {{3, 1, 4}, {2, 4}}, {{1}, {33, 65}}, {{129}, {129}}}
for _, op in ipairs(binary) do
  for _, sh in ipairs(pairs_of_shapes) do
    local a, b = randn(table.unpack(sh[1])), randn(table.unpack(sh[2]))
    if op:match("^[eln][eqt]") or op == "ge" or op == "gt" then b = b:masked_fill(b:gt(0.5), 0) end
    check(string.format("%s [%s] and [%s]", op, table.concat(sh[1], ","), table.concat(sh[2], ",")),
          1e-6, {a = a, b = b}, function(x) return x.a[op](x.a, x.b) end)
  end
end
check("pow with a tensor exponent and with 2", 1e-5,
  {a = randn(9, 11):abs() + 0.1, b = randn(9, 11)},
  function(x) return {x.a:pow(x.b), x.a:pow(2), x.a:pow(0.5)} end)
check("binary ops on transposed operands", 1e-6, {a = randn(13, 17), b = randn(17, 13)},
  function(x) return {x.a + x.b:T(), x.a:T() * x.b, x.a:T() / (x.b:abs() + 1)} end)

local unary = {"neg", "exp", "tanh", "sigmoid", "relu", "gelu", "sin", "cos", "square", "sign",
               "abs"}
for _, op in ipairs(unary) do
  check(op .. " over odd shapes and a transposed view", 1e-5, {x = randn(33, 65) * 3},
    function(x) return {x.x[op](x.x), x.x:T()[op](x.x:T())} end)
end
check("log, sqrt and reciprocal on positive values", 1e-5, {x = randn(1000):abs() + 1e-3},
  function(x) return {x.x:log(), x.x:sqrt(), 1 / x.x} end)
check("gelu (tanh form)", 1e-5, {x = randn(517) * 4}, function(x) return x.x:gelu("tanh") end)
check("masked_fill with a broadcast mask", 0, {x = randn(4, 9, 5), m = randn(9, 1)},
  function(x) return x.x:masked_fill(x.m:gt(0), -1e9) end)

for _, op in ipairs({"exp", "tanh", "sigmoid", "gelu", "sin", "sqrt", "log"}) do
  check_grad(op .. " gradient", 1e-5, {x = randn(7, 13):abs() + 0.1},
    function(x) return x.x[op](x.x) end)
end
check_grad("gelu tanh-form gradient", 1e-5, {x = randn(301) * 3},
  function(x) return x.x:gelu("tanh") end)
check_grad("broadcast binary gradients", 1e-5, {a = randn(4, 1, 6), b = randn(5, 6)},
  function(x) return (x.a * x.b + x.a / (x.b:abs() + 1)):maximum(x.a - x.b) end)

-- ---- reductions and softmax ------------------------------------------------------

local red = randn(5, 37, 9)
local ties = (randn(6, 300) * 2):relu():sqrt():mul(2):add(0.5):relu() -- many exact zeros
for _, op in ipairs({"sum", "mean", "max", "min", "argmax", "argmin"}) do
  for dim = 1, 3 do
    check(string.format("%s over dim %d of [5,37,9]", op, dim), 1e-5, {x = red},
      function(x) return x.x[op](x.x, dim) end)
  end
  check(op .. " over everything", 1e-5, {x = red}, function(x) return x.x[op](x.x) end)
  check(op .. " with ties, over rows and columns", 1e-5, {x = ties},
    function(x) return {x.x[op](x.x, 2), x.x[op](x.x, 1)} end)
end
-- 1e-5: the cpu sums an outer dim in float, the GPU in double
check("sum of a million elements", 1e-5, {x = randn(1000, 1000)},
  function(x) return {x.x:sum(), x.x:sum(1), x.x:sum(2), x.x:T():sum(2)} end)
check("max with NaN wins, as on the cpu", 0, {x = attn.tensor({{1, 0 / 0, 3}, {4, 5, 6}})},
  function(x) return {x.x:max(2), x.x:argmax(2), x.x:min(2)} end)

for _, sh in ipairs({{4, 33, 9}, {3, 2100}, {2, 5000}}) do
  for dim = 1, #sh do
    check(string.format("softmax over dim %d of [%s]", dim, table.concat(sh, ",")), 1e-5,
      {x = randn(table.unpack(sh)) * 4}, function(x) return x.x:softmax(dim) end)
  end
end
check("softmax of a fully masked row is zeros", 0,
  {x = attn.tensor({{-1 / 0, -1 / 0}, {0, 1}})}, function(x) return x.x:softmax(2) end)
check_grad("softmax and reduction gradients", 1e-5, {x = randn(6, 70)},
  function(x) return x.x:softmax(2) * x.x:mean(2, true) + x.x:max(1, true) end)

-- ---- matmul ------------------------------------------------------------------------

local mm = {
  {"[17,33] @ [33,9]", {17, 33}, {33, 9}},
  {"batched [3,17,33] @ [33,9] (one folded gemm)", {3, 17, 33}, {33, 9}},
  {"batched [3,17,33] @ [3,33,9]", {3, 17, 33}, {3, 33, 9}},
  {"broadcast batch [2,1,5,6] @ [3,6,4]", {2, 1, 5, 6}, {3, 6, 4}},
  {"vector @ matrix", {33}, {33, 9}},
  {"matrix @ vector", {17, 33}, {33}},
  {"large [257,513] @ [513,129]", {257, 513}, {513, 129}},
}
for _, c in ipairs(mm) do
  check("matmul " .. c[1], 1e-5, {a = randn(table.unpack(c[2])), b = randn(table.unpack(c[3]))},
    function(x) return x.a:matmul(x.b) end)
end
check("matmul of transposed views (no copy)", 1e-5, {a = randn(33, 17), b = randn(9, 33)},
  function(x) return {x.a:T():matmul(x.b:T()), x.a:T():matmul(x.a), x.b:matmul(x.b:T())} end)
check("matmul of heads: q @ k^T over [2,3,7,8]", 1e-5, {q = randn(2, 3, 7, 8), k = randn(2, 3, 11, 8)},
  function(x) return x.q:matmul(x.k:transpose(3, 4)) end)
check("matmul with an empty inner dim is zeros", 0, {a = attn.zeros(3, 0), b = attn.zeros(0, 4)},
  function(x) return x.a:matmul(x.b) end)
check_grad("matmul gradients (batched, broadcast weight)", 1e-5,
  {a = randn(2, 5, 7), w = randn(7, 3)}, function(x) return x.a:matmul(x.w) end)

-- ---- neural-network primitives -------------------------------------------------------

check_grad("embedding and its backward (repeated ids)", 1e-6, {w = randn(11, 6)},
  function(x) return F.embedding({{0, 5, 5}, {10, 0, 5}}, x.w) end)
for _, C in ipairs({1, 7, 768, 1000}) do
  check_grad("layer_norm over " .. C .. " columns", 1e-4,
    {x = randn(67, C) * 3 + 1, w = randn(C), b = randn(C)},
    function(x) return F.layer_norm(x.x, x.w, x.b) end)
end
check_grad("layer_norm without weight and bias, 4000 rows", 1e-4, {x = randn(4000, 16)},
  function(x) return F.layer_norm(x.x) end)
for _, C in ipairs({3, 517, 50257}) do
  local N = C > 1000 and 4 or 9
  local targets = {}
  for i = 1, N do targets[i] = 1 + (i * 7919) % C end
  check_grad("cross_entropy over " .. C .. " classes", 1e-5, {x = randn(N, C) * 2},
    function(x) return F.cross_entropy(x.x, targets, {reduction = "none"}) end)
end

-- ---- attention ----------------------------------------------------------------------

local att = {
  -- the tiled kernel for heads up to 64, tiles cut in every way
  {lead = {2, 3}, Tq = 70, Tk = 70, D = 64, Dv = 64},
  {lead = {1}, Tq = 33, Tk = 129, D = 8, Dv = 5},
  {lead = {2}, Tq = 130, Tk = 17, D = 64, Dv = 48},
  {lead = {}, Tq = 1, Tk = 1, D = 4, Dv = 4},
  -- the tiled kernel for heads up to 128 (row kernels on GPUs with 64 KiB)
  {lead = {2}, Tq = 100, Tk = 65, D = 100, Dv = 128},
  -- the row kernels: any head size
  {lead = {1, 2}, Tq = 37, Tk = 41, D = 160, Dv = 3},
}
for _, s in ipairs(att) do
  for _, causal in ipairs({false, true}) do
    local function shape(T_, D_)
      local t = {table.unpack(s.lead)}
      t[#t + 1], t[#t + 2] = T_, D_
      return t
    end
    local name = string.format("flash attention lead=[%s] Tq=%d Tk=%d D=%d Dv=%d causal=%s",
      table.concat(s.lead, ","), s.Tq, s.Tk, s.D, s.Dv, tostring(causal))
    check_grad(name, 1e-4, {q = randn(table.unpack(shape(s.Tq, s.D))),
                            k = randn(table.unpack(shape(s.Tk, s.D))),
                            v = randn(table.unpack(shape(s.Tk, s.Dv)))},
      function(x) return F.flash_attention(x.q, x.k, x.v, {causal = causal}) end)
  end
end
-- (made with the device as the default: the causal mask is made there)
check("materialised attention with weights", 1e-5,
  {q = randn(2, 9, 8), k = randn(2, 12, 8), v = randn(2, 12, 8)}, function(x, dev)
    attn.set_default_device(dev)
    local ok, o, w = pcall(F.scaled_dot_product_attention, x.q, x.k, x.v,
                           {causal = true, weights = true})
    attn.set_default_device("cpu")
    assert(ok, o)
    return {o, w}
  end)

-- ---- two devices ------------------------------------------------------------------

if attn.cuda.available() then
  local g, c = attn.ones(3, {device = "cuda"}), attn.ones(3)
  T.raises(function() return g + c end, {"two devices", "cuda", "cpu"},
           "operands on two devices are an error that says so")
  T.raises(function() return g:matmul(attn.ones(3, 2)) end, {"two devices"}, "matmul too")
  -- 320 GB: more than any GPU has, less than the shape check's limit
  T.raises(function() return attn.zeros(80000, 1000000, {device = "cuda"}) end,
           {"out of device memory"}, "an allocation beyond the GPU's memory is an error")
  T.is((g * 2):sum():item(), 6, "and the GPU works on after it")
else
  T.skip("operands on two devices are an error", "no CUDA device")
end

-- ---- models ---------------------------------------------------------------------------

-- the same model on each device: the same seed gives the same weights
local function model_run(dev, make, batch, targets)
  attn.set_default_device(dev)
  attn.seed(2024)
  local m = make()
  local opt = attn.optim.AdamW(m:parameters(), {lr = 1e-3})
  local out = m:forward(batch)
  local logits = type(out) == "table" and out[1] or out
  local flat = logits:reshape(-1, logits:size(logits:dim()))
  local loss = F.cross_entropy(flat, targets)
  opt:zero_grad()
  loss:backward()
  opt:step()
  local after = m:forward(batch)
  attn.set_default_device("cpu")
  return logits, loss, type(after) == "table" and after[1] or after
end

local function check_model(name, make, batch, targets)
  if not have_gpu then return T.skip(name, "no CUDA device") end
  local ok, l1, s1, a1 = pcall(model_run, "cpu", make, batch, targets)
  local ok2, l2, s2, a2 = pcall(model_run, GPU, make, batch, targets)
  attn.set_default_device("cpu")
  if not ok or not ok2 then return T.fail(name, tostring(ok and l2 or l1)) end
  T.ok(rel_err(l2, l1) <= 1e-4, name .. ": forward", rel_err(l2, l1))
  T.ok(rel_err(s2, s1) <= 1e-4, name .. ": loss", rel_err(s2, s1))
  T.ok(rel_err(a2, a1) <= 1e-3, name .. ": forward after one AdamW step", rel_err(a2, a1))
end

local gpt_batch, gpt_targets = {{1, 5, 9, 2, 7, 3}, {4, 4, 8, 1, 2, 6}}, {}
for i = 1, 12 do gpt_targets[i] = 1 + (i * 5) % 13 end
check_model("GPT (2 layers, 4 heads of 16)", function()
  return attn.models.gpt{vocab = 13, ctx = 8, n_layer = 2, n_head = 4, d_model = 64}
end, gpt_batch, gpt_targets)
check_model("BERT (2 layers, 2 heads of 16)", function()
  return attn.models.bert{vocab = 13, ctx = 8, n_layer = 2, n_head = 2, d_model = 32}
end, gpt_batch, gpt_targets)

T.done_testing()
