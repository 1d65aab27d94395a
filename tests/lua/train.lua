-- train.lua: attn.train.fit on problems whose answers are known: a linear
-- regression y = 2x - 1 (a 1x1 weight and a bias), a logistic classifier on
-- a separable toy set, early stopping on a dev set that gets worse while
-- the training set gets better, the three forms of data, callbacks, and the
-- progress output (plain lines through a pipe, a bar on a terminal).

local T = dofile((os.getenv("ATTNLAB_PATH") or ".") .. "/tests/lua/tap.lua")
local attn = attn or require "attn"
local fit, optim = attn.train.fit, attn.optim
attn.seed(7)
math.randomseed(7)

local function mse(pred, y)
  local d = pred - y
  return (d * d):mean()
end

-- n points of y = a x + b with x evenly spread over [-1, 1], as examples
-- {x = {x}, y = {y}} (so a batch is x [B, 1], y [B, 1]).
local function line_data(n, a, b)
  local data = {}
  for i = 1, n do
    local x = -1 + 2 * (i - 1) / (n - 1)
    data[i] = {x = {x}, y = {a * x + b}}
  end
  return data
end

local function linear_model()
  local w = attn.zeros(1, 1):requires_grad(true)
  local b = attn.zeros(1):requires_grad(true)
  return function(x) return x:matmul(w) + b end, {w, b}, w, b
end

-- Mean squared error of the model over a list of examples, computed here.
local function data_loss(model, data)
  local sum = 0
  attn.no_grad(function()
    for _, e in ipairs(data) do
      local d = model(attn.tensor({e.x})):item() - e.y[1]
      sum = sum + d * d
    end
  end)
  return sum / #data
end

T.section("linear regression y = 2x - 1", function()
  local model, params, w, b = linear_model()
  local data = line_data(32, 2, -1)
  local opt = optim.SGD(params, {lr = 0.1, momentum = 0.9})
  local h = fit(model, {train = data, epochs = 40, batch = 8, opt = opt, loss = mse,
                        params = params, progress = false})
  T.ok(h.train_loss[40] < 1e-3, "the train loss goes below 1e-3", "last: " .. h.train_loss[40])
  T.ok(data_loss(model, data) < 1e-3, "the loss recomputed here is below 1e-3 too")
  T.near(w:item(), 2, 0.02, "w learns 2")
  T.near(b:item(), -1, 0.02, "b learns -1")
  T.is({#h.train_loss, #h.dev_loss, h.epochs, h.steps, #h.step_loss}, {40, 0, 40, 160, 160},
       "history: 40 epochs of 4 steps, no dev")
  T.ok(h.train_loss[40] < h.train_loss[1], "the loss fell")
  T.ok(type(h.seconds) == "number" and h.seconds >= 0, "history.seconds")
  T.is(h.stopped_early, false, "it ran to the end")
end)

T.section("a logistic classifier reaches 100% train accuracy", function()
  -- two classes split by the line x1 + x2 = 0, every point at least 0.3 away
  local X, Y = {}, {}
  while #X < 40 do
    local x1, x2 = math.random() * 2 - 1, math.random() * 2 - 1
    if math.abs(x1 + x2) > 0.3 then
      X[#X + 1] = {x1, x2}
      Y[#Y + 1] = x1 + x2 > 0 and 2 or 1
    end
  end
  local W = (attn.randn(2, 2) * 0.1):requires_grad(true)
  local b = attn.zeros(2):requires_grad(true)
  local model = function(x) return attn.F.linear(x, W, b) end
  local opt = optim.AdamW({W, b}, {lr = 0.1, weight_decay = 0})
  -- the columns form: x [40, 2] and y [40] as tensors
  local h = fit(model, {train = {x = attn.tensor(X), y = attn.tensor(Y)}, epochs = 30, batch = 10,
                        opt = opt, loss = attn.F.cross_entropy, progress = false})
  local pred = attn.no_grad(function() return model(attn.tensor(X)) end)
  T.is(attn.metrics.accuracy(pred, Y), 1, "every training point classified right")
  T.ok(h.train_loss[30] < h.train_loss[1], "the cross-entropy fell",
       h.train_loss[1] .. " -> " .. h.train_loss[30])
  T.is(h.steps, 120, "40 examples in batches of 10 for 30 epochs: 120 steps")
end)

T.section("early stopping restores the best parameters", function()
  -- train on y = 2x - 1, watch a dev set of y = -2x + 1: from w = b = 0 each
  -- full-batch step moves away from the dev line (x is symmetric about 0, so
  -- w and b move independently and monotonically), so the dev loss is best
  -- after epoch 1 and rises after: patience 2 stops after epoch 3
  local model, params, w, b = linear_model()
  local train_data, dev_data = line_data(16, 2, -1), line_data(16, -2, 1)
  local opt = optim.SGD(params, {lr = 0.05})
  local after_step = {}
  local h = fit(model, {train = train_data, dev = dev_data, epochs = 50, batch = 16,
                        shuffle = false, opt = opt, loss = mse, params = params,
                        patience = 2, progress = false,
                        on_step = function(info)
                          after_step[info.step] = {w:item(), b:item()}
                        end})
  T.is(h.epochs, 3, "stopped after 3 epochs")
  T.is(h.stopped_early, true, "history says it stopped early")
  T.ok(tostring(h.stop_reason):find("not improved for 2 epochs", 1, true), "and why",
       tostring(h.stop_reason))
  T.is(h.best_epoch, 1, "the best dev loss was after epoch 1")
  T.is(#h.dev_loss, 3, "a dev loss per epoch")
  T.ok(h.dev_loss[1] < h.dev_loss[2] and h.dev_loss[2] < h.dev_loss[3], "the dev loss rose")
  T.near(w:item(), after_step[1][1], 1e-7, "w is back to its value after epoch 1")
  T.near(b:item(), after_step[1][2], 1e-7, "b is back to its value after epoch 1")
  T.ok(math.abs(after_step[3][1] - after_step[1][1]) > 0.01, "(and it had moved on since)")
  T.near(data_loss(model, dev_data), h.dev_loss[1], 1e-5,
         "the restored parameters give epoch 1's dev loss")
  T.near(h.best_dev_loss, h.dev_loss[1], 0, "history.best_dev_loss")

  -- without patience it runs on, keeps the last parameters, but reports the best
  model, params, w = linear_model()
  h = fit(model, {train = train_data, dev = dev_data, epochs = 4, batch = 16, shuffle = false,
                  opt = optim.SGD(params, {lr = 0.05}), loss = mse, params = params,
                  progress = false})
  T.is({h.epochs, h.best_epoch, h.stopped_early}, {4, 1, false}, "no patience: all 4 epochs")
  T.near(data_loss(model, dev_data), h.dev_loss[4], 1e-5, "and the last parameters stay")
end)

T.section("shuffling follows attn.seed", function()
  -- record the x of every batch the model sees
  local function first_xs(shuffle)
    local model, params = linear_model()
    local seen = {}
    local function recording(x)
      for _, row in ipairs(x:table()) do seen[#seen + 1] = row[1] end
      return model(x)
    end
    fit(recording, {train = line_data(8, 1, 0), epochs = 2, batch = 4, shuffle = shuffle,
                    opt = optim.SGD(params, {lr = 0.1}), loss = mse, progress = false})
    return seen
  end
  local in_order = first_xs(false)
  local xs = line_data(8, 1, 0)
  local want = {}
  for k = 1, 16 do want[k] = T.f32(xs[(k - 1) % 8 + 1].x[1]) end
  T.is(in_order, want, "shuffle=false: the examples in order, every epoch")
  attn.seed(11)
  local a = first_xs(true)
  attn.seed(11)
  local b = first_xs(true)
  T.is(a, b, "the same seed, the same order")
  T.isnt(a, want, "shuffled: not in order")
  local sorted1, sorted2 = {table.unpack(a, 1, 8)}, {table.unpack(a, 9, 16)}
  table.sort(sorted1)
  table.sort(sorted2)
  T.is({sorted1, sorted2}, {{table.unpack(want, 1, 8)}, {table.unpack(want, 1, 8)}},
       "each epoch sees every example once")
  T.isnt({table.unpack(a, 1, 8)}, {table.unpack(a, 9, 16)}, "a new order each epoch")
end)

T.section("data as a function, on_step, clipping, schedules", function()
  -- a function returning ready batches; nil ends the epoch
  local model, params = linear_model()
  local data = line_data(12, 2, -1)
  local pos = 0
  local function batches()
    if pos >= #data then
      pos = 0
      return nil
    end
    local xs, ys = {}, {}
    for i = pos + 1, math.min(pos + 4, #data) do
      xs[#xs + 1], ys[#ys + 1] = data[i].x, data[i].y
    end
    pos = pos + 4
    return {x = attn.tensor(xs), y = attn.tensor(ys)}
  end
  local opt = optim.SGD(params, {lr = 0.5})
  local sched = optim.schedule(opt, {total = 6})
  local infos = {}
  local h = fit(model, {train = batches, epochs = 2, opt = opt, sched = sched, loss = mse,
                        clip = 0.5, progress = false,
                        on_step = function(info) infos[#infos + 1] = info end})
  T.is(h.steps, 6, "a function's batches: 3 per epoch until nil, for 2 epochs")
  T.is(#infos, 6, "on_step is called after every step")
  T.is({infos[4].step, infos[4].epoch}, {4, 2}, "on_step gets the step and epoch")
  T.near(infos[1].lr, 0.5 * 5 / 6, 1e-12, "the schedule moved opt.lr after step 1")
  T.near(infos[6].lr, 0, 1e-12, "and down to 0 after step 6")
  T.is(sched.t, 6, "fit steps the schedule once per step")
  T.ok(type(infos[1].grad_norm) == "number" and infos[1].grad_norm > 0.5,
       "with clip, on_step sees the norm before clipping", tostring(infos[1].grad_norm))
  T.near(infos[1].loss, h.step_loss[1], 0, "info.loss is the step's loss")

  -- steps= takes that many from an endless sampler; on_step returning false stops
  local model2, params2 = linear_model()
  local endless = function()
    local x = attn.rand(4, 1) * 2 - 1
    return {x = x, y = x * 2 - 1}
  end
  h = fit(model2, {train = endless, steps = 5, epochs = 3, opt = optim.SGD(params2, {lr = 0.1}),
                   loss = mse, params = params2, progress = false})
  T.is({h.steps, h.epochs}, {15, 3}, "steps= caps each epoch of an endless sampler")
  h = fit(model2, {train = endless, steps = 5, epochs = 3, opt = optim.SGD(params2, {lr = 0.1}),
                   loss = mse, params = params2, progress = false,
                   on_step = function(info) return info.step < 7 end})
  T.is({h.steps, h.stopped_early}, {7, true}, "on_step returning false stops training")

  -- a plain function model finds its parameters through the optimizer
  local model3, params3, w3 = linear_model()
  fit(model3, {train = line_data(8, 2, -1), epochs = 2, opt = optim.SGD(params3, {lr = 0.1}),
               loss = mse, progress = false})
  T.ok(w3:item() > 0, "parameters taken from opt.params when params= is missing")
end)

T.section("a module: parameters, train and eval modes", function()
  -- the interface attn.nn modules have: callable, :parameters(), :train(), :eval()
  local w = attn.zeros(1, 1):requires_grad(true)
  local b = attn.zeros(1):requires_grad(true)
  local calls = {}
  local m = setmetatable({training = true}, {__call = function(self, x)
    calls[#calls + 1] = self.training and "train" or "eval"
    return x:matmul(w) + b
  end})
  function m:parameters() return {w, b} end
  function m:train() self.training = true end
  function m:eval() self.training = false end
  local data = line_data(8, 2, -1)
  local h = fit(m, {train = data, dev = data, epochs = 2, batch = 4,
                    opt = optim.SGD(m:parameters(), {lr = 0.1}), loss = mse, patience = 3,
                    progress = false})
  T.is(calls, {"train", "train", "eval", "eval", "train", "train", "eval", "eval"},
       "train mode for steps, eval mode for dev")
  T.is(m.training, false, "the model is left in eval mode")
  T.is(#h.dev_loss, 2, "dev evaluated after each epoch")
end)

T.section("progress output", function()
  local model, params = linear_model()
  local text = {}
  local out = function(s) text[#text + 1] = s end
  local data = line_data(8, 2, -1)
  fit(model, {train = data, dev = data, epochs = 2, batch = 4, opt = optim.SGD(params, {lr = 0.1}),
              loss = mse, params = params, progress = "lines", log_every = 1, out = out})
  local all = table.concat(text)
  T.ok(not all:find("\r", 1, true), "lines mode writes no carriage return")
  local lines, steps, epochs = {}, 0, 0
  for line in all:gmatch("([^\n]*)\n") do lines[#lines + 1] = line end
  for _, line in ipairs(lines) do
    if line:match("^epoch %d/2  step %d/2  loss [-%d.e+]+  [%d.]+ steps/s  ETA [%d:?]+$") then
      steps = steps + 1
    elseif line:match("^epoch %d/2  2 steps  loss [-%d.e+]+  dev [-%d.e+]+  [%d.]+ steps/s  "
                      .. "[%d.]+s$") then
      epochs = epochs + 1
    end
  end
  T.is({#lines, steps, epochs}, {6, 4, 2}, "a line per step (log_every=1) and per epoch",
       all)

  text = {}
  fit(model, {train = data, epochs = 1, batch = 4, opt = optim.SGD(params, {lr = 0.1}),
              loss = mse, params = params, progress = "bar", out = out})
  all = table.concat(text)
  T.ok(all:find("^\repoch 1/1 %[%.+%] 0/2") ~= nil, "bar mode starts with an empty bar", all)
  T.ok(all:find("\repoch 1/1 [################] 2/2", 1, true) ~= nil, "and fills it", all)
  T.ok(all:find("steps/s  ETA ", 1, true) ~= nil, "the bar shows steps/s and ETA")
  T.ok(all:find("\repoch 1/1  2 steps  loss [^\n]*\n$") ~= nil,
       "the epoch's summary replaces the bar and ends the line", all)

  -- auto mode, the real thing: attnlab through a pipe prints plain lines
  local bin = os.getenv("ATTNLAB_BIN")
  if not bin or not io.popen then
    T.skip("progress through a pipe", "no ATTNLAB_BIN (run by make check)")
    T.skip("progress on a terminal", "no ATTNLAB_BIN (run by make check)")
    return
  end
  local script = os.tmpname()
  local f = assert(io.open(script, "w"))
  f:write([[
local attn = require "attn"
local w = attn.zeros(1, 1):requires_grad(true)
local data = {}
for i = 1, 8 do data[i] = {x = {i / 8}, y = {i / 4}} end
attn.train.fit(function(x) return x:matmul(w) end, {train = data, dev = data, epochs = 3,
  batch = 4, opt = attn.optim.SGD({w}, {lr = 0.1}),
  loss = function(p, y) return ((p - y) * (p - y)):mean() end})
print("done")
]])
  f:close()
  local p = assert(io.popen("TERM=xterm '" .. bin .. "' '" .. script .. "' 2>&1"))
  local got = p:read("a")
  p:close()
  T.ok(not got:find("\r", 1, true), "through a pipe: no carriage return", got)
  local n = 0
  for line in got:gmatch("[^\n]+") do
    if line:match("^epoch [123]/3  2 steps  loss [-%d.e+]+  dev [-%d.e+]+  ") then n = n + 1 end
  end
  T.ok(n == 3 and got:find("\ndone\n$"), "through a pipe: one plain line per epoch", got)

  -- on a pseudo-terminal (tests/cli/ptyrun strips the \r) the bar is drawn
  local ptyrun = (os.getenv("ATTNLAB_TESTDIR") or "tests") .. "/cli/ptyrun"
  local probe = io.open(ptyrun, "r")
  if not probe then
    T.skip("progress on a terminal", "no " .. ptyrun)
  else
    probe:close()
    local steps = os.tmpname()
    f = assert(io.open(steps, "w"))
    f:write("expect epoch 1/3 [................] 0/2\nexpect epoch 3/3  2 steps\n" ..
            "expect done\nexit 0\n")
    f:close()
    local ok = os.execute("TERM=xterm '" .. ptyrun .. "' '" .. steps .. "' -- '" .. bin ..
                          "' '" .. script .. "' >/dev/null 2>&1")
    T.ok(ok == true, "on a terminal: the bar is drawn")
    os.remove(steps)
  end
  os.remove(script)
end)

T.section("errors name fit", function()
  local model, params = linear_model()
  local data = line_data(4, 1, 0)
  local opt = optim.SGD(params, {lr = 0.1})
  local base = {train = data, opt = opt, loss = mse, params = params, progress = false}
  local function with(extra)
    local o = {}
    for k, v in pairs(base) do o[k] = v end
    for k, v in pairs(extra) do o[k] = v end
    return o
  end
  T.raises(function() fit(42, base) end, "fit: model must be callable", "a number as model")
  T.raises(function() fit(model, with({opt = false})) end, "fit: opt= ", "no optimizer")
  T.raises(function() fit(model, with({loss = false})) end, "fit: loss= is required", "no loss")
  T.raises(function() fit(model, with({train = false})) end, "fit: train must be",
           "train=false")
  T.raises(function() fit(model, with({epoch = 3})) end, "fit: unknown option 'epoch'",
           "a misspelt option")
  T.raises(function() fit(model, with({epochs = 0})) end,
           "fit: epochs must be an integer >= 1, got 0", "epochs = 0")
  T.raises(function() fit(model, with({patience = 2})) end, "fit: patience needs dev",
           "patience without dev")
  T.raises(function() fit(model, with({train = {}})) end, "fit: train holds no examples",
           "empty data")
  T.raises(function() fit(model, with({train = {{y = 1}}})) end,
           "fit: train[1] is not an example", "an example without x")
  T.raises(function() fit(model, with({train = {x = attn.zeros(3, 1), y = attn.zeros(2)}})) end,
           "fit: train.x holds 3 examples but train.y holds 2", "columns of different lengths")
  T.raises(function() fit(model, with({loss = function() return 1 end})) end,
           "fit: loss must return a one-element tensor, got number", "a loss that is a number")
  T.raises(function() fit(model, with({progress = "fancy"})) end, "fit: progress must be",
           "an unknown progress mode")
  T.raises(function() fit(model, with({train = {{x = "a"}}})) end,
           "fit: train x of an example is a string", "an x that is a string")
  T.raises(function() fit(model, with({train = function() return 3 end})) end,
           "fit: train() returned number", "a batch function returning a number")
end)

T.done_testing()
