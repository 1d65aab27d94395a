-- attn.optim: optimizers (SGD, AdamW), learning-rate schedules and gradient
-- clipping, written from tensor ops so that each update reads as its formula.
--
-- An optimizer holds a list of parameters (leaf tensors that require grad) and,
-- per parameter, the state its update needs: opt.state[i] belongs to
-- opt.params[i] (SGD's momentum buffer; AdamW's step count and two moments).
-- opt:step() reads p.grad and writes p in place with p:copy(...) inside
-- attn.no_grad: the update itself must not be recorded, and writing into a
-- tensor that requires grad is refused while recording. A parameter whose
-- .grad is nil (it took no part in the loss) is skipped and its state kept.
--
-- Hyperparameters are plain fields (opt.lr, opt.momentum, opt.weight_decay,
-- opt.betas, opt.eps), read at every step, so a schedule or you may change
-- them between steps. Gradients add up over backward calls: call
-- opt:zero_grad() before each backward (attn.train.fit does).

local attn = require "attn.core"

local optim = {}

-- ---- argument checks --------------------------------------------------------------

-- Errors name the function and point at the user's line: error()'s level
-- counts up the stack (1 is fail itself, 2 its caller, ...).
local function fail(fname, msg, ...)        -- called from a public function
  error(fname .. ": " .. msg:format(...), 3)
end
local function fail_deep(fname, msg, ...)   -- called from a helper of one
  error(fname .. ": " .. msg:format(...), 4)
end

-- The parameter list: a list of leaf tensors (a single tensor is taken as a
-- list of one). Repeats are dropped, so a tied weight is updated once.
local function param_list(fname, params)
  if attn.is_tensor(params) then params = {params} end
  if type(params) ~= "table" then
    fail_deep(fname, "params must be a list of tensors, got %s", type(params))
  end
  if #params == 0 then
    if next(params) ~= nil then
      fail_deep(fname, "params must be a list of tensors (1, 2, ...), got a table with other keys")
    end
    fail_deep(fname, "params is an empty list: there is nothing to optimize")
  end
  local list, seen = {}, {}
  for i, p in ipairs(params) do
    if not attn.is_tensor(p) then
      fail_deep(fname, "params[%d] is a %s, expected a tensor", i, type(p))
    end
    if not p:is_leaf() then
      fail_deep(fname, "params[%d] is computed from other tensors (not a leaf); " ..
                "optimize the tensors you made with requires_grad(true)", i)
    end
    if not seen[p] then
      seen[p] = true
      list[#list + 1] = p
    end
  end
  return list
end

-- A known option without a default.
local NONE = {}

-- opts with defaults filled in; an unknown key is an error (a typo such as
-- learning_rate= would otherwise be silently ignored).
local function options(fname, opts, defaults, order)
  if opts ~= nil and type(opts) ~= "table" then
    fail_deep(fname, "options must be a table, got %s", type(opts))
  end
  local o = {}
  for k, v in pairs(opts or {}) do
    if defaults[k] == nil then
      fail_deep(fname, "unknown option '%s' (known: %s)", tostring(k), table.concat(order, ", "))
    end
    o[k] = v
  end
  for k, v in pairs(defaults) do
    if o[k] == nil and v ~= NONE then o[k] = v end
  end
  return o
end

local function check_number(fname, name, v, lo, hi)
  if type(v) ~= "number" or v ~= v then
    fail_deep(fname, "%s must be a number, got %s", name, tostring(v))
  end
  if v < lo or (hi and v >= hi) then
    local top = hi and ("%g)"):format(hi) or "inf)"
    fail_deep(fname, "%s must be in [%g, %s, got %g", name, lo, top, v)
  end
end

-- A new tensor of zeros shaped and placed like p.
local function zeros_like(p)
  return attn.zeros(p:shape(), {device = p:device()})
end

-- ---- what every optimizer shares ----------------------------------------------------

local Optimizer = {}
Optimizer.__index = Optimizer

--- opt:zero_grad(): set every parameter's gradient to zeros (a gradient
-- that was never made stays nil).
function Optimizer:zero_grad()
  for _, p in ipairs(self.params) do p:zero_grad() end
end

function Optimizer:__tostring()
  local parts = {}
  for _, k in ipairs(self.hyper) do
    local v = self[k]
    if type(v) == "table" then v = "{" .. table.concat(v, ", ") .. "}" end
    parts[#parts + 1] = ("%s=%s"):format(k, tostring(v))
  end
  return ("%s(%d parameters, %s)"):format(self.kind, #self.params, table.concat(parts, ", "))
end

local function new_optimizer(kind, params, o, hyper, class)
  local opt = {kind = kind, params = params, state = {}, hyper = hyper}
  for _, k in ipairs(hyper) do opt[k] = o[k] end
  for i = 1, #params do opt.state[i] = {} end
  return setmetatable(opt, class)
end

-- ---- SGD ---------------------------------------------------------------------------------

local SGD = setmetatable({}, {__index = Optimizer})
SGD.__index = SGD
SGD.__tostring = Optimizer.__tostring

local SGD_DEFAULTS = {lr = NONE, momentum = 0, weight_decay = 0, nesterov = false}
local SGD_ORDER = {"lr", "momentum", "weight_decay", "nesterov"}

--- SGD(params, {lr=, momentum=0, weight_decay=0, nesterov=false})
-- The update, per parameter p with gradient g (as in PyTorch):
--   g = g + weight_decay * p                 (L2 penalty, through the gradient)
--   buf = g on the first step, else momentum * buf + g
--   g = g + momentum * buf (nesterov) or buf (plain momentum)
--   p = p - lr * g
function optim.SGD(params, opts)
  local list = param_list("SGD", params)
  local o = options("SGD", opts, SGD_DEFAULTS, SGD_ORDER)
  if o.lr == nil then fail("SGD", "lr is required, e.g. SGD(params, {lr=0.1})") end
  check_number("SGD", "lr", o.lr, 0)
  check_number("SGD", "momentum", o.momentum, 0, 1)
  check_number("SGD", "weight_decay", o.weight_decay, 0)
  if type(o.nesterov) ~= "boolean" then
    fail("SGD", "nesterov must be true or false, got %s", tostring(o.nesterov))
  end
  if o.nesterov and o.momentum == 0 then
    fail("SGD", "nesterov=true needs a momentum above 0")
  end
  return new_optimizer("SGD", list, o, SGD_ORDER, SGD)
end

--- opt:step(): one update of every parameter that has a gradient.
function SGD:step()
  attn.no_grad(function()
    for i, p in ipairs(self.params) do
      local g = p.grad
      if g then
        if self.weight_decay ~= 0 then g = g + p * self.weight_decay end
        if self.momentum ~= 0 then
          local st = self.state[i]
          if st.momentum_buffer then
            st.momentum_buffer:copy(st.momentum_buffer * self.momentum + g)
          else
            st.momentum_buffer = g:clone()   -- a copy: g may be p.grad itself
          end
          if self.nesterov then
            g = g + st.momentum_buffer * self.momentum
          else
            g = st.momentum_buffer
          end
        end
        p:copy(p - g * self.lr)
      end
    end
  end)
end

-- ---- AdamW ---------------------------------------------------------------------------------

local AdamW = setmetatable({}, {__index = Optimizer})
AdamW.__index = AdamW
AdamW.__tostring = Optimizer.__tostring

local ADAMW_DEFAULTS = {lr = 3e-4, betas = {0.9, 0.999}, eps = 1e-8, weight_decay = 0.01}
local ADAMW_ORDER = {"lr", "betas", "eps", "weight_decay"}

--- AdamW(params, {lr=3e-4, betas={0.9, 0.999}, eps=1e-8, weight_decay=0.01})
-- Adam with decoupled weight decay (Loshchilov & Hutter, 2019): the decay
-- shrinks p directly instead of entering the gradient, so Adam's per-element
-- scaling does not weaken it for parameters with large gradients. Per
-- parameter p with gradient g, at its step t = 1, 2, ...:
--   p = p * (1 - lr * weight_decay)
--   m = b1 * m + (1 - b1) * g           (first moment: a running mean of g)
--   v = b2 * v + (1 - b2) * g^2         (second moment: of g squared)
--   p = p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
-- The two (1 - b^t) factors undo the pull towards the zeros m and v start at.
function optim.AdamW(params, opts)
  local list = param_list("AdamW", params)
  local o = options("AdamW", opts, ADAMW_DEFAULTS, ADAMW_ORDER)
  check_number("AdamW", "lr", o.lr, 0)
  check_number("AdamW", "eps", o.eps, 0)
  check_number("AdamW", "weight_decay", o.weight_decay, 0)
  if type(o.betas) ~= "table" or #o.betas ~= 2 then
    fail("AdamW", "betas must be a pair {b1, b2}, got %s", tostring(o.betas))
  end
  check_number("AdamW", "betas[1]", o.betas[1], 0, 1)
  check_number("AdamW", "betas[2]", o.betas[2], 0, 1)
  o.betas = {o.betas[1], o.betas[2]}   -- our own copy: the caller's table may change
  return new_optimizer("AdamW", list, o, ADAMW_ORDER, AdamW)
end

function AdamW:step()
  local b1, b2 = self.betas[1], self.betas[2]
  attn.no_grad(function()
    for i, p in ipairs(self.params) do
      local g = p.grad
      if g then
        local st = self.state[i]
        if not st.step then
          st.step, st.exp_avg, st.exp_avg_sq = 0, zeros_like(p), zeros_like(p)
        end
        st.step = st.step + 1
        -- The same update in one fused pass where the device has it.
        local fused = attn._optim.adamw(p, g, st.exp_avg, st.exp_avg_sq,
          {lr = self.lr, b1 = b1, b2 = b2, eps = self.eps, weight_decay = self.weight_decay,
           step = st.step})
        if not fused then
          if self.weight_decay ~= 0 then p:copy(p * (1 - self.lr * self.weight_decay)) end
          st.exp_avg:copy(st.exp_avg * b1 + g * (1 - b1))
          st.exp_avg_sq:copy(st.exp_avg_sq * b2 + g * g * (1 - b2))
          local bias1 = 1 - b1 ^ st.step
          local bias2 = 1 - b2 ^ st.step
          local denom = st.exp_avg_sq:sqrt() / math.sqrt(bias2) + self.eps
          p:copy(p - st.exp_avg / denom * (self.lr / bias1))
        end
      end
    end
  end)
end

-- ---- learning-rate schedules ------------------------------------------------------------

local Schedule = {}
Schedule.__index = Schedule

local KINDS = {linear = true, cosine = true, constant = true}

--- sched:lr(t?): the learning rate after t calls of sched:step() (default:
-- now), i.e. the rate the optimizer's step number t + 1 uses. As in nanoGPT:
--   t < warmup:   base * (t + 1) / warmup      (a ramp that reaches base)
--   then, with progress p = (t - warmup) / (total - warmup) in [0, 1]:
--     linear:     min_lr + (base - min_lr) * (1 - p)
--     cosine:     min_lr + (base - min_lr) * (1 + cos(pi * p)) / 2
--     constant:   base
--   t >= total:   min_lr (constant: base)
-- The ramp starts at base / warmup, not 0, so no step is wasted.
function Schedule:lr(t)
  t = t or self.t
  if math.type(t) ~= "integer" or t < 0 then
    error("schedule:lr: t must be an integer >= 0, got " .. tostring(t), 2)
  end
  if t < self.warmup then return self.base_lr * (t + 1) / self.warmup end
  if self.kind == "constant" then return self.base_lr end
  if t >= self.total then return self.min_lr end
  local p = (t - self.warmup) / (self.total - self.warmup)
  local span = self.base_lr - self.min_lr
  if self.kind == "linear" then return self.min_lr + span * (1 - p) end
  return self.min_lr + span * (1 + math.cos(math.pi * p)) / 2
end

--- sched:step(): count one optimizer step and set opt.lr for the next.
function Schedule:step()
  self.t = self.t + 1
  self.opt.lr = self:lr()
  return self.opt.lr
end

function Schedule:__tostring()
  return ("schedule(%s, warmup=%d, total=%s, base lr=%g, min_lr=%g, at step %d: lr=%g)"):format(
    self.kind, self.warmup, tostring(self.total), self.base_lr, self.min_lr, self.t, self:lr())
end

local SCHED_DEFAULTS = {warmup = 0, total = NONE, kind = "linear", min_lr = 0, lr = NONE}
local SCHED_ORDER = {"warmup", "total", "kind", "min_lr", "lr"}

--- schedule(opt, {warmup=0, total=, kind="linear"|"cosine"|"constant", min_lr=0, lr=opt.lr})
-- A schedule over opt's learning rate. The peak (base) rate is lr, default the
-- optimizer's lr when the schedule is made. opt.lr is set at once for the
-- first step; call sched:step() after each opt:step(). total (the number of
-- optimizer steps) is needed by linear and cosine.
function optim.schedule(opt, opts)
  if type(opt) ~= "table" or type(opt.lr) ~= "number" then
    fail("schedule", "expected an optimizer (a table with a number lr) first, got %s",
         type(opt) == "table" and "a table without lr" or type(opt))
  end
  local o = options("schedule", opts, SCHED_DEFAULTS, SCHED_ORDER)
  o.lr = o.lr or opt.lr
  if not KINDS[o.kind] then
    fail("schedule", "kind must be \"linear\", \"cosine\" or \"constant\", got %s",
         tostring(o.kind))
  end
  if math.type(o.warmup) ~= "integer" or o.warmup < 0 then
    fail("schedule", "warmup must be an integer >= 0, got %s", tostring(o.warmup))
  end
  if o.total ~= nil or o.kind ~= "constant" then
    if math.type(o.total) ~= "integer" or o.total < 1 then
      fail("schedule", "total (the number of steps) must be an integer >= 1, got %s",
           tostring(o.total))
    end
    if o.warmup > o.total then
      fail("schedule", "warmup (%d) is longer than total (%d)", o.warmup, o.total)
    end
  end
  check_number("schedule", "lr", o.lr, 0)
  check_number("schedule", "min_lr", o.min_lr, 0)
  local s = setmetatable({opt = opt, base_lr = o.lr, warmup = o.warmup, total = o.total,
                          kind = o.kind, min_lr = o.min_lr, t = 0}, Schedule)
  opt.lr = s:lr()
  return s
end

-- ---- gradient clipping ------------------------------------------------------------------

--- clip_grad_norm(params, max_norm) -> total norm before clipping
-- The norm of all gradients together, as if concatenated into one vector.
-- When it is above max_norm every gradient is scaled by max_norm / norm, so
-- the direction is kept and one bad batch cannot throw the weights far.
-- Parameters without .grad are skipped.
function optim.clip_grad_norm(params, max_norm)
  local list = param_list("clip_grad_norm", params)
  if type(max_norm) ~= "number" or max_norm ~= max_norm or max_norm <= 0 then
    fail("clip_grad_norm", "max_norm must be a number > 0, got %s", tostring(max_norm))
  end
  local sumsq, grads = 0, {}
  for _, p in ipairs(list) do
    local g = p.grad
    if g then
      local n = g:norm():item()
      sumsq = sumsq + n * n
      grads[#grads + 1] = g
    end
  end
  local total = math.sqrt(sumsq)
  -- the 1e-6 keeps the clipped norm just under max_norm, as PyTorch does
  local scale = max_norm / (total + 1e-6)
  if scale < 1 then
    attn.no_grad(function()
      for _, g in ipairs(grads) do g:copy(g * scale) end
    end)
  end
  return total
end

return optim
