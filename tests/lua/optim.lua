-- optim.lua: attn.optim against the update formulas worked out in plain Lua
-- numbers (not tensors) on a 2-element parameter, the schedules' rates at
-- chosen steps by hand, clip_grad_norm on a hand example, and the errors.
--
-- The loss in the optimizer tests is sum(c * p) + sum(p * p) / 2, whose
-- gradient g = c + p is easy to write by hand and changes as p moves, so
-- three steps exercise the state (momentum buffers, Adam's moments).

local T = dofile((os.getenv("ATTNLAB_PATH") or ".") .. "/tests/lua/tap.lua")
local attn = attn or require "attn"
local optim = attn.optim

local P0, C = {0.5, -1.5}, {0.25, -2.0}   -- exact in float32
local TOL = 1e-5

local function grad_of(p) return {C[1] + p[1], C[2] + p[2]} end

-- A fresh parameter and a function that fills its .grad from the loss.
local function setup()
  local p = attn.tensor(P0):requires_grad(true)
  local c = attn.tensor(C)
  local function backward()
    local loss = (c * p):sum() + (p * p):sum() * 0.5
    loss:backward()
  end
  return p, backward
end

-- Run n optimizer steps on the tensor; return the parameter's values after each.
local function run(make_opt, n, between)
  local p, backward = setup()
  local opt = make_opt({p})
  local out = {}
  for k = 1, n do
    opt:zero_grad()
    backward()
    opt:step()
    out[k] = p:table()
    if between then between(opt, k) end
  end
  return out, opt, p
end

local function compare(got, want, name)
  for k = 1, #want do T.tensor_near(got[k], want[k], TOL, name .. ", step " .. k) end
end

T.section("SGD", function()
  -- plain: p = p - lr * g
  local got = run(function(ps) return optim.SGD(ps, {lr = 0.1}) end, 3)
  local p, want = {P0[1], P0[2]}, {}
  for k = 1, 3 do
    local g = grad_of(p)
    for i = 1, 2 do p[i] = p[i] - 0.1 * g[i] end
    want[k] = {p[1], p[2]}
  end
  compare(got, want, "SGD lr=0.1")

  -- momentum and weight decay: g' = g + wd p; buf = g' (first), then
  -- mu buf + g'; p = p - lr buf
  local lr, mu, wd = 0.1, 0.9, 0.1
  got = run(function(ps)
    return optim.SGD(ps, {lr = lr, momentum = mu, weight_decay = wd})
  end, 3)
  p, want = {P0[1], P0[2]}, {}
  local buf
  for k = 1, 3 do
    local g = grad_of(p)
    for i = 1, 2 do g[i] = g[i] + wd * p[i] end
    if not buf then
      buf = {g[1], g[2]}
    else
      for i = 1, 2 do buf[i] = mu * buf[i] + g[i] end
    end
    for i = 1, 2 do p[i] = p[i] - lr * buf[i] end
    want[k] = {p[1], p[2]}
  end
  compare(got, want, "SGD momentum=0.9 weight_decay=0.1")

  -- nesterov: the step uses g' + mu buf
  got = run(function(ps) return optim.SGD(ps, {lr = lr, momentum = mu, nesterov = true}) end, 3)
  p, want, buf = {P0[1], P0[2]}, {}, nil
  for k = 1, 3 do
    local g = grad_of(p)
    if not buf then
      buf = {g[1], g[2]}
    else
      for i = 1, 2 do buf[i] = mu * buf[i] + g[i] end
    end
    for i = 1, 2 do p[i] = p[i] - lr * (g[i] + mu * buf[i]) end
    want[k] = {p[1], p[2]}
  end
  compare(got, want, "SGD nesterov")

  -- opt.lr changed between steps is used by the next step
  got = run(function(ps) return optim.SGD(ps, {lr = 0.1}) end, 3,
            function(opt, k) opt.lr = 0.1 / (k + 1) end)
  p, want = {P0[1], P0[2]}, {}
  for k = 1, 3 do
    local g, step_lr = grad_of(p), 0.1 / k
    for i = 1, 2 do p[i] = p[i] - step_lr * g[i] end
    want[k] = {p[1], p[2]}
  end
  compare(got, want, "SGD with opt.lr set between steps")
end)

T.section("AdamW", function()
  local lr, b1, b2, eps, wd = 0.1, 0.9, 0.999, 1e-8, 0.1
  local got, opt = run(function(ps)
    return optim.AdamW(ps, {lr = lr, betas = {b1, b2}, eps = eps, weight_decay = wd})
  end, 3)
  -- by hand: decay p first (decoupled), then the bias-corrected Adam step
  local p, m, v, want = {P0[1], P0[2]}, {0, 0}, {0, 0}, {}
  for t = 1, 3 do
    local g = grad_of(p)
    for i = 1, 2 do
      p[i] = p[i] * (1 - lr * wd)
      m[i] = b1 * m[i] + (1 - b1) * g[i]
      v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i]
      local mhat, vhat = m[i] / (1 - b1 ^ t), v[i] / (1 - b2 ^ t)
      p[i] = p[i] - lr * mhat / (math.sqrt(vhat) + eps)
    end
    want[t] = {p[1], p[2]}
  end
  compare(got, want, "AdamW with weight decay")
  T.is(opt.state[1].step, 3, "the state counts the parameter's steps")
  T.tensor_near(opt.state[1].exp_avg, m, TOL, "state: the first moment")
  T.tensor_near(opt.state[1].exp_avg_sq, v, TOL, "state: the second moment")

  -- the first step of Adam moves each element by about lr (m/sqrt(v) = sign g)
  local p1 = run(function(ps) return optim.AdamW(ps, {lr = 0.01, weight_decay = 0}) end, 1)[1]
  local g0 = grad_of(P0)
  local function sign(x) return x > 0 and 1 or -1 end
  T.tensor_near(p1, {P0[1] - 0.01 * sign(g0[1]), P0[2] - 0.01 * sign(g0[2])}, 1e-6,
                "AdamW's first step is lr * sign(g) (bias correction at work)")

  -- The fused update (contiguous parameters) and the composed one (a
  -- parameter that is a transposed view takes it) give the same numbers.
  local function adam_run(make_param)
    attn.seed(3)
    local w0, x = attn.randn(3, 4), attn.randn(5, 3)
    local w = make_param(w0):requires_grad(true)
    local opt = optim.AdamW({w}, {lr = 0.05, weight_decay = 0.1})
    for _ = 1, 4 do
      opt:zero_grad()
      local loss = ((x:matmul(w) - 1) ^ 2):sum()
      loss:backward()
      opt:step()
    end
    return w:contiguous()
  end
  local fused = adam_run(function(w0) return w0:clone() end)
  local composed = adam_run(function(w0) return w0:T():contiguous():T() end)
  T.ok(attn.allclose(fused, composed, 1e-5, 1e-6),
       "AdamW fused and composed from tensor ops agree over 4 steps")

  -- the defaults: lr 3e-4, betas {0.9, 0.999}, eps 1e-8, weight decay 0.01
  local d = optim.AdamW({attn.zeros(1):requires_grad(true)})
  T.is({d.lr, d.betas[1], d.betas[2], d.eps, d.weight_decay}, {3e-4, 0.9, 0.999, 1e-8, 0.01},
       "AdamW's defaults")
  T.ok(tostring(d):find("AdamW(1 parameters", 1, true), "tostring names the optimizer",
       tostring(d))
end)

T.section("parameters without a gradient, zero_grad, tied weights", function()
  local p, backward = setup()
  local unused = attn.tensor({7, 8}):requires_grad(true)
  for _, make in ipairs({function(ps) return optim.SGD(ps, {lr = 0.1, momentum = 0.9}) end,
                         function(ps) return optim.AdamW(ps, {lr = 0.1}) end}) do
    local opt = make({p, unused})
    opt:zero_grad()
    backward()
    opt:step()
    T.tensor_near(unused, {7, 8}, 0, opt.kind .. " leaves a parameter without .grad alone")
    T.is(next(opt.state[2]), nil, opt.kind .. " keeps no state for it")
    T.ok(next(opt.state[1]) ~= nil, opt.kind .. " keeps state for the other")
  end
  local opt = optim.SGD({p, unused}, {lr = 0.1})
  backward()
  opt:zero_grad()
  T.tensor_near(p.grad, {0, 0}, 0, "zero_grad sets the gradients to zero")
  T.is(unused.grad, nil, "zero_grad leaves a missing gradient missing")
  local tied = optim.SGD({p, p, unused}, {lr = 0.1})
  T.is(#tied.params, 2, "a parameter listed twice is kept once (updated once)")
  T.is(#optim.SGD(p, {lr = 1}).params, 1, "a single tensor is a list of one")
end)

T.section("schedules", function()
  local function opt_with(lr) return optim.SGD({attn.zeros(1):requires_grad(true)}, {lr = lr}) end
  -- linear, warmup 3, total 10, peak 0.1:
  --   t = 0, 1, 2: 0.1 * (t + 1) / 3  -> 0.0333, 0.0667, 0.1
  --   t = 3 .. 9:  0.1 * (1 - (t - 3) / 7)
  --   t >= 10:     0 (min_lr)
  local opt = opt_with(0.1)
  local s = optim.schedule(opt, {warmup = 3, total = 10, kind = "linear"})
  T.near(opt.lr, 0.1 / 3, 1e-12, "the schedule sets the first step's lr at once")
  local want = {[0] = 0.1 / 3, 0.2 / 3, 0.1, 0.1, 0.6 / 7, 0.5 / 7, 0.4 / 7, 0.3 / 7, 0.2 / 7,
                0.1 / 7, 0, 0}
  for t = 0, 11 do T.near(s:lr(t), want[t], 1e-12, "linear: lr after " .. t .. " steps") end
  for t = 1, 11 do
    local r = s:step()
    if not T.close(opt.lr, want[t], 1e-12) or r ~= opt.lr then
      T.fail("step() sets opt.lr", ("after %d steps opt.lr = %g, expected %g"):format(t, opt.lr,
                                                                                   want[t]))
      break
    end
    if t == 11 then T.pass("step() sets opt.lr along the schedule") end
  end
  T.is(s.t, 11, "the schedule counts its steps")

  -- cosine, warmup 3, total 7, peak 0.1, min_lr 0.01: after the ramp,
  -- 0.01 + 0.09 * (1 + cos(pi * (t - 3) / 4)) / 2:
  --   t = 3: 0.1;  t = 4: 0.01 + 0.09 * 0.8535534 = 0.08681981;
  --   t = 5: 0.01 + 0.09 * 0.5 = 0.055;  t = 6: 0.01 + 0.09 * 0.1464466 = 0.02318019;
  --   t = 7 and after: 0.01
  s = optim.schedule(opt_with(0.1), {warmup = 3, total = 7, kind = "cosine", min_lr = 0.01})
  local cos_want = {[0] = 0.1 / 3, 0.2 / 3, 0.1, 0.1, 0.08681981, 0.055, 0.02318019, 0.01, 0.01}
  for t = 0, 8 do T.near(s:lr(t), cos_want[t], 1e-7, "cosine: lr after " .. t .. " steps") end

  -- no warmup: the first step has the full rate
  s = optim.schedule(opt_with(0.5), {total = 4, kind = "cosine"})
  T.near(s:lr(0), 0.5, 1e-12, "cosine without warmup starts at the peak")
  T.near(s:lr(2), 0.25, 1e-12, "cosine without warmup: half way at half the peak")

  -- constant after a warmup of 2; total may be left out
  s = optim.schedule(opt_with(0.2), {warmup = 2, kind = "constant"})
  T.is({s:lr(0), s:lr(1), s:lr(2), s:lr(1000)}, {0.1, 0.2, 0.2, 0.2}, "constant after warmup")

  -- lr= overrides the optimizer's rate as the peak
  opt = opt_with(0.1)
  s = optim.schedule(opt, {lr = 1, total = 2})
  T.is({opt.lr, s:lr(1)}, {1, 0.5}, "lr= sets the peak")
end)

T.section("clip_grad_norm", function()
  -- grads {3, 4} and {12}: the norm of (3, 4, 12) is 13
  local a = attn.tensor({1, 1}):requires_grad(true)
  local b = attn.tensor({1}):requires_grad(true)
  local none = attn.tensor({5}):requires_grad(true)
  local function backward()
    a:zero_grad()
    b:zero_grad()
    ;((a * attn.tensor({3, 4})):sum() + (b * 12):sum()):backward()
  end
  backward()
  T.near(optim.clip_grad_norm({a, b, none}, 20), 13, 1e-6, "the total norm of all gradients")
  T.tensor_near(a.grad, {3, 4}, 0, "below max_norm nothing changes")
  backward()
  T.near(optim.clip_grad_norm({a, b, none}, 6.5), 13, 1e-6, "returns the norm before clipping")
  -- scaled by 6.5 / 13 = 0.5 (to 1e-7: PyTorch's 1e-6 in the denominator)
  T.tensor_near(a.grad, {1.5, 2}, 1e-6, "clipped to max_norm: first gradient halved")
  T.tensor_near(b.grad, {6}, 1e-6, "clipped to max_norm: second gradient halved")
  T.is(none.grad, nil, "a parameter without .grad is skipped")
  T.near(optim.clip_grad_norm({a, b}, 100), 6.5, 1e-5, "the clipped norm is max_norm")
end)

T.section("errors name the function", function()
  local w = attn.zeros(2):requires_grad(true)
  T.raises(function() optim.SGD({w}) end, "SGD: lr is required", "SGD without lr")
  T.raises(function() optim.SGD({w}, {lr = 0.1, learning_rate = 1}) end,
           {"SGD: unknown option 'learning_rate'", "known: lr"}, "a misspelt option")
  T.raises(function() optim.SGD({w}, {lr = -1}) end, "SGD: lr must be in [0, inf), got -1",
           "a negative lr")
  T.raises(function() optim.SGD({w}, {lr = 0.1, momentum = 1}) end, "SGD: momentum must be in",
           "momentum 1")
  T.raises(function() optim.SGD({w}, {lr = 0.1, nesterov = true}) end,
           "SGD: nesterov=true needs a momentum", "nesterov without momentum")
  T.raises(function() optim.SGD({}, {lr = 0.1}) end, "SGD: params is an empty list", "no params")
  T.raises(function() optim.SGD({w = w}, {lr = 0.1}) end, "SGD: params must be a list",
           "a map of parameters")
  T.raises(function() optim.SGD({w, 3}, {lr = 0.1}) end,
           "SGD: params[2] is a number, expected a tensor", "a number among the params")
  T.raises(function() optim.AdamW({w * 2}) end, "AdamW: params[1] is computed from other tensors",
           "a non-leaf tensor")
  T.raises(function() optim.AdamW({w}, {betas = {0.9}}) end, "AdamW: betas must be a pair",
           "one beta")
  T.raises(function() optim.AdamW({w}, {betas = {0.9, 1.5}}) end, "AdamW: betas[2] must be in",
           "beta of 1.5")
  T.raises(function() optim.AdamW("w") end, "AdamW: params must be a list of tensors, got string",
           "a string as params")
  local opt = optim.SGD({w}, {lr = 0.1})
  T.raises(function() optim.schedule(opt, {warmup = 3}) end, "schedule: total", "no total")
  T.raises(function() optim.schedule(opt, {warmup = 5, total = 3}) end,
           "schedule: warmup (5) is longer than total (3)", "warmup > total")
  T.raises(function() optim.schedule(opt, {total = 3, kind = "cos"}) end,
           "schedule: kind must be", "an unknown kind")
  T.raises(function() optim.schedule({}, {total = 3}) end, "schedule: expected an optimizer",
           "no optimizer")
  T.raises(function() optim.schedule(opt, {total = 3}):lr(-1) end, "t must be an integer",
           "lr(-1)")
  T.raises(function() optim.clip_grad_norm({w}, 0) end, "clip_grad_norm: max_norm must be",
           "max_norm 0")
  T.raises(function() optim.clip_grad_norm(nil, 1) end, "clip_grad_norm: params must be",
           "clip without params")
end)

T.done_testing()
