-- shipped.lua: what data/ ships. The sentiment set is well-formed, balanced
-- and its splits are disjoint; attn.models.list / builtin / load by name work
-- (on a model this test saves under a root of its own); and the shipped model
-- data/models/mini loads, matches the figures of data/README.md, its
-- tokenizer round-trips, it predicts its corpus far better than chance, and
-- its attention is learned (checked from the recorded weights). Those last
-- parts skip until the model exists.

local T = dofile((os.getenv("ATTNLAB_PATH") or ".") .. "/tests/lua/tap.lua")
local attn = attn or require "attn"

local src = os.getenv("ATTNLAB_PATH") or "."
local testdir = os.getenv("ATTNLAB_TESTDIR") or "."
local tmp = testdir .. "/tmp/shipped"      -- make clean removes tests/tmp

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local text = f:read("a")
  f:close()
  return text
end

local function has_cjk(s)
  for _, cp in utf8.codes(s) do
    if cp >= 0x4E00 and cp <= 0x9FFF then return true end
  end
  return false
end

-- ---- the sentiment set -------------------------------------------------------------

local splits = {"train", "dev", "test"}

T.section("sentiment data set", function()
  local seen, where, counts = {}, {}, {}
  local bad, dups = {}, {}
  for _, split in ipairs(splits) do
    local text = read(src .. "/data/sentiment/" .. split .. ".tsv")
    T.ok(text ~= nil, split .. ".tsv exists")
    local c = {pos = 0, neg = 0, zh = 0, en = 0, zh_pos = 0, en_pos = 0, n = 0}
    local lineno = 0
    for line in (text or ""):gmatch("([^\n]*)\n") do
      lineno = lineno + 1
      local label, sentence = line:match("^(%l+)\t([^\t]+)$")
      if not (label == "pos" or label == "neg") or sentence:match("^%s") or sentence:match("%s$")
         or not utf8.len(sentence) then
        bad[#bad + 1] = split .. ":" .. lineno
      else
        -- the same sentence twice, anywhere, up to case and spacing
        local key = sentence:lower():gsub("%s+", " ")
        if seen[key] then dups[#dups + 1] = where[key] .. " and " .. split .. ":" .. lineno end
        seen[key], where[key] = true, split .. ":" .. lineno
        local lang = has_cjk(sentence) and "zh" or "en"
        c[label], c[lang], c.n = c[label] + 1, c[lang] + 1, c.n + 1
        if label == "pos" then c[lang .. "_pos"] = c[lang .. "_pos"] + 1 end
      end
    end
    T.ok(text == nil or text:sub(-1) == "\n", split .. ".tsv ends with a newline")
    counts[split] = c
    T.is(c.pos, c.neg, split .. ": as many positive as negative sentences (" .. c.n .. ")")
    T.is(c.zh, c.en, split .. ": as many Chinese as English sentences")
    T.is({c.zh_pos * 2, c.en_pos * 2}, {c.zh, c.en}, split .. ": balanced within each language")
  end
  T.is(bad, {}, "every line is label<TAB>text with label pos or neg, trimmed UTF-8 text")
  T.is(dups, {}, "no sentence appears twice, within or across splits")
  T.ok(counts.train.n >= 200 and counts.dev.n >= 40 and counts.test.n >= 40,
       "a few hundred sentences: train " .. counts.train.n .. ", dev " .. counts.dev.n ..
       ", test " .. counts.test.n)
end)

-- ---- list / builtin / load by name (on a root of the test's own) -----------------

T.section("models.list, builtin and load by name", function()
  attn.seed(3)
  local root = tmp .. "/root"
  attn._io.mkdir(testdir)
  attn._io.mkdir(testdir .. "/tmp")
  attn._io.mkdir(tmp)
  attn._io.mkdir(root)
  attn._io.mkdir(root .. "/data")
  attn._io.mkdir(root .. "/data/models")
  local tiny = attn.models.gpt{vocab = 300, ctx = 16, n_layer = 1, n_head = 2, d_model = 8}
  tiny:save(root .. "/data/models/tiny")
  local f = assert(io.open(root .. "/data/models/index.txt", "w"))
  -- a comment, a model, one listed but absent, a blank line
  f:write("# built-in models\ntiny\nabsent\n\n")
  f:close()

  local saved_root = attn.config.root
  attn.config.root = root
  local ok, err = pcall(function()
    T.is(attn.models.list(), {"tiny"}, "list: the listed folders that hold a config.json")
    local m = attn.models.builtin("tiny")
    local ids = {1, 2, 3, 299}
    T.ok(attn.allclose(m:forward(ids), tiny:forward(ids), 1e-6),
         "builtin(name) loads that folder's weights")
    T.ok(attn.allclose(attn.models.load("tiny"):forward(ids), tiny:forward(ids), 1e-6),
         "load(name) takes a built-in name too")
    T.raises(function() attn.models.builtin("nosuch") end,
             {"models.builtin", "nosuch", "available: tiny"}, "a bad name lists the available ones")
    T.raises(function() attn.models.builtin("absent") end, {"available: tiny"},
             "a name without its folder is not available")
    T.raises(function() attn.models.builtin(7) end, {"models.builtin", "name", "tiny"},
             "a name must be a string")
    T.raises(function() attn.models.load("nosuch") end,
             {"models.load", "nosuch", "neither a folder", "available: tiny"},
             "load of an unknown bare name lists the built-in ones")
    T.raises(function() attn.models.load(tmp .. "/nowhere") end, {"models.load", "config.json"},
             "load of a missing folder still names its config.json")
    attn.config.root = tmp .. "/empty"
    T.is(attn.models.list(), {}, "list is empty where data/models has no index")
    T.raises(function() attn.models.builtin("tiny") end, {"none installed"},
             "builtin says when no model is installed")
  end)
  attn.config.root = saved_root
  if not ok then error(err, 0) end
  -- remove(3) takes empty folders too: files first, then the folders inwards out
  for _, path in ipairs({"/data/models/tiny/config.json", "/data/models/tiny/model.safetensors",
                         "/data/models/index.txt", "/data/models/tiny", "/data/models",
                         "/data", ""}) do
    os.remove(root .. path)
  end
  os.remove(tmp)
end)

-- ---- the shipped model -------------------------------------------------------------

local mini = src .. "/data/models/mini"
local has_model = read(mini .. "/config.json") ~= nil and read(mini .. "/model.safetensors") ~= nil

-- The figures data/README.md states for the model, from its table rows
-- "| name | value |".
local function readme_figures()
  local text = read(src .. "/data/README.md") or ""
  local fig = {}
  for key, value in text:gmatch("\n|%s*([%w_]+)%s*|%s*([%d.]+)[^|\n]*|") do
    fig[key] = tonumber(value)
  end
  return fig
end

-- Mean attention each head gives to (query t, key pick(t)) over the
-- positions t that have such a key: [layer][head] -> number.
local function head_scores(rec, T0, pick)
  local scores = {}
  for l, w in ipairs(rec.attention) do
    local tw = w:table()
    scores[l] = {}
    for h = 1, #tw do
      local sum, n = 0, 0
      for t = T0, #tw[h] do
        local k = pick(t)
        if k then sum, n = sum + tw[h][t][k], n + 1 end
      end
      scores[l][h] = sum / n
    end
  end
  return scores
end

local function best(scores)
  local top, where = -1, nil
  for l, row in ipairs(scores) do
    for h, s in ipairs(row) do
      if s > top then top, where = s, ("layer %d head %d"):format(l, h) end
    end
  end
  return top, where
end

if not has_model then
  T.skip("the shipped model data/models/mini", "no shipped model")
else
  T.section("the shipped model", function()
    local list = attn.models.list()
    T.is(list[1], "mini", "mini is the first built-in model (the default of the lessons)")
    local m, tok = attn.models.builtin("mini")
    T.ok(tok ~= nil, "it comes with its tokenizer")
    local fig, c = readme_figures(), m.config
    T.is({c.n_layer, c.n_head, c.d_model, c.ctx, c.vocab, m:num_parameters()},
         {fig.n_layer, fig.n_head, fig.d_model, fig.ctx, fig.vocab, fig.parameters},
         "config matches data/README.md (layers, heads, d_model, context, vocab, parameters)")
    T.is(tok:vocab_size(), c.vocab, "the tokenizer's vocabulary is the model's")
    local size = #read(mini .. "/model.safetensors")
    T.ok(size <= 20 * 1024 * 1024,
         ("model.safetensors is %.1f MB (at most 20)"):format(size / 2 ^ 20))

    -- round trips: the whole corpus, the lessons' sentences, odd text
    for _, file in ipairs({"poems-zh.txt", "kjv-en.txt", "sayings-zh.txt", "wordnet-en.txt"}) do
      local text = read(src .. "/data/corpus/" .. file)
      T.ok(text and tok:decode(tok:encode(text)) == text, file .. " round-trips")
    end
    local zh = "今天天气怎么样？不太好。"
    for _, s in ipairs({zh, "What's the weather like today? Not great.",
                        "AI助手在注意力管理中的作用", "emoji 🙂 and tabs\tand ü", ""}) do
      T.is(tok:decode(tok:encode(s)), s, "round-trips: " .. s)
    end
    local labels = tok:labels(zh)
    T.is(labels, {"今", "天", "天", "气", "怎", "么", "样", "？", "不", "太", "好", "。"},
         "each Chinese character of the lesson sentence is one token")

    -- trained: the next token of a poem it was trained on is far likelier
    -- than chance (chance is ln(vocab) nats)
    local line = "春眠不觉晓，处处闻啼鸟。夜来风雨声，花落知多少。"
    local ids = tok:encode(line)
    local logits = attn.no_grad(function() return m:forward(ids) end)
    local targets = {}
    for t = 2, #ids do targets[t - 1] = ids[t] + 1 end
    local loss = attn.F.cross_entropy(logits:narrow(1, 1, #ids - 1),
                                      attn.tensor(targets)):item()
    T.ok(loss < 0.6 * math.log(c.vocab),
         ("loss on a famous poem %.2f nats, chance %.2f"):format(loss, math.log(c.vocab)))

    -- learned attention, from the recorded weights on a poem of the corpus
    -- after <|endoftext|> (every training window began so): some head
    -- favours the previous token beyond uniform attention (1/t at query t),
    -- and some head puts most of its weight on the first token (a sink),
    -- which an untrained model does not.
    local poem = tok:encode("<|endoftext|>《静夜思》\n作者：李白\n床前明月光，疑是地上霜。\n" ..
                            "举头望明月，低头思故乡。\n")
    T.is(poem[1], c.vocab - 1, "<|endoftext|> in the text is the special token")
    local _, rec = attn.no_grad(function() return m:forward(poem, {record = true}) end)
    local prev, prev_at = best(head_scores(rec, 2, function(t) return t - 1 end))
    local uniform = 0
    for t = 2, #poem do uniform = uniform + 1 / t end
    uniform = uniform / (#poem - 1)
    T.ok(prev > 1.5 * uniform, ("%s gives the previous token a mean weight of %.2f; " ..
         "uniform attention would give %.2f"):format(prev_at, prev, uniform))
    local sentence = tok:encode("<|endoftext|>今天天气怎么样？不太好。")
    _, rec = attn.no_grad(function() return m:forward(sentence, {record = true}) end)
    local sink, sink_at = best(head_scores(rec, 2, function() return 1 end))
    T.ok(sink > 0.5, ("%s gives the first token a mean weight of %.2f (a sink: more " ..
         "than half)"):format(sink_at, sink))

    -- induction: 30 distinct Chinese characters in a fixed shuffled order,
    -- written twice after <|endoftext|>. From the second copy of the i-th,
    -- an induction head looks at the token after its first copy; and the
    -- model predicts the second copy far better than the first, which is
    -- random to it.
    local pool = tok:encode("春夏秋冬东南西北山水风云花鸟日月天地人心江河湖海金木火土上下")
    T.is(#pool, 30, "30 common characters, one token each")
    local n, rep = 30, {c.vocab - 1}
    for i = 1, n do rep[1 + i] = pool[(i * 7) % #pool + 1] end   -- 7 is prime to 30: distinct
    for i = 1, n do rep[1 + n + i] = rep[1 + i] end
    local rlogits
    rlogits, rec = attn.no_grad(function() return m:forward(rep, {record = true}) end)
    -- query position n + 1 + i holds the second copy of the token at 1 + i;
    -- the token after that first copy is at 2 + i
    local ind, ind_at = best(head_scores(rec, n + 2, function(t)
      return t < 2 * n + 1 and t - n + 1 or nil end))
    T.ok(ind > 0.3, ("%s gives the induction target a mean weight of %.2f; uniform " ..
         "attention would give under 0.03"):format(ind_at, ind))
    local logp = rlogits:softmax(2):log():table()
    local function copy_loss(from, to)
      local sum = 0
      for t = from, to do sum = sum - logp[t][rep[t + 1] + 1] end
      return sum / (to - from + 1)
    end
    local first_copy, second_copy = copy_loss(2, n), copy_loss(n + 2, 2 * n)
    T.ok(second_copy < first_copy - 2, ("second copy costs %.2f nats, first %.2f"):format(
         second_copy, first_copy))
  end)
end

T.done_testing()
