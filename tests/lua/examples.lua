-- examples.lua: every script in examples/ runs headless and does what it
-- says, on small Hugging Face folders this test writes itself (a GPT-2 with
-- a byte-level tokenizer, a BERT with a WordPiece vocabulary) under
-- tests/tmp/examples/. Each script runs in a child attnlab with that folder
-- as its working directory, so whatever it writes stays there.

local T = dofile((os.getenv("ATTNLAB_PATH") or ".") .. "/tests/lua/tap.lua")
local attn = attn or require "attn"

-- the children run in another folder: every path we hand them is absolute
local here = os.getenv("PWD") or "."
local root = os.getenv("ATTNLAB_PATH") or here
local bin = os.getenv("ATTNLAB_BIN") or here .. "/attnlab"
local testdir = os.getenv("ATTNLAB_TESTDIR") or here .. "/tests"
local tmp = testdir .. "/tmp/examples"
attn._io.mkdir(testdir .. "/tmp")
attn._io.mkdir(tmp)

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

local function write(path, s)
  local f = assert(io.open(path, "wb"))
  f:write(s)
  f:close()
end

-- Run examples/NAME.lua with args (each quoted); returns its output and
-- whether it exited with status 0.
local function run(name, ...)
  local words = {}
  for i, a in ipairs({...}) do words[i] = ("%q"):format(a) end
  local cmd = ("cd %q && %q --headless %q %s 2>&1"):format(tmp, bin,
    root .. "/examples/" .. name .. ".lua", table.concat(words, " "))
  local p = assert(io.popen(cmd))
  local out = p:read("a")
  local ok = p:close()
  return out, ok == true
end

local function ran(name, out, ok)
  T.ok(ok, name .. " exits with status 0")
  if not ok then T.diag(out:sub(-2000)) end
end

-- ---- the folders -------------------------------------------------------------------------

-- GPT-2's byte-to-character table: printable bytes stand for themselves, the
-- rest move to 256 + n, so a vocabulary of the 256 bytes and no merges is a
-- complete byte-level BPE tokenizer.
local function write_byte_vocab(dir)
  local keep = {}
  for b = 33, 126 do keep[b] = true end
  for b = 161, 172 do keep[b] = true end
  for b = 174, 255 do keep[b] = true end
  local parts, moved = {}, 0
  for b = 0, 255 do
    local ch = keep[b] and utf8.char(b) or utf8.char(256 + moved)
    if not keep[b] then moved = moved + 1 end
    parts[#parts + 1] = ('"%s": %d'):format(ch:gsub('[\\"]', "\\%0"), b)
  end
  write(dir .. "/vocab.json", "{" .. table.concat(parts, ", ") .. "}")
  write(dir .. "/merges.txt", "#version: 0.2\n")
end

local gpt_dir, bert_dir = tmp .. "/hf-gpt2", tmp .. "/hf-bert"
local GPT = {vocab = 256, ctx = 64, n_layer = 2, n_head = 2, d_model = 32}
local BERT_WORDS = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "今", "天", "气", "怎", "么",
                    "样", "不", "太", "好", "the", "cat", "##s"}
local BERT = {vocab = #BERT_WORDS, ctx = 32, n_layer = 2, n_head = 2, d_model = 16}

T.section("folders", function()
  attn.seed(1)
  attn._io.mkdir(gpt_dir)
  attn.models.gpt(GPT):save(gpt_dir)
  write_byte_vocab(gpt_dir)
  attn._io.mkdir(bert_dir)
  attn.models.bert(BERT):save(bert_dir)
  write(bert_dir .. "/vocab.txt", table.concat(BERT_WORDS, "\n") .. "\n")
  local _, tok = attn.models.load(gpt_dir)
  T.is(tok:decode(tok:encode("今天天气 ok")), "今天天气 ok",
       "the byte-level folder round-trips text")
end)

-- ---- attention on your own sentence ---------------------------------------------------------
T.section("attention_on_your_sentence", function()
  os.remove(tmp .. "/mine.png")
  local out, ok = run("attention_on_your_sentence", "天气 ok", gpt_dir, "mine.png")
  ran("attention_on_your_sentence", out, ok)
  local png = read(tmp .. "/mine.png") or ""
  T.is(png:sub(1, 8), "\137PNG\r\n\26\n", "it writes a PNG")
  -- causal attention: the first token can only look at itself, weight 1
  local first = out:match("\n天[^\n]*") or ""
  T.ok(first:find("1.00", 1, true) ~= nil, "the first row of the terminal map holds weight 1.00",
       first)
end)

-- ---- the toy model ----------------------------------------------------------------------
T.section("toy_model", function()
  local out, ok = run("toy_model")
  ran("toy_model", out, ok)
  -- trained on 今天天气怎么样？不太好。 repeated, the greedy continuation of 今天 is the sentence
  local last = out:match("([^\n]+)\n?$") or ""
  T.ok(last:find("^今天天气怎么样？不太好。") ~= nil, "it learns its sentence", last)
end)

-- ---- loading a Hugging Face folder ------------------------------------------------------
-- parameter counts by hand: embeddings, then per layer two LayerNorms (2d each),
-- four d x d projections with biases, the MLP d -> 4d -> d; GPT: a final
-- LayerNorm; BERT: token types, the embedding LayerNorm and the pooler.
local function gpt_params(c)
  local d = c.d_model
  local layer = 2 * 2 * d + 4 * (d * d + d) + (d * 4 * d + 4 * d) + (4 * d * d + d)
  return c.vocab * d + c.ctx * d + c.n_layer * layer + 2 * d
end
local function bert_params(c)
  local d = c.d_model
  local layer = 2 * 2 * d + 4 * (d * d + d) + (d * 4 * d + 4 * d) + (4 * d * d + d)
  return (c.vocab + c.ctx + 2) * d + 2 * d + c.n_layer * layer + d * d + d
end

T.section("load_hf", function()
  local out, ok = run("load_hf", gpt_dir, "今天天气")
  ran("load_hf gpt2", out, ok)
  T.ok(out:find("gpt, 2 layers, 2 heads, width 32", 1, true) ~= nil, "it reads the GPT config")
  T.ok(out:find(("\n%d parameters"):format(gpt_params(GPT)), 1, true) ~= nil,
       "GPT parameters counted by hand: " .. gpt_params(GPT))
  local nexts = 0
  for _ in out:gmatch("\n  next ") do nexts = nexts + 1 end
  T.is(nexts, 5, "five next-token guesses")
  T.ok(out:find("\ngreedy: 今天天气", 1, true) ~= nil, "the continuation starts with the prompt")

  out, ok = run("load_hf", bert_dir, "今天天气不太好")
  ran("load_hf bert", out, ok)
  T.ok(out:find(("\n%d parameters"):format(bert_params(BERT)), 1, true) ~= nil,
       "BERT parameters counted by hand: " .. bert_params(BERT))
  T.ok(out:find("tokens: [CLS] | 今 | 天 | 天 | 气 | 不 | 太 | 好 | [SEP]", 1, true) ~= nil,
       "BERT reads [CLS] text [SEP]")
  -- one attention row over 9 tokens: its weights sum to 1
  local sum = 0
  for x in out:gmatch("\n  %S+%s+(%d%.%d+)") do sum = sum + tonumber(x) end
  T.near(sum, 1, 0.01, "the [CLS] row printed sums to 1")
  T.ok(out:find("pooled vector of 16 numbers", 1, true) ~= nil, "the pooled vector has width d")

  out, ok = run("load_hf", tmp .. "/no-such-folder")
  T.ok(not ok and out:find("config.json", 1, true) ~= nil, "a missing folder is a clear error")
end)

-- ---- fine-tuning on your own TSV ------------------------------------------------------------
T.section("finetune_tsv", function()
  -- a separable task: the label is the sentiment word hidden among fillers
  local pos = {"good", "great", "happy", "lovely", "nice"}
  local neg = {"bad", "awful", "sad", "terrible", "poor"}
  local fill = {"the", "day", "was", "food", "movie", "really", "so", "today", "very", "it"}
  attn.seed(3)
  local u = attn.rand(300, 5):table()
  local lines = {"# label<TAB>text"}
  for i = 1, 300 do
    local r, label = u[i], i % 2 == 0 and "pos" or "neg"
    local words = {}
    for k = 1, 3 do words[k] = fill[math.floor(r[k] * #fill) + 1] end
    local list = label == "pos" and pos or neg
    table.insert(words, math.floor(r[5] * 4) + 1, list[math.floor(r[4] * #list) + 1])
    lines[#lines + 1] = label .. "\t" .. table.concat(words, " ")
  end
  write(tmp .. "/mine.tsv", table.concat(lines, "\n") .. "\n")
  local out, ok = run("finetune_tsv", "mine.tsv", gpt_dir, "15", "3e-3")
  ran("finetune_tsv", out, ok)
  T.ok(out:find("300 examples (240 train, 60 dev), classes: neg, pos", 1, true) ~= nil,
       "every fifth example goes to dev")
  T.ok(out:find("precision", 1, true) ~= nil, "it prints a classification report")
  local acc = tonumber(out:match("dev accuracy (%d%.%d+)"))
  T.ok(acc and acc >= 0.85, "the fine-tuned classifier is right on >= 85% of dev",
       "dev accuracy " .. tostring(acc))

  write(tmp .. "/bad.tsv", "pos\tfine\nno tab here\n")
  out, ok = run("finetune_tsv", "bad.tsv", gpt_dir)
  T.ok(not ok and out:find("bad.tsv:2: expected label<TAB>text", 1, true) ~= nil,
       "a malformed line is named")
end)

-- ---- a heatmap for a slide ------------------------------------------------------------------
T.section("slide_heatmap", function()
  local out, ok = run("slide_heatmap", "slide")
  ran("slide_heatmap", out, ok)
  T.is((read(tmp .. "/slide/slide.png") or ""):sub(2, 4), "PNG", "it writes the PNG")
  -- the weights by hand: softmax over each row of X X^T / sqrt(4)
  local X = {{2.0, 0.4, 0.0, 0.2}, {0.6, 2.0, 0.2, 0.8}, {0.0, 0.8, 2.0, 0.4},
             {0.2, 1.2, 0.4, 2.0}}
  local want = {}
  for i = 1, 4 do
    local row, z = {}, 0
    for j = 1, 4 do
      local dot = 0
      for k = 1, 4 do dot = dot + X[i][k] * X[j][k] end
      row[j] = math.exp(dot / 2)
      z = z + row[j]
    end
    for j = 1, 4 do want[#want + 1] = row[j] / z end
  end
  local got = {}
  local csv = read(tmp .. "/slide/slide.csv") or ""
  for line in csv:gmatch("[^\n]+") do
    if not line:match("^,") and not line:match("^%s*$") then
      for x in line:gmatch(",([^,]+)") do got[#got + 1] = tonumber(x) end
    end
  end
  T.is(#got, 16, "the CSV holds 4 x 4 weights")
  local worst = 0
  for i = 1, 16 do worst = math.max(worst, math.abs((got[i] or 0) - want[i])) end
  T.ok(worst < 1e-5, "the CSV weights are softmax(X X^T / sqrt d) computed by hand",
       "largest difference " .. worst)
end)

T.done_testing()
