-- attn.train: the training loop, fit(model, opts), with its progress display.
--
-- The model is anything called as model(x) -> prediction:
--   * a module (a table with __call, :parameters(), :train(), :eval()): fit
--     takes its parameters, switches it to train mode for training and to
--     eval mode for the dev pass, and leaves it in eval mode at the end;
--   * a plain function: the parameters come from params= or, failing that,
--     from the optimizer (opt.params).
--
-- The data (train= and dev=) comes in one of three forms:
--   * a list of examples {x=, y=}: each x a tensor (stacked along a new first
--     dimension into a batch), a number or a nested table of numbers; y the
--     same (a class number, say; y may be left out). Shuffled every epoch
--     (by attn.rand: attn.seed repeats the order; shuffle=false keeps it),
--     then cut into batches of batch= examples (the last may be smaller);
--   * columns {x=X, y=Y}: tensors (or lists) holding N examples along
--     dimension 1, like PyTorch's TensorDataset; batched the same way;
--   * a function: each call returns the next batch {x=, y=}, already batched,
--     or nil when the epoch is over (the next call starts the next epoch).
--     With steps= (dev_steps= for dev) fit takes that many batches per epoch
--     and never waits for nil, so an endless random sampler works too.
--
-- One step: opt:zero_grad(), loss = loss(model(x), y), loss:backward(),
-- clip_grad_norm when clip= is given, opt:step(), sched:step(). After each
-- epoch the mean dev loss is computed under attn.no_grad. With patience=n,
-- training stops when the dev loss has not improved (by more than min_delta)
-- for n epochs in a row, and the parameters of the best epoch are put back
-- (restore_best=true does that without patience, restore_best=false never).
--
-- Progress (progress="auto"|"bar"|"lines"|false, written to out=, default
-- io.stdout): on a terminal a bar redrawn in place with \r (loss, steps/s,
-- ETA); elsewhere (a pipe, a file, a log) one plain line per epoch, plus one
-- every log_every= steps or, without it, at most one every 30 seconds.
-- Lua cannot ask whether stdout is a terminal, so "auto" decides so:
--   1. attn.isatty(fd), where the C side provides it, is the answer;
--   2. TERM unset or "dumb" (cron, CI, editors' shells): not a terminal;
--   3. io.stdout:seek() works only on a regular file: not a terminal;
--   4. otherwise stdout is a terminal or a pipe: `test -t 1` run through
--      os.execute inherits our stdout and tells which. Where os.execute is
--      refused (--safe), assume a pipe: plain lines still read well on a
--      terminal, while a bar's \r makes a mess of a log file.
-- An out= other than io.stdout or io.stderr always gets plain lines.

local attn = require "attn.core"
local optim = require "attn.optim"

local train = {}

-- Errors name fit and point at the user's line: error()'s level counts up
-- the stack (1 is fail_deep itself, 2 the helper, 3 fit, 4 fit's caller).
-- Errors found while batches are drawn, deep in the loop, carry no position.
local function fail_deep(msg, ...)
  error("fit: " .. msg:format(...), 4)
end

-- ---- is this a terminal? --------------------------------------------------------

local tty_cache = {}

local function is_terminal(file)
  local fd = file == io.stdout and 1 or file == io.stderr and 2 or nil
  if not fd then return false end
  if tty_cache[fd] == nil then
    local answer
    if type(attn.isatty) == "function" then
      answer = attn.isatty(fd) and true or false
    else
      local term = os.getenv("TERM")
      if term == nil or term == "" or term == "dumb" then
        answer = false
      elseif file:seek("cur") then
        answer = false
      else
        local ok, r = pcall(os.execute, "test -t " .. fd)
        answer = ok and r == true
      end
    end
    tty_cache[fd] = answer
  end
  return tty_cache[fd]
end

-- ---- progress display -----------------------------------------------------------------

local function clock_text(s)
  if s ~= s or s == math.huge then return "?" end
  s = math.floor(s + 0.5)
  if s >= 3600 then return ("%d:%02d:%02d"):format(s // 3600, s // 60 % 60, s % 60) end
  return ("%d:%02d"):format(s // 60, s % 60)
end

local function num_text(x)
  return ("%.4g"):format(x)
end

local BAR_WIDTH = 16

local Progress = {}
Progress.__index = Progress

-- mode: "bar", "lines" or "off"; write(s) puts text out.
local function new_progress(mode, write, epochs, log_every)
  return setmetatable({mode = mode, write = write, epochs = epochs, log_every = log_every,
                       shown = 0, last_draw = attn.clock(), open = false}, Progress)
end

-- Seconds left: steps still to run over the rate so far (math.huge, shown as
-- "?", while the number of steps is not known).
function Progress:eta(s)
  if not s.planned or s.done == 0 then return math.huge end
  return (s.planned - s.done) / (s.done / s.elapsed)
end

-- s: {epoch=, step=, steps=, loss=, done=, planned=, elapsed=}; draw the bar
-- (at most 10 times a second) or write a line every log_every steps.
function Progress:update(s, force)
  local now = attn.clock()
  local rate = s.elapsed > 0 and s.done / s.elapsed or 0
  if self.mode == "bar" then
    if not force and now - self.last_draw < 0.1 then return end
    local where
    if s.steps then
      local fill = math.floor(BAR_WIDTH * s.step / s.steps)
      where = ("[%s%s] %d/%d"):format(("#"):rep(fill), ("."):rep(BAR_WIDTH - fill), s.step, s.steps)
    else
      where = ("step %d"):format(s.step)
    end
    local line = ("epoch %d/%d %s  loss %s  %.1f steps/s  ETA %s"):format(
      s.epoch, self.epochs, where, s.loss and num_text(s.loss) or "-", rate,
      clock_text(self:eta(s)))
    self:draw(line)
    self.last_draw = now
  elseif self.mode == "lines" and s.step > 0 then
    local due
    if self.log_every then
      due = s.step % self.log_every == 0
    else
      due = now - self.last_draw >= 30
    end
    if due then
      self.write(("epoch %d/%d  step %d%s  loss %s  %.1f steps/s  ETA %s\n"):format(
        s.epoch, self.epochs, s.step, s.steps and "/" .. s.steps or "", num_text(s.loss), rate,
        clock_text(self:eta(s))))
      self.last_draw = now
    end
  end
end

-- Redraw the bar line: back to its start, the text, spaces over what is left
-- of a longer previous text.
function Progress:draw(line)
  local pad = math.max(0, self.shown - #line)
  self.write("\r" .. line .. (" "):rep(pad))
  self.shown, self.open = #line, true
end

-- The summary of an epoch, in place of its bar.
function Progress:epoch_done(e)
  if self.mode == "off" then return end
  local line = ("epoch %d/%d  %d step%s  loss %s%s  %.1f steps/s  %.1fs"):format(
    e.epoch, self.epochs, e.steps, e.steps == 1 and "" or "s", num_text(e.loss),
    e.dev and "  dev " .. num_text(e.dev) or "", e.rate, e.seconds)
  if self.mode == "bar" then
    self:draw(line)
    self.write("\n")
    self.open, self.shown = false, 0
  else
    self.write(line .. "\n")
  end
  self.last_draw = attn.clock()
end

function Progress:note(text)
  if self.mode == "off" then return end
  self:close()
  self.write(text .. "\n")
end

-- End an open bar line (before an error message, say).
function Progress:close()
  if self.open then
    self.write("\n")
    self.open, self.shown = false, 0
  end
end

local function writer(out)
  if type(out) == "function" then return out end
  return function(s)
    out:write(s)
    out:flush()
  end
end

-- ---- data ------------------------------------------------------------------------------

-- One batch value from the values of its examples: tensors are stacked along
-- a new first dimension; numbers and nested tables become one tensor.
local function collate(values, what)
  local first = values[1]
  if attn.is_tensor(first) then return attn.stack(values) end
  if type(first) == "number" or type(first) == "table" then return attn.tensor(values) end
  error(("fit: %s of an example is a %s, expected a tensor, a number or a table"):format(
    what, type(first)), 0)
end

-- 1..n, in a random order when shuffle is set. The random numbers come from
-- attn.rand, so attn.seed(n) repeats the order as it repeats everything else.
local function shuffled(n, shuffle)
  local order = {}
  for i = 1, n do order[i] = i end
  if shuffle and n > 1 then
    local u = attn.rand(n):table()
    for i = n, 2, -1 do   -- Fisher-Yates: swap i with a random j in 1..i
      local j = math.min(i, math.floor(u[i] * i) + 1)
      order[i], order[j] = order[j], order[i]
    end
  end
  return order
end

-- The number of examples in a batch (for weighting mean losses).
local function batch_size(b)
  if attn.is_tensor(b.x) and b.x:dim() > 0 then return b.x:size(1) end
  if type(b.x) == "table" and #b.x > 0 then return #b.x end
  return 1
end

-- A data source: src.steps (batches per epoch, nil while unknown) and
-- src:batches() -> an iterator over one epoch's batches.
local function source(data, name, batch, shuffle, steps)
  local src = {steps = steps}
  if type(data) == "function" then
    function src.batches()
      local k = 0
      return function()
        if steps and k >= steps then return nil end
        local b = data()
        if b == nil then return nil end
        k = k + 1
        if type(b) ~= "table" or b.x == nil then
          error(("fit: %s() returned %s, expected a batch {x=, y=} or nil"):format(
            name, type(b) == "table" and "a table without x" or type(b)), 0)
        end
        return b
      end
    end
    return src
  end
  if type(data) ~= "table" then
    fail_deep("%s must be a list of examples {x=, y=}, columns {x=X, y=Y} or a function, got %s",
              name, type(data))
  end
  local n, get
  if data.x ~= nil then        -- columns
    local X, Y = data.x, data.y
    n = attn.is_tensor(X) and X:size(1) or #X
    local ny = Y ~= nil and (attn.is_tensor(Y) and Y:size(1) or #Y)
    if ny and ny ~= n then
      fail_deep("%s.x holds %d examples but %s.y holds %d", name, n, name, ny)
    end
    get = function(i) return X[i], Y and Y[i] end
  else                         -- a list of examples
    n = #data
    for i = 1, n do
      if type(data[i]) ~= "table" or data[i].x == nil then
        fail_deep("%s[%d] is not an example {x=, y=}", name, i)
      end
    end
    get = function(i) return data[i].x, data[i].y end
  end
  if n == 0 then fail_deep("%s holds no examples", name) end
  src.steps = (n + batch - 1) // batch
  function src.batches()
    local order, start = shuffled(n, shuffle), 1
    return function()
      if start > n then return nil end
      local xs, ys = {}, {}
      for k = start, math.min(start + batch - 1, n) do
        xs[#xs + 1], ys[#ys + 1] = get(order[k])
      end
      start = start + batch
      return {x = collate(xs, name .. " x"), y = #ys > 0 and collate(ys, name .. " y") or nil}
    end
  end
  return src
end

-- Move a batch's tensors to the parameters' device.
local function to_device(b, device)
  if device == nil or device == "cpu" then return b end
  local moved = {}
  for k, v in pairs(b) do
    moved[k] = attn.is_tensor(v) and v:device() ~= device and v:to(device) or v
  end
  return moved
end

-- ---- options ---------------------------------------------------------------------------

local FIT_OPTIONS = {"train", "dev", "epochs", "batch", "opt", "sched", "loss", "on_step",
                     "patience", "min_delta", "restore_best", "clip", "params", "shuffle",
                     "steps", "dev_steps", "progress", "out", "log_every"}

local function callable(f)
  if type(f) == "function" then return true end
  local mt = getmetatable(f)
  return type(mt) == "table" and type(mt.__call) == "function"
end

local function check_options(model, opts)
  if not callable(model) then
    fail_deep("model must be callable as model(x) (a function or a module), got %s", type(model))
  end
  if type(opts) ~= "table" then fail_deep("expected an options table, got %s", type(opts)) end
  local known = {}
  for _, k in ipairs(FIT_OPTIONS) do known[k] = true end
  for k in pairs(opts) do
    if not known[k] then
      fail_deep("unknown option '%s' (known: %s)", tostring(k), table.concat(FIT_OPTIONS, ", "))
    end
  end
  local o = {}
  for k, v in pairs(opts) do o[k] = v end
  if o.train == nil then fail_deep("train= (the training data) is required") end
  if type(o.opt) ~= "table" or type(o.opt.step) ~= "function" then
    fail_deep("opt= (an optimizer such as attn.optim.AdamW(params)) is required")
  end
  if not callable(o.loss) then
    fail_deep("loss= is required: a function (prediction, y) -> a one-element tensor")
  end
  if o.on_step ~= nil and not callable(o.on_step) then
    fail_deep("on_step must be a function, got %s", type(o.on_step))
  end
  for _, k in ipairs({"epochs", "batch", "steps", "dev_steps", "patience", "log_every"}) do
    local v = o[k]
    if v ~= nil and (math.type(v) ~= "integer" or v < 1) then
      fail_deep("%s must be an integer >= 1, got %s", k, tostring(v))
    end
  end
  o.epochs, o.batch = o.epochs or 1, o.batch or 32
  if o.patience and o.dev == nil then fail_deep("patience needs dev= data to watch") end
  if o.clip ~= nil and (type(o.clip) ~= "number" or not (o.clip > 0)) then
    fail_deep("clip must be a number > 0 (the largest gradient norm), got %s", tostring(o.clip))
  end
  o.min_delta = o.min_delta or 0
  if type(o.min_delta) ~= "number" or o.min_delta < 0 then
    fail_deep("min_delta must be a number >= 0, got %s", tostring(o.min_delta))
  end
  if o.restore_best == nil then o.restore_best = o.patience ~= nil end
  if o.shuffle == nil then o.shuffle = true end
  local modes = {auto = true, bar = true, lines = true}
  if o.progress == nil then o.progress = "auto" end
  if o.progress ~= false and not modes[o.progress] then
    fail_deep("progress must be \"auto\", \"bar\", \"lines\" or false, got %s",
              tostring(o.progress))
  end
  o.out = o.out or io.stdout
  if not callable(o.out) and not (io.type(o.out) == "file") then
    fail_deep("out must be a file or a function(text), got %s", type(o.out))
  end
  return o
end

-- The parameters: params=, else the model's, else the optimizer's.
local function parameters(model, o)
  local p = o.params
  if p == nil and type(model) == "table" and type(model.parameters) == "function" then
    p = model:parameters()
  end
  p = p or o.opt.params
  if type(p) ~= "table" or #p == 0 then
    fail_deep("no parameters: pass params= (a list of tensors) for a plain function model")
  end
  return p
end

local function set_mode(model, mode)
  if type(model) == "table" and type(model[mode]) == "function" then model[mode](model) end
end

-- ---- the loop ---------------------------------------------------------------------------

-- Mean loss over a data source, under no_grad, weighted by batch size.
local function evaluate(model, src, o, device)
  local sum, count = 0, 0
  attn.no_grad(function()
    for b in src.batches() do
      b = to_device(b, device)
      local n = batch_size(b)
      sum = sum + o.loss(model(b.x), b.y):item() * n
      count = count + n
    end
  end)
  if count == 0 then error("fit: dev gave no batches", 0) end
  return sum / count
end

local function snapshot(params)
  local copy = {}
  attn.no_grad(function()
    for i, p in ipairs(params) do copy[i] = p:detach():clone() end
  end)
  return copy
end

local function restore(params, copy)
  attn.no_grad(function()
    for i, p in ipairs(params) do p:copy(copy[i]) end
  end)
end

-- One optimizer step on a batch; returns the loss (a number) and the
-- gradient norm before clipping (when clipping).
local function train_step(model, b, o, params)
  o.opt:zero_grad()
  local loss = o.loss(model(b.x), b.y)
  if not attn.is_tensor(loss) or loss:numel() ~= 1 then
    error("fit: loss must return a one-element tensor, got " ..
          (attn.is_tensor(loss) and loss:numel() .. " elements" or type(loss)), 0)
  end
  loss:backward()
  local norm = o.clip and optim.clip_grad_norm(params, o.clip) or nil
  o.opt:step()
  if o.sched then o.sched:step() end
  return loss:item(), norm
end

-- The state of one fit call is a table r: model, o (the options), params,
-- device, train_src, dev_src, progress, hist (the history being built), best
-- ({loss=, epoch=, step=, params=} of the best dev loss so far), since_best
-- (epochs without improvement) and t0 (the start time).

-- After an epoch's steps: the dev loss, the summary line, early stopping.
-- Returns a reason to stop, or nil.
local function end_epoch(r, epoch, steps, mean_loss, e0)
  local hist, o = r.hist, r.o
  hist.train_loss[epoch] = mean_loss
  hist.epochs = epoch
  local dev
  if r.dev_src then
    set_mode(r.model, "eval")
    dev = evaluate(r.model, r.dev_src, o, r.device)
    hist.dev_loss[epoch] = dev
  end
  local secs = attn.clock() - e0
  r.progress:epoch_done({epoch = epoch, steps = steps, loss = mean_loss, dev = dev,
                         rate = steps / math.max(secs, 1e-9), seconds = secs})
  if dev == nil then return nil end
  if not r.best or dev < r.best.loss - o.min_delta then
    r.best = {loss = dev, epoch = epoch, step = hist.steps,
              params = o.restore_best and snapshot(r.params) or nil}
    r.since_best = 0
  else
    r.since_best = r.since_best + 1
    if o.patience and r.since_best >= o.patience then
      return ("the dev loss has not improved for %d epochs"):format(r.since_best)
    end
  end
end

-- One epoch: its steps, then end_epoch. Returns a reason to stop, or nil.
local function run_epoch(r, epoch)
  local hist, o = r.hist, r.o
  set_mode(r.model, "train")
  local e0, sum, count, step = attn.clock(), 0, 0, 0
  local steps = r.train_src.steps
  local s = {epoch = epoch, step = 0, steps = steps, done = hist.steps,
             planned = steps and steps * o.epochs, elapsed = attn.clock() - r.t0}
  r.progress:update(s, true)
  for b in r.train_src.batches() do
    b = to_device(b, r.device)
    local loss, norm = train_step(r.model, b, o, r.params)
    local n = batch_size(b)
    step, sum, count = step + 1, sum + loss * n, count + n
    hist.steps = hist.steps + 1
    hist.step_loss[hist.steps] = loss
    s.step, s.loss, s.done, s.elapsed = step, sum / count, hist.steps, attn.clock() - r.t0
    r.progress:update(s, step == steps)
    if loss ~= loss or math.abs(loss) == math.huge then
      return ("the loss is %s at step %d (try a smaller lr)"):format(loss, hist.steps)
    end
    if o.on_step and o.on_step({step = hist.steps, epoch = epoch, loss = loss, lr = o.opt.lr,
                                grad_norm = norm, seconds = s.elapsed}) == false then
      return "on_step returned false"
    end
  end
  if step == 0 then error("fit: train gave no batches in epoch " .. epoch, 0) end
  r.train_src.steps = r.train_src.steps or step   -- a function's epoch length, now known
  return end_epoch(r, epoch, step, sum / count, e0)
end

--- fit(model, {train=, dev=, epochs=1, batch=32, opt=, sched=, loss=, on_step=,
--      patience=, min_delta=0, restore_best=, clip=, params=, shuffle=true,
--      steps=, dev_steps=, progress="auto", out=io.stdout, log_every=})
-- -> history {train_loss={per epoch}, dev_loss={per epoch}, step_loss={per
--    step}, steps=, seconds=, epochs=, best_epoch=, best_dev_loss=,
--    stopped_early=, stop_reason=}
-- on_step(info) is called after each step with info = {step=, epoch=, loss=,
-- lr=, grad_norm=, seconds=}; returning false stops training there.
function train.fit(model, opts)
  local o = check_options(model, opts)
  local params = parameters(model, o)
  local mode = o.progress
  if mode == "auto" then mode = is_terminal(o.out) and "bar" or "lines" end
  local r = {
    model = model, o = o, params = params, device = params[1]:device(),
    train_src = source(o.train, "train", o.batch, o.shuffle, o.steps),
    dev_src = o.dev ~= nil and source(o.dev, "dev", o.batch, false, o.dev_steps) or nil,
    progress = new_progress(mode or "off", writer(o.out), o.epochs, o.log_every),
    hist = {train_loss = {}, dev_loss = {}, step_loss = {}, steps = 0, seconds = 0,
            epochs = 0, stopped_early = false},
    since_best = 0, t0 = attn.clock(),
  }
  local hist, progress = r.hist, r.progress
  -- an error (Ctrl-C, a bad batch) must not leave the bar's line open
  local ok, err = pcall(function()
    for epoch = 1, o.epochs do
      local stop = run_epoch(r, epoch)
      if stop then
        hist.stopped_early, hist.stop_reason = true, stop
        progress:note("stopped early: " .. stop)
        break
      end
    end
  end)
  progress:close()
  if not ok then error(err, 0) end
  local best = r.best
  if best then
    hist.best_epoch, hist.best_dev_loss = best.epoch, best.loss
    if best.params and best.step ~= hist.steps then   -- trained on after the best
      restore(params, best.params)
      progress:note(("restored the parameters of epoch %d (dev loss %s)"):format(
        best.epoch, num_text(best.loss)))
    end
  end
  set_mode(model, "eval")
  hist.seconds = attn.clock() - r.t0
  return hist
end

return train
