-- checkpoint.lua: Hugging Face GPT-2 and BERT folders written here by hand
-- (both key layouts, buffers, old LayerNorm names), loaded, and compared
-- with forwards computed straight from the files' tensors with attn.F;
-- save/load round trips; every malformed folder's error.

local T = dofile((os.getenv("ATTNLAB_PATH") or ".") .. "/tests/lua/tap.lua")
local attn = attn or require "attn"
local F = attn.F
attn.seed(21)

local tmp = (os.getenv("ATTNLAB_TESTDIR") or ".") .. "/tmp_checkpoint"
attn._io.mkdir(os.getenv("ATTNLAB_TESTDIR") or ".")
attn._io.mkdir(tmp)

local function write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

local function folder(name, config, tensors)
  local dir = tmp .. "/" .. name
  attn._io.mkdir(dir)
  write(dir .. "/config.json", config)
  if tensors then attn.save(dir .. "/model.safetensors", tensors) end
  return dir
end

-- ---- GPT-2 ------------------------------------------------------------------------
local V, C, L, H, D = 13, 10, 2, 2, 8
local function gpt2_tensors(prefix)
  local t = {}
  local function put(n, x) t[prefix .. n] = x end
  put("wte.weight", attn.randn(V, D) * 0.1)
  put("wpe.weight", attn.randn(C, D) * 0.1)
  put("ln_f.weight", attn.rand(D) + 0.5)
  put("ln_f.bias", attn.randn(D) * 0.1)
  for i = 0, L - 1 do
    local h = "h." .. i .. "."
    put(h .. "ln_1.weight", attn.rand(D) + 0.5); put(h .. "ln_1.bias", attn.randn(D) * 0.1)
    put(h .. "ln_2.weight", attn.rand(D) + 0.5); put(h .. "ln_2.bias", attn.randn(D) * 0.1)
    put(h .. "attn.c_attn.weight", attn.randn(D, 3 * D) * 0.3)   -- Conv1D: [in, out]
    put(h .. "attn.c_attn.bias", attn.randn(3 * D) * 0.1)
    put(h .. "attn.c_proj.weight", attn.randn(D, D) * 0.3)
    put(h .. "attn.c_proj.bias", attn.randn(D) * 0.1)
    put(h .. "mlp.c_fc.weight", attn.randn(D, 4 * D) * 0.3)
    put(h .. "mlp.c_fc.bias", attn.randn(4 * D) * 0.1)
    put(h .. "mlp.c_proj.weight", attn.randn(4 * D, D) * 0.3)
    put(h .. "mlp.c_proj.bias", attn.randn(D) * 0.1)
    put(h .. "attn.bias", attn.ones(1, 1, C, C))                   -- the causal-mask buffer
  end
  return t
end

-- GPT-2 as its papers and the files describe it: x @ W for Conv1D weights.
local function gpt2_by_hand(t, prefix, ids)
  local g = function(n) return t[prefix .. n] end
  local n = #ids
  local pos = {}
  for i = 1, n do pos[i] = i - 1 end
  local x = F.embedding(ids, g("wte.weight")) + F.embedding(pos, g("wpe.weight"))
  local keep = attn.arange(n):reshape(1, n):le(attn.arange(n):reshape(n, 1))
  for i = 0, L - 1 do
    local p = function(s) return g("h." .. i .. "." .. s) end
    local h = F.layer_norm(x, p("ln_1.weight"), p("ln_1.bias"))
    local qkv = h:matmul(p("attn.c_attn.weight")) + p("attn.c_attn.bias")
    local function heads(j) return qkv:narrow(2, j * D + 1, D):reshape(n, H, D // H):transpose(1, 2) end
    local q, k, v = heads(0), heads(1), heads(2)
    local w = (q:matmul(k:T()) / math.sqrt(D // H)):masked_fill(keep, -math.huge):softmax(3)
    local a = w:matmul(v):transpose(1, 2):reshape(n, D)
    x = x + a:matmul(p("attn.c_proj.weight")) + p("attn.c_proj.bias")
    local f = (F.layer_norm(x, p("ln_2.weight"), p("ln_2.bias")):matmul(p("mlp.c_fc.weight")) +
               p("mlp.c_fc.bias")):gelu("tanh")
    x = x + f:matmul(p("mlp.c_proj.weight")) + p("mlp.c_proj.bias")
  end
  return F.layer_norm(x, g("ln_f.weight"), g("ln_f.bias")):matmul(g("wte.weight"):T())
end

local gpt2_config = string.format([[{"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"],
  "vocab_size": %d, "n_positions": %d, "n_embd": %d, "n_layer": %d, "n_head": %d,
  "activation_function": "gelu_new", "layer_norm_epsilon": 1e-05}]], V, C, D, L, H)

local ids = {3, 1, 12, 0, 7}
for _, prefix in ipairs({"", "transformer."}) do
  local t = gpt2_tensors(prefix)
  if prefix ~= "" then t["lm_head.weight"] = t["transformer.wte.weight"] end
  local dir = folder("gpt2" .. (prefix == "" and "_plain" or "_prefixed"), gpt2_config, t)
  local m, tok = attn.models.load(dir)
  T.ok(attn.allclose(m:forward(ids), gpt2_by_hand(t, prefix, ids), 1e-4),
       "GPT-2 folder " .. (prefix == "" and "without" or "with") .. " the transformer. prefix: " ..
       "logits = the file's tensors through attn.F")
  T.ok(tok == nil, "no tokenizer files, no tokenizer")
end

do
  local m = attn.models.gpt{vocab = V, ctx = C, n_layer = L, n_head = H, d_model = D}
  m:eval()
  local dir = tmp .. "/saved_gpt"
  m:save(dir)
  local back = attn.models.load(dir)
  T.ok(attn.allclose(back:forward(ids), m:forward(ids), 1e-6), "GPT save then load: same logits")
  local raw = attn.load(dir .. "/model.safetensors")
  T.is(raw["h.0.attn.c_attn.weight"]:shape(), {D, 3 * D}, "saved under Hugging Face's names and layouts")
  T.ok(attn.allclose(gpt2_by_hand(raw, "", ids), m:forward(ids), 1e-4),
       "and the saved file read as GPT-2 gives the model's logits")
  write(dir .. "/vocab.json", '{"a": 0, "b": 1, "ab": 2, "\\u0120": 3}')
  write(dir .. "/merges.txt", "#version: 0.2\na b\n")
  local _, tok = attn.models.load(dir)
  T.is(tok and tok:encode("ab"), {2}, "vocab.json + merges.txt come back as the tokenizer")
end

-- ---- BERT ------------------------------------------------------------------------------
local function bert_tensors()
  local t = {}
  local function put(n, x) t["bert." .. n] = x end
  put("embeddings.word_embeddings.weight", attn.randn(V, D) * 0.1)
  put("embeddings.position_embeddings.weight", attn.randn(C, D) * 0.1)
  put("embeddings.token_type_embeddings.weight", attn.randn(2, D) * 0.1)
  put("embeddings.LayerNorm.gamma", attn.rand(D) + 0.5)          -- old names
  put("embeddings.LayerNorm.beta", attn.randn(D) * 0.1)
  put("embeddings.position_ids", attn.arange(C):reshape(1, C))
  for i = 0, L - 1 do
    local h = "encoder.layer." .. i .. "."
    for _, n in ipairs({"attention.self.query", "attention.self.key", "attention.self.value",
                        "attention.output.dense"}) do
      put(h .. n .. ".weight", attn.randn(D, D) * 0.3); put(h .. n .. ".bias", attn.randn(D) * 0.1)
    end
    put(h .. "intermediate.dense.weight", attn.randn(4 * D, D) * 0.3)
    put(h .. "intermediate.dense.bias", attn.randn(4 * D) * 0.1)
    put(h .. "output.dense.weight", attn.randn(D, 4 * D) * 0.3)
    put(h .. "output.dense.bias", attn.randn(D) * 0.1)
    for _, n in ipairs({"attention.output.LayerNorm", "output.LayerNorm"}) do
      put(h .. n .. ".weight", attn.rand(D) + 0.5); put(h .. n .. ".bias", attn.randn(D) * 0.1)
    end
  end
  put("pooler.dense.weight", attn.randn(D, D) * 0.3)
  put("pooler.dense.bias", attn.randn(D) * 0.1)
  return t
end

local function bert_by_hand(t, ids)
  local g = function(n) return t["bert." .. n] end
  local n = #ids
  local pos, types = {}, {}
  for i = 1, n do pos[i], types[i] = i - 1, 0 end
  local x = F.embedding(ids, g("embeddings.word_embeddings.weight")) +
            F.embedding(pos, g("embeddings.position_embeddings.weight")) +
            F.embedding(types, g("embeddings.token_type_embeddings.weight"))
  x = F.layer_norm(x, g("embeddings.LayerNorm.gamma"), g("embeddings.LayerNorm.beta"), 1e-12)
  for i = 0, L - 1 do
    local p = function(s) return g("encoder.layer." .. i .. "." .. s) end
    local function lin(s, y) return F.linear(y, p(s .. ".weight"), p(s .. ".bias")) end
    local function heads(y) return y:reshape(n, H, D // H):transpose(1, 2) end
    local q, k, v = heads(lin("attention.self.query", x)), heads(lin("attention.self.key", x)),
                    heads(lin("attention.self.value", x))
    local a = (q:matmul(k:T()) / math.sqrt(D // H)):softmax(3):matmul(v):transpose(1, 2):reshape(n, D)
    x = F.layer_norm(x + lin("attention.output.dense", a), p("attention.output.LayerNorm.weight"),
                     p("attention.output.LayerNorm.bias"), 1e-12)
    local f = lin("output.dense", lin("intermediate.dense", x):gelu())
    x = F.layer_norm(x + f, p("output.LayerNorm.weight"), p("output.LayerNorm.bias"), 1e-12)
  end
  return x
end

do
  local t = bert_tensors()
  local dir = folder("bert", string.format([[{"model_type": "bert", "vocab_size": %d,
    "hidden_size": %d, "num_hidden_layers": %d, "num_attention_heads": %d,
    "intermediate_size": %d, "max_position_embeddings": %d, "type_vocab_size": 2,
    "hidden_act": "gelu", "layer_norm_eps": 1e-12}]], V, D, L, H, 4 * D, C), t)
  write(dir .. "/vocab.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\nworld\n")
  local m, tok = attn.models.load(dir)
  local hidden = m:forward(ids)
  T.ok(attn.allclose(hidden, bert_by_hand(t, ids), 1e-4),
       "BERT folder (bert. prefix, gamma/beta names): hidden states = attn.F by hand")
  T.is(tok and tok:encode("Hello world"), {4, 5}, "vocab.txt comes back as a lowercasing WordPiece")
  local saved = tmp .. "/saved_bert"
  m:save(saved)
  T.ok(attn.allclose(attn.models.load(saved):forward(ids), hidden, 1e-6), "BERT save then load")
end

-- ---- errors -----------------------------------------------------------------------------
do
  T.raises(function() attn.models.load(tmp .. "/nowhere") end, {"models.load", "config.json"},
           "a folder with no config.json")
  local llama = folder("llama", '{"model_type": "llama"}', {x = attn.ones(1)})
  T.raises(function() attn.models.load(llama) end, {"models.load", "llama", "GPT-2 and BERT"},
           "another architecture names what is supported")
  local t = gpt2_tensors("")
  t["h.1.mlp.c_fc.bias"] = nil
  t["h.0.extra"] = attn.ones(2)
  local broken = folder("broken", gpt2_config, t)
  T.raises(function() attn.models.load(broken) end,
           {"missing: h.1.mlp.c_fc.bias", "unexpected: h.0.extra"}, "missing and unexpected tensors named")
  local t2 = gpt2_tensors("")
  t2["wpe.weight"] = attn.ones(C + 1, D)
  local wrong = folder("wrong_shape", gpt2_config, t2)
  T.raises(function() attn.models.load(wrong) end, {"wpe.weight has shape [11,8]", "[10,8]"},
           "a mis-shaped tensor names both shapes")
  local nofile = folder("nofile", gpt2_config, nil)
  T.raises(function() attn.models.load(nofile) end, {"model.safetensors"}, "no weights file")
  local bad = folder("badjson", '{"model_type": "gpt2",}', nil)
  T.raises(function() attn.models.load(bad) end, {"json"}, "malformed config.json")
end

os.execute("rm -rf '" .. tmp .. "'")
T.done_testing()
