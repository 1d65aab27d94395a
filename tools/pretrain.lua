-- tools/pretrain.lua: trains the small GPT shipped in data/models/mini/.
--
--   ./attnlab tools/pretrain.lua [--out DIR] [--steps N] [--eval-every N]
--                                [--minutes M] [--warmup-repeats N] [--init DIR]
--                                [--stop-after N]
-- (`make pretrain` runs it with the defaults). Run from the top of the
-- source tree. It reads data/corpus/ (see tools/corpus.sh and data/README.md),
-- builds the byte-level BPE tokenizer (tools/bpe.lua), then trains with
-- AdamW through attn.train.fit, a chunk of steps at a time: after each chunk
-- the dev loss is measured and, when it is the best so far, the model is
-- saved into DIR (each file written to a temporary name and renamed), so a
-- run stopped at any moment still leaves the best model so far. --minutes
-- stops early at a chunk boundary once that much wall time has passed;
-- --warmup-repeats N gives the first N batches random repeated spans only;
-- --init DIR starts from the weights of a model this script saved before
-- (a second stage, or a run stopped early); --stop-after N ends the run
-- after step N of a schedule still planned for --steps (the shipped model's
-- second stage, see data/README.md).
--
-- Training windows are 128 tokens of the two languages (Chinese poems and
-- sayings; WordNet's definitions and examples and six books of the King
-- James Bible; drawn half and half), documents joined by <|endoftext|>, and
-- every window starts with <|endoftext|>: a fixed first token gives the
-- heads a place to rest when nothing else is worth looking at (the
-- first-token "sink" the lessons show). A quarter of the windows repeat a
-- span of text (the span, then the same span again, then what followed
-- it), and a fifth repeat a span of random tokens until the window is
-- full: predicting a second copy is easy for a model that looks back at
-- what came after the earlier occurrence of the current token, which is
-- the induction pattern the lessons point at.

local attn = require "attn"
local bpe = dofile("tools/bpe.lua")

local HP = {                     -- recorded in DIR/training.json and data/README.md
  n_layer = 4, n_head = 4, d_model = 128, ctx = 128, dropout = 0,
  batch = 16, lr = 2e-3, min_lr = 1e-4, warmup = 100, weight_decay = 0.05, clip = 1.0,
  english_merges = 1500, min_char_count = 3, repeat_fraction = 0.25, random_repeat_fraction = 0.2,
  dev_every = 10, dev_windows = 96, seed = 1234,
}

-- ---- command line ---------------------------------------------------------------

local function options(argv)
  local o = {out = "data/models/mini", steps = 8000, eval_every = 250, minutes = nil,
             warmup_repeats = 0, init = nil, stop_after = nil}
  local i = 1
  while i <= #argv do
    local k, v = argv[i], argv[i + 1]
    if k == "--out" then o.out = v
    elseif k == "--steps" then o.steps = math.tointeger(tonumber(v))
    elseif k == "--eval-every" then o.eval_every = math.tointeger(tonumber(v))
    elseif k == "--minutes" then o.minutes = tonumber(v)
    elseif k == "--warmup-repeats" then o.warmup_repeats = math.tointeger(tonumber(v))
    elseif k == "--init" then o.init = v
    elseif k == "--stop-after" then o.stop_after = math.tointeger(tonumber(v)) or 0
    else error("pretrain: unknown argument " .. tostring(k) ..
               " (known: --out DIR, --steps N, --eval-every N, --minutes M, " ..
               "--warmup-repeats N, --init DIR, --stop-after N)", 0) end
    if v == nil then error("pretrain: " .. k .. " needs a value", 0) end
    i = i + 2
  end
  if not o.steps or o.steps < 1 then error("pretrain: --steps must be a positive integer", 0) end
  if o.stop_after ~= nil and o.stop_after < 1 then
    error("pretrain: --stop-after must be a positive integer", 0)
  end
  return o
end

-- ---- corpus -----------------------------------------------------------------------

local function read(path)
  local f = assert(io.open(path, "rb"), "pretrain: cannot read " .. path ..
                   " (run from the top of the source tree)")
  local text = f:read("a")
  f:close()
  return text
end

-- Documents separated by a line "%", each with its trailing newline.
local function documents(text)
  local docs = {}
  for doc in (text .. "\n%\n"):gmatch("(.-\n)%%\n") do
    if doc:match("%S") then docs[#docs + 1] = doc end
  end
  return docs
end

-- Every character the tokenizer should keep whole: those the corpora use
-- at least min_char_count times (a rarer one is left to its bytes, which
-- the model could not learn much about anyway), every one of the
-- sentiment set and of the lessons' worked examples.
local function wanted_chars(corpora)
  local count, set = {}, {}
  for _, text in ipairs(corpora) do
    for _, cp in utf8.codes(text) do count[cp] = (count[cp] or 0) + 1 end
  end
  for cp, n in pairs(count) do
    if n >= HP.min_char_count then set[utf8.char(cp)] = true end
  end
  for _, split in ipairs({"train", "dev", "test"}) do
    bpe.chars_of(read("data/sentiment/" .. split .. ".tsv"), set)
  end
  bpe.chars_of(read("data/corpus/lesson-chars.txt"), set)
  return set
end

local function build_tokenizer(out, zh, en)
  local vocab, merges = bpe.build{chars = wanted_chars({zh, en}), english = en,
                                  n_merges = HP.english_merges}
  bpe.write(out, vocab, merges)
  return attn.tokenizer.bpe{vocab = out .. "/vocab.json", merges = out .. "/merges.txt"}, #vocab
end

-- Token streams of the training and dev documents (every dev_every-th
-- document is dev), each document followed by <|endoftext|>. Every document
-- must decode back to itself.
local function streams(tok, docs, eot)
  local train, dev = {}, {}
  for i, doc in ipairs(docs) do
    local ids = tok:encode(doc)
    if tok:decode(ids) ~= doc then error("pretrain: document " .. i .. " does not round-trip") end
    local into = i % HP.dev_every == 0 and dev or train
    table.move(ids, 1, #ids, #into + 1, into)
    into[#into + 1] = eot
  end
  return train, dev
end

-- ---- batches -----------------------------------------------------------------------

-- n + 1 tokens of stream from a random start (wrapping around).
local function window(stream, n)
  local start, w = math.random(1, #stream), {}
  for k = 0, n - 1 do w[k + 1] = stream[(start + k - 1) % #stream + 1] end
  return w, start
end

-- A window with a repeated span: some text, a span, the span again, then
-- the text that followed the span.
local function repeated_window(stream, n)
  local len = math.random(16, 64)
  local lead = math.random(0, n - 2 * len)
  local w = window(stream, lead)
  local span, start = window(stream, len + n)
  for k = 1, len do w[#w + 1] = span[k] end
  local k = 1
  while #w < n do w[#w + 1] = span[k]; k = k + 1 end
  return w, start
end

-- Some text, then a span of random tokens (real ones, drawn from the
-- stream) repeated until the window is full. After its first copy nothing
-- but looking back predicts it: the cleanest lesson in induction, with no
-- n-gram statistics to compete with.
local function random_repeated_window(stream, n)
  local len = math.random(8, 32)
  local w = window(stream, math.random(0, n - 2 * len))
  local span = {}
  for k = 1, len do span[k] = stream[math.random(#stream)] end
  local k = 0
  while #w < n do
    w[#w + 1] = span[k % len + 1]
    k = k + 1
  end
  return w
end

local function training_window(stream, n)
  local u = math.random()
  if u < HP.random_repeat_fraction then return random_repeated_window(stream, n) end
  if u < HP.random_repeat_fraction + HP.repeat_fraction then return repeated_window(stream, n) end
  return window(stream, n)
end

-- warmup_repeats: the first batches hold random repeated spans only.
local function sampler(streams_by_lang, warmup_repeats, eot)
  local T, B, drawn = HP.ctx, HP.batch, 0
  return function()
    local x, y = {}, {}
    drawn = drawn + 1
    for b = 1, B do
      local stream = streams_by_lang[b % 2 + 1]            -- half Chinese, half English
      local w = drawn <= warmup_repeats and random_repeated_window(stream, T)
                or training_window(stream, T)
      table.insert(w, 1, eot)
      x[b] = table.move(w, 1, T, 1, {})
      for t = 1, T do y[(b - 1) * T + t] = w[t + 1] + 1 end  -- classes are 1-based
    end
    return {x = x, y = attn.tensor(y)}
  end
end

-- The dev set, fixed once: dev_windows windows spread evenly over each
-- dev stream, each after <|endoftext|>, and as many again made of a
-- window's first half twice, so that the dev loss (which picks the step
-- that is kept) rewards looking back as well.
local function dev_batches(dev_streams, eot)
  local T, list, x, y = HP.ctx, {}, {}, {}
  local function flush()
    if #x > 0 then list[#list + 1] = {x = x, y = attn.tensor(y)} end
    x, y = {}, {}
  end
  local function add(w)
    x[#x + 1] = table.move(w, 1, T, 1, {})
    for t = 1, T do y[#y + 1] = w[t + 1] + 1 end
    if #x == HP.batch then flush() end
  end
  for _, s in ipairs(dev_streams) do
    local stride = math.max(T, (#s - T) // HP.dev_windows)
    for start = 1, #s - T, stride do
      local w = table.move(s, start, start + T - 1, 2, {eot})
      add(w)
      local half = T // 2
      local twice = table.move(w, 1, half + 1, 1, {})
      table.move(w, 2, T + 1 - half, half + 2, twice)
      add(twice)
    end
  end
  flush()
  local i = 0
  return function()
    i = i % #list + 1
    return list[i]
  end, #list
end

-- ---- watching the attention -------------------------------------------------------

-- A probe of the patterns the lessons look for: n distinct tokens of a
-- (dev) stream in a random order, then the same n again. Returns the
-- best head's mean weight on the previous token, on the first token, and
-- (in the second copy) on the token after the earlier occurrence, plus the
-- loss on each copy.
local function probe_sequence(stream, n, eot)
  local pool, seen = {}, {}
  for _, id in ipairs(stream) do
    if not seen[id] then seen[id], pool[#pool + 1] = true, id end
    if #pool == 4 * n then break end
  end
  local seq = {eot}
  for i = 1, n do seq[i + 1] = table.remove(pool, math.random(#pool)) end
  for i = 1, n do seq[n + i + 1] = seq[i + 1] end
  return seq
end

local function best_head(rec, from, key_of, to)
  local top = 0
  for _, w in ipairs(rec.attention) do
    local tw = w:table()
    for h = 1, #tw do
      local sum, count = 0, 0
      for t = from, to or #tw[h] do sum, count = sum + tw[h][t][key_of(t)], count + 1 end
      top = math.max(top, sum / count)
    end
  end
  return top
end

local function probe(m, seq)
  local n = #seq // 2                 -- seq: <|endoftext|>, n tokens, the same n again
  local logits, rec = attn.no_grad(function() return m:forward(seq, {record = true}) end)
  local function copy_loss(from, to)
    local y = {}
    for t = from, to do y[#y + 1] = seq[t + 1] + 1 end
    return attn.F.cross_entropy(logits:narrow(1, from, to - from + 1), attn.tensor(y)):item()
  end
  return {previous = best_head(rec, 2, function(t) return t - 1 end),
          first = best_head(rec, 8, function() return 1 end),
          induction = best_head(rec, n + 2, function(t) return t - n + 1 end, 2 * n),
          loss_first_copy = copy_loss(2, n), loss_second_copy = copy_loss(n + 2, 2 * n)}
end

-- ---- training ----------------------------------------------------------------------

local function lm_loss(logits, y)
  local V = logits:size(logits:dim())
  return attn.F.cross_entropy(logits:reshape(y:numel(), V), y)
end

local function write_json(path, t)
  local keys, parts = {}, {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, k in ipairs(keys) do
    local v = t[k]
    parts[#parts + 1] = string.format("  %q: %s", k,
      type(v) == "string" and string.format("%q", v) or tostring(v))
  end
  local tmp = path .. ".tmp"
  local f = assert(io.open(tmp, "wb"))
  f:write("{\n" .. table.concat(parts, ",\n") .. "\n}\n")
  f:close()
  assert(os.rename(tmp, path))
end

-- The training loop: chunks of eval_every steps through attn.train.fit, the
-- dev loss and the attention probe after each, the model saved whenever the
-- dev loss is the best so far.
local function train_in_chunks(m, o, data)
  local opt = attn.optim.AdamW(m:parameters(), {lr = HP.lr, weight_decay = HP.weight_decay,
                                                betas = {0.9, 0.95}})
  local sched = attn.optim.schedule(opt, {warmup = math.min(HP.warmup, o.steps // 10),
                                          total = o.steps, kind = "cosine", min_lr = HP.min_lr})
  local best, done, start, record = math.huge, 0, attn.clock(), {}
  local last = math.min(o.steps, o.stop_after or o.steps)
  while done < last do
    local n = math.min(o.eval_every, last - done)
    local hist = attn.train.fit(m, {train = data.train, steps = n, dev = data.dev,
                                    dev_steps = data.dev_steps, epochs = 1, opt = opt,
                                    sched = sched, loss = lm_loss, clip = HP.clip,
                                    progress = false})
    done = done + n
    local minutes = (attn.clock() - start) / 60
    local dev_loss = hist.dev_loss[1]
    local p = probe(m, data.probe)
    print(("step %5d  train %.3f  dev %.3f  lr %.2e  %.1f min  heads: previous %.2f " ..
           "first %.2f induction %.2f (copy losses %.2f, %.2f)"):format(
      done, hist.train_loss[1], dev_loss, opt.lr, minutes, p.previous, p.first, p.induction,
      p.loss_first_copy, p.loss_second_copy))
    io.stdout:flush()
    if dev_loss < best then
      best = dev_loss
      m:save(o.out)
      record = {steps = done, train_loss = hist.train_loss[1], dev_loss = dev_loss,
                minutes = minutes, vocab = m.config.vocab, parameters = m:num_parameters(),
                planned_steps = o.steps, init = o.init or "none"}
      for k, v in pairs(p) do record["probe_" .. k] = v end
      for k, v in pairs(HP) do record["hp_" .. k] = v end
      write_json(o.out .. "/training.json", record)
    end
    if o.minutes and minutes >= o.minutes then
      print(("stopping after %.1f minutes (--minutes %g)"):format(minutes, o.minutes))
      break
    end
  end
  print(("best dev loss %.3f at step %d; saved in %s"):format(best, record.steps or 0, o.out))
end

local function main(argv)
  local o = options(argv)
  attn.seed(HP.seed)
  math.randomseed(HP.seed)
  attn._io.mkdir(o.out)
  local zh = read("data/corpus/poems-zh.txt") .. "%\n" .. read("data/corpus/sayings-zh.txt")
  local en = read("data/corpus/kjv-en.txt") .. "%\n" .. read("data/corpus/wordnet-en.txt")
  local t0 = attn.clock()
  local tok, V = build_tokenizer(o.out, zh, en)
  local eot = V - 1
  local zh_train, zh_dev = streams(tok, documents(zh), eot)
  local en_train, en_dev = streams(tok, documents(en), eot)
  print(("tokenizer: %d tokens (%.1f s); train %d + %d tokens, dev %d + %d (zh + en)"):format(
    V, attn.clock() - t0, #zh_train, #en_train, #zh_dev, #en_dev))

  local m = attn.models.gpt{vocab = V, ctx = HP.ctx, n_layer = HP.n_layer, n_head = HP.n_head,
                            d_model = HP.d_model, dropout = HP.dropout}
  if o.init then
    -- the same tokenizer is rebuilt every time, so the weights fit
    local from = attn.models.load(o.init)
    m:load_state_dict(from:state_dict())
    print("starting from the weights in " .. o.init)
  end
  print(("model: %d parameters"):format(m:num_parameters()))
  local data = {train = sampler({zh_train, en_train}, o.warmup_repeats, eot)}
  data.dev, data.dev_steps = dev_batches({zh_dev, en_dev}, eot)
  data.probe = probe_sequence(zh_dev, 40, eot)
  train_in_chunks(m, o, data)
end

main(arg or {})
