-- attn.checkpoint: models to and from Hugging Face folders.
--
-- A folder holds config.json, model.safetensors and the tokenizer files
-- (vocab.json + merges.txt for GPT-2, vocab.txt for BERT). m:save writes
-- the same layout with Hugging Face's tensor names, so a saved GPT can be
-- read by other tools and by attn.models.load alike. The name mapping below
-- is the whole story: one table of (Hugging Face name, attnlab name, how).

local attn = require "attn.core"
local models = require "attn.models"

local checkpoint = {}

-- ---- files -----------------------------------------------------------------------

local function read_file(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local text = f:read("a")
  f:close()
  return text
end

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

-- A flat JSON object with sorted keys (configs hold numbers, strings, booleans).
local function json_encode(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  local parts = {}
  for _, k in ipairs(keys) do
    local v = t[k]
    local s
    if type(v) == "string" then
      s = string.format("%q", v)
    elseif type(v) == "table" then
      local items = {}
      for i, x in ipairs(v) do items[i] = string.format("%q", x) end
      s = "[" .. table.concat(items, ", ") .. "]"
    else
      s = tostring(v)
    end
    parts[#parts + 1] = string.format("  %q: %s", k, s)
  end
  return "{\n" .. table.concat(parts, ",\n") .. "\n}\n"
end

-- Write text to path through a temporary name, so a crash leaves the old file.
local function write_atomic(path, text)
  local tmp = path .. ".tmp"
  local f = assert(io.open(tmp, "wb"))
  f:write(text)
  f:close()
  assert(os.rename(tmp, path))
end

-- ---- the name mappings -----------------------------------------------------------
-- Each entry: {hf name, our name, how}; how = "T" transposes (GPT-2 keeps
-- its Conv1D weights as [in, out], our Linear as [out, in]); GPT-2's fused
-- c_attn ([d, 3d]) splits into q, k, v and is handled beside the table.

local function gpt2_names(c)
  local list = {{"wte.weight", "wte.weight"}, {"wpe.weight", "wpe.weight"},
                {"ln_f.weight", "ln_f.weight"}, {"ln_f.bias", "ln_f.bias"}}
  local function add(hf, ours, how) list[#list + 1] = {hf, ours, how} end
  for i = 0, c.n_layer - 1 do
    local h = "h." .. i .. "."
    for _, n in ipairs({"weight", "bias"}) do
      add(h .. "ln_1." .. n, h .. "ln1." .. n)
      add(h .. "ln_2." .. n, h .. "ln2." .. n)
    end
    add(h .. "attn.c_proj.weight", h .. "attn.out_proj.weight", "T")
    add(h .. "attn.c_proj.bias", h .. "attn.out_proj.bias")
    add(h .. "mlp.c_fc.weight", h .. "mlp.1.weight", "T")
    add(h .. "mlp.c_fc.bias", h .. "mlp.1.bias")
    add(h .. "mlp.c_proj.weight", h .. "mlp.3.weight", "T")
    add(h .. "mlp.c_proj.bias", h .. "mlp.3.bias")
  end
  return list
end

local function bert_names(c)
  local list = {}
  local function add(hf, ours) list[#list + 1] = {hf, ours} end
  for _, e in ipairs({"word_embeddings", "position_embeddings", "token_type_embeddings"}) do
    add("embeddings." .. e .. ".weight", e .. ".weight")
  end
  add("embeddings.LayerNorm.weight", "ln_emb.weight")
  add("embeddings.LayerNorm.bias", "ln_emb.bias")
  for i = 0, c.n_layer - 1 do
    local h, o = "encoder.layer." .. i .. ".", "layer." .. i .. "."
    for _, n in ipairs({"weight", "bias"}) do
      add(h .. "attention.self.query." .. n, o .. "attn.q_proj." .. n)
      add(h .. "attention.self.key." .. n, o .. "attn.k_proj." .. n)
      add(h .. "attention.self.value." .. n, o .. "attn.v_proj." .. n)
      add(h .. "attention.output.dense." .. n, o .. "attn.out_proj." .. n)
      add(h .. "attention.output.LayerNorm." .. n, o .. "ln1." .. n)
      add(h .. "intermediate.dense." .. n, o .. "mlp.1." .. n)
      add(h .. "output.dense." .. n, o .. "mlp.3." .. n)
      add(h .. "output.LayerNorm." .. n, o .. "ln2." .. n)
    end
  end
  add("pooler.dense.weight", "pooler.weight")
  add("pooler.dense.bias", "pooler.bias")
  return list
end

-- Tensors a checkpoint may carry that are not parameters (causal-mask
-- buffers, position ids) or belong to heads we do not build.
local function ignorable(name)
  return name:match("%.attn%.bias$") or name:match("%.attn%.masked_bias$") or
         name == "lm_head.weight" or name:match("position_ids$") or name:match("^cls%.")
end

-- ---- config ----------------------------------------------------------------------

local function kind_of(cfg, dir)
  local t = cfg.model_type
  local arch = type(cfg.architectures) == "table" and cfg.architectures[1] or ""
  if t == "gpt2" or arch:match("^GPT2") then return "gpt2" end
  if t == "bert" or arch:match("^Bert") then return "bert" end
  error(string.format("models.load: %s holds a %s model; attnlab loads GPT-2 and BERT " ..
                      "checkpoints (config.json model_type \"gpt2\" or \"bert\")", dir,
                      tostring(t or arch)), 3)
end

local function build(kind, cfg)
  if kind == "gpt2" then
    if cfg.activation_function and cfg.activation_function ~= "gelu_new" then
      error("models.load: GPT-2 with activation " .. cfg.activation_function ..
            " is not supported (gelu_new only)", 3)
    end
    return models.gpt{vocab = cfg.vocab_size, ctx = cfg.n_positions or cfg.n_ctx,
                      n_layer = cfg.n_layer, n_head = cfg.n_head, d_model = cfg.n_embd}
  end
  return models.bert{vocab = cfg.vocab_size, ctx = cfg.max_position_embeddings,
                     n_layer = cfg.num_hidden_layers, n_head = cfg.num_attention_heads,
                     d_model = cfg.hidden_size, d_ff = cfg.intermediate_size,
                     types = cfg.type_vocab_size}
end

-- ---- loading -----------------------------------------------------------------------

-- name -> tensor with the "transformer." / "bert." prefix and old LayerNorm
-- names (gamma, beta) normalised.
local function normalise(tensors, kind)
  local out = {}
  for name, t in pairs(tensors) do
    name = name:gsub(kind == "gpt2" and "^transformer%." or "^bert%.", "")
    name = name:gsub("%.gamma$", ".weight"):gsub("%.beta$", ".bias")
    out[name] = t
  end
  return out
end

-- Our state dict from the checkpoint's tensors; every missing tensor is
-- named, and so is every tensor we neither use nor know to ignore.
local function map_in(kind, c, tensors)
  local sd, used, missing = {}, {}, {}
  local names = kind == "gpt2" and gpt2_names(c) or bert_names(c)
  for _, e in ipairs(names) do
    local t = tensors[e[1]]
    if t == nil then
      missing[#missing + 1] = e[1]
    else
      used[e[1]] = true
      sd[e[2]] = e[3] == "T" and t:T():contiguous() or t
    end
  end
  if kind == "gpt2" then
    for i = 0, c.n_layer - 1 do
      local h, d = "h." .. i .. ".", c.d_model
      local w, b = tensors[h .. "attn.c_attn.weight"], tensors[h .. "attn.c_attn.bias"]
      if not w or not b then
        missing[#missing + 1] = h .. "attn.c_attn.weight/bias"
      else
        used[h .. "attn.c_attn.weight"], used[h .. "attn.c_attn.bias"] = true, true
        for j, p in ipairs({"q_proj", "k_proj", "v_proj"}) do
          sd[h .. "attn." .. p .. ".weight"] = w:narrow(2, (j - 1) * d + 1, d):T():contiguous()
          sd[h .. "attn." .. p .. ".bias"] = b:narrow(1, (j - 1) * d + 1, d):contiguous()
        end
      end
    end
  end
  local unknown = {}
  for name in pairs(tensors) do
    if not used[name] and not ignorable(name) then unknown[#unknown + 1] = name end
  end
  table.sort(unknown)
  if #missing > 0 or #unknown > 0 then
    error(string.format("models.load: the checkpoint does not fit a %s of this config " ..
                        "(missing: %s; unexpected: %s)", kind,
                        #missing > 0 and table.concat(missing, ", ") or "none",
                        #unknown > 0 and table.concat(unknown, ", ") or "none"), 3)
  end
  return sd
end

local function tokenizer_of(dir, kind)
  if kind == "gpt2" and exists(dir .. "/vocab.json") and exists(dir .. "/merges.txt") then
    return attn.tokenizer.bpe{vocab = dir .. "/vocab.json", merges = dir .. "/merges.txt"}
  end
  if kind == "bert" and exists(dir .. "/vocab.txt") then
    local lower = true
    local text = read_file(dir .. "/tokenizer_config.json")
    if text then
      local tc = attn._io.json_decode(text)
      if tc.do_lower_case ~= nil then lower = tc.do_lower_case end
    end
    return attn.tokenizer.wordpiece{vocab = dir .. "/vocab.txt", lowercase = lower}
  end
  return nil
end

--- m, tok = checkpoint.load(dir): a GPT-2 or BERT folder as a model (in
-- eval mode) and its tokenizer (nil when the folder has no tokenizer files).
function checkpoint.load(dir)
  assert(type(dir) == "string", "models.load: expected a folder name")
  local text, err = read_file(dir .. "/config.json")
  if not text then error("models.load: cannot read " .. dir .. "/config.json (" .. err .. ")", 2) end
  local cfg = attn._io.json_decode(text)
  local kind = kind_of(cfg, dir)
  local file = dir .. "/model.safetensors"
  if not exists(file) then
    error("models.load: " .. dir .. " has no model.safetensors (pytorch_model.bin is not " ..
          "read: convert it to safetensors first)", 2)
  end
  local m = build(kind, cfg)
  local sd = map_in(kind, m.config, normalise(attn.load(file), kind))
  m:load_state_dict(sd)
  m:eval()
  return m, tokenizer_of(dir, kind)
end

-- ---- saving ------------------------------------------------------------------------

local function hf_config(m)
  local c = m.config
  if c.kind == "gpt" then
    return {model_type = "gpt2", architectures = {"GPT2LMHeadModel"}, vocab_size = c.vocab,
            n_positions = c.ctx, n_ctx = c.ctx, n_embd = c.d_model, n_layer = c.n_layer,
            n_head = c.n_head, activation_function = "gelu_new", layer_norm_epsilon = 1e-5}
  end
  return {model_type = "bert", architectures = {"BertModel"}, vocab_size = c.vocab,
          hidden_size = c.d_model, num_hidden_layers = c.n_layer,
          num_attention_heads = c.n_head, intermediate_size = c.d_ff,
          max_position_embeddings = c.ctx, type_vocab_size = c.types, hidden_act = "gelu",
          layer_norm_eps = 1e-12}
end

-- Our state dict under Hugging Face's names and layouts.
local function map_out(m)
  local sd, c = m:state_dict(), m.config
  local kind = c.kind == "gpt" and "gpt2" or "bert"
  local out = {}
  for _, e in ipairs(kind == "gpt2" and gpt2_names(c) or bert_names(c)) do
    local t = sd[e[2]]
    out[e[1]] = e[3] == "T" and t:T():contiguous() or t
  end
  if kind == "gpt2" then
    for i = 0, c.n_layer - 1 do
      local h = "h." .. i .. ".attn."
      local ws, bs = {}, {}
      for j, p in ipairs({"q_proj", "k_proj", "v_proj"}) do
        ws[j], bs[j] = sd[h .. p .. ".weight"]:T(), sd[h .. p .. ".bias"]
      end
      out[h .. "c_attn.weight"], out[h .. "c_attn.bias"] = attn.cat(ws, 2), attn.cat(bs, 1)
    end
  end
  return out
end

--- checkpoint.save(m, dir): config.json + model.safetensors, each written
-- through a temporary file and renamed, so an interrupted save never leaves
-- half a model.
function checkpoint.save(m, dir)
  assert(type(dir) == "string", "save: expected a folder name")
  attn._io.mkdir(dir)
  local tensors = attn.no_grad(function() return map_out(m) end)
  attn.save(dir .. "/model.safetensors", tensors, {metadata = {format = "pt"}})
  write_atomic(dir .. "/config.json", json_encode(hf_config(m)))
end

models.load = checkpoint.load
models.GPT.save = checkpoint.save
models.BERT.save = checkpoint.save

return checkpoint
