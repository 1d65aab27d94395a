-- gradcheck.lua: analytic gradients against central finite differences.
--
-- check(T, name, f, shapes, opts): loss = sum(f(inputs) * R) for a fixed
-- random R, so every output element matters with its own weight. For each
-- input element x_i, (loss(x_i + h) - loss(x_i - h)) / 2h, computed over
-- float32 evaluations, must match the analytic gradient within
-- 2e-2 * (1 + |fd|): with h = 1e-2 the truncation error is O(h^2 f''')
-- and the float32 rounding of the loss about 1e-7 |loss| / h, both well
-- inside. opts.positive draws inputs in [0.5, 1.5], opts.away keeps
-- |x| >= 0.2 (kinks at 0), opts.inputs gives them, opts.only lists the
-- inputs to check (default all).
local attn = attn or require "attn"

local H, TOL = 1e-2, 2e-2

local function draw(shape, opts, i)
  if opts.inputs and opts.inputs[i] then return opts.inputs[i] end
  if opts.positive then return attn.rand(table.unpack(shape)) + 0.5 end
  local t = attn.randn(table.unpack(shape))
  if opts.away then t = t:sign() * (t:abs() + 0.2) end
  return t
end

-- The worst relative error over the elements of input x (index k).
local function worst_error(f, inputs, R, k)
  local x = inputs[k]
  local flat, gflat = x:detach():reshape(-1), x.grad:reshape(-1)
  local worst, where = 0, nil
  local function loss_at(i, val)
    flat[i] = val
    local l
    attn.no_grad(function() l = (f(table.unpack(inputs)) * R):sum():item() end)
    return l
  end
  for i = 1, flat:numel() do
    local v = flat[i]
    local num = (loss_at(i, v + H) - loss_at(i, v - H)) / (2 * H)
    flat[i] = v
    local err = math.abs(num - gflat[i]) / (1 + math.abs(num))
    if err > worst then
      worst, where = err, string.format("input %d elem %d: fd %.5g vs %.5g", k, i, num, gflat[i])
    end
  end
  return worst, where
end

return function(T, name, f, shapes, opts)
  opts = opts or {}
  local inputs = {}
  for i, s in ipairs(shapes) do
    inputs[i] = draw(s, opts, i):detach():clone():requires_grad(true)
  end
  local out = f(table.unpack(inputs))
  local R = attn.randn(table.unpack(out:shape()))
  ;(out * R):sum():backward()
  local worst, where = 0, nil
  for k = 1, #inputs do
    if not opts.only or opts.only[k] then
      if not inputs[k].grad then return T.fail(name .. ": input " .. k .. " got no gradient") end
      local w, at = worst_error(f, inputs, R, k)
      if w > worst then worst, where = w, at end
    end
  end
  return T.ok(worst <= TOL, name .. " matches finite differences", worst > TOL and where or nil)
end
