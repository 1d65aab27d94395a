-- attn.models: GPT (decoder) and BERT (encoder) built from attn.nn, from a
-- toy size to GPT-2 small and BERT-base.
--
-- Token ids are the vocabulary's own numbers (0-based, as in the tokenizer
-- files); positions start at 0. forward(ids) takes one list of ids or a
-- list of lists (a batch).

local attn = require "attn.core"
local nn = require "attn.nn"
local F = attn.F

local models = {}

-- Normal(0, std) initial weights, as GPT-2 and BERT were trained from.
local function init_normal(m, std)
  attn.no_grad(function()
    for _, p in ipairs(m:named_parameters()) do
      local name, t = p[1], p[2]
      if name:match("weight$") and t:dim() >= 2 then t:copy(attn.randn(table.unpack(t:shape())) * std)
      elseif name:match("bias$") then t:fill(0) end
    end
  end)
end

-- ids as a [B, T] id table plus whether the caller gave a single list.
local function batch_of(ids)
  assert(type(ids) == "table" and #ids > 0, "forward: ids must be a non-empty list of token ids")
  if type(ids[1]) == "table" then return ids, false end
  return {ids}, true
end

-- Positions offset .. offset+T-1 for every row of a [B, T] batch.
local function positions(B, T, offset)
  local row = {}
  for t = 1, T do row[t] = offset + t - 1 end
  local out = {}
  for b = 1, B do out[b] = row end
  return out
end

-- ---- attention hooks ------------------------------------------------------------
-- m:hook("attention", fn, {layers=}) runs fn(layer, weights, info) on each
-- hooked layer's attention weights during every forward (generate too);
-- weights are [heads, Tq, Tk] for a single sequence, [B, heads, Tq, Tk] for
-- a batch, as in rec.attention. fn may return replacement weights. Only the
-- hooked layers leave the fused kernel.

local Handle = {}
Handle.__index = Handle

--- handle:remove(): the hook stops; removing twice is harmless.
function Handle:remove()
  local list = self.model._hooks
  for i = #list, 1, -1 do
    if list[i] == self then table.remove(list, i) end
  end
  self.removed = true
end

local function hook(self, event, fn, opts)
  if event ~= "attention" then
    error(string.format("hook: unknown event %q (the model offers \"attention\")",
                        tostring(event)), 2)
  end
  if type(fn) ~= "function" then error("hook: expected a function, got a " .. type(fn), 2) end
  local layers
  if opts and opts.layers then
    layers = {}
    for _, l in ipairs(opts.layers) do
      if math.type(l) ~= "integer" or l < 1 or l > #self.blocks then
        error(string.format("hook: layer %s is outside 1..%d", tostring(l), #self.blocks), 2)
      end
      layers[l] = true
    end
  end
  self._hooks = rawget(self, "_hooks") or {}
  local h = setmetatable({model = self, fn = fn, layers = layers}, Handle)
  self._hooks[#self._hooks + 1] = h
  return h
end

--- m:remove_hooks(): every attention hook of the model goes.
local function remove_hooks(self)
  self._hooks = {}
end

-- The hook function for layer i (nil when no hook wants it): the user's
-- hooks in order, each seeing what the one before returned.
local function layer_hook(hooks, i, single, info)
  local mine = {}
  for _, h in ipairs(hooks or {}) do
    if not h.layers or h.layers[i] then mine[#mine + 1] = h end
  end
  if #mine == 0 then return nil end
  return function(w)
    local view, changed = single and w[1] or w, false
    for _, h in ipairs(mine) do
      local new = h.fn(i, view, info)
      if new ~= nil then view, changed = new, true end
    end
    if not changed then return nil end
    if single and attn.is_tensor(view) and view:dim() == 3 then return view:unsqueeze(1) end
    return view
  end
end

-- Run the blocks, recording each layer's weights when asked (after any
-- hook changed them: the record shows what the model used).
local function run_blocks(blocks, x, opts, rec, single, hooks)
  for i, blk in ipairs(blocks) do
    local w
    local info = {layer = i, offset = opts.offset or 0}
    x, w = blk(x, {weights = rec ~= nil, mask = opts.mask, cache = opts.cache and opts.cache[i],
                   hook = layer_hook(hooks, i, single, info)})
    if rec then rec.attention[i] = single and w[1] or w end
  end
  return x
end

-- ---- GPT ------------------------------------------------------------------------

local GPT = nn.class("GPT")
models.GPT = GPT

--- gpt{vocab=, ctx=, n_layer=, n_head=, d_model=, dropout=0}
function GPT:init(o)
  for _, k in ipairs({"vocab", "ctx", "n_layer", "n_head", "d_model"}) do
    assert(math.type(o[k]) == "integer" and o[k] > 0, "gpt: " .. k .. " must be a positive integer")
  end
  self.config = {kind = "gpt", vocab = o.vocab, ctx = o.ctx, n_layer = o.n_layer,
                 n_head = o.n_head, d_model = o.d_model, dropout = o.dropout or 0}
  self:child("wte", nn.Embedding(o.vocab, o.d_model))
  self:child("wpe", nn.Embedding(o.ctx, o.d_model))
  self:child("drop", nn.Dropout(o.dropout or 0))
  self.blocks = {}
  for i = 1, o.n_layer do
    local blk = nn.TransformerBlock{d_model = o.d_model, n_heads = o.n_head, d_ff = 4 * o.d_model,
                                    causal = true, dropout = o.dropout or 0, norm = "pre"}
    blk.mlp["2"].kind = "tanh"                          -- GPT-2's gelu approximation
    self.blocks[i] = self:child("h." .. (i - 1), blk)
  end
  self:child("ln_f", nn.LayerNorm(o.d_model))
  init_normal(self, 0.02)
end

--- logits, rec = m:forward(ids, {record=, cache=, offset=})
-- logits [T, vocab] for one list of ids, [B, T, vocab] for a batch. The
-- output head is wte.weight itself (tied embeddings, as GPT-2).
function GPT:forward(ids, opts)
  opts = opts or {}
  local batch, single = batch_of(ids)
  local B, T, offset = #batch, #batch[1], opts.offset or 0
  assert(offset + T <= self.config.ctx,
         string.format("gpt: %d positions exceed the context of %d", offset + T, self.config.ctx))
  local x = self.wte(batch) + self.wpe(positions(B, T, offset))
  x = self.drop(x)
  local rec = opts.record and {attention = {}} or nil
  x = run_blocks(self.blocks, x, opts, rec, single, rawget(self, "_hooks"))
  local logits = self.ln_f(x):matmul(self.wte.weight:T())
  if single then logits = logits[1] end
  return logits, rec
end

--- ids = m:generate(prompt_ids, {max_new=20, temperature=1, top_k=nil})
-- Samples one token at a time; each step feeds only the new token and
-- reads the earlier keys and values from a cache, so a step costs O(T).
-- temperature = 0 takes the most likely token.
function GPT:generate(prompt, opts)
  opts = opts or {}
  local max_new, temp, top_k = opts.max_new or 20, opts.temperature or 1, opts.top_k
  local out = {table.unpack(prompt)}
  local cache = {}
  for i = 1, #self.blocks do cache[i] = {} end
  attn.no_grad(function()
    local was = self.training
    self:eval()
    local step_ids, offset = prompt, 0
    for _ = 1, max_new do
      if offset + #step_ids > self.config.ctx then break end
      local logits = self:forward(step_ids, {cache = cache, offset = offset})
      offset = offset + #step_ids
      local next_id = models.sample(logits[#step_ids], temp, top_k)
      out[#out + 1] = next_id
      step_ids = {next_id}
    end
    self:train(was)
  end)
  return out
end

--- One id (0-based) from a [vocab] logits vector.
-- The k-th largest of the numbers in list: a min-heap of the k largest seen
-- so far, so a 50,257-word vocabulary costs one pass, not a sort.
local function kth_largest(list, k)
  local heap = {}
  local function sift_down(i)
    while true do
      local l, r, m = 2 * i, 2 * i + 1, i
      if l <= k and heap[l] < heap[m] then m = l end
      if r <= k and heap[r] < heap[m] then m = r end
      if m == i then return end
      heap[i], heap[m] = heap[m], heap[i]
      i = m
    end
  end
  for i = 1, k do heap[i] = list[i] end
  for i = k // 2, 1, -1 do sift_down(i) end
  for i = k + 1, #list do
    if list[i] > heap[1] then
      heap[1] = list[i]
      sift_down(1)
    end
  end
  return heap[1]
end

function models.sample(logits, temperature, top_k)
  if temperature == 0 then return math.tointeger(logits:argmax():item() - 1) end
  local p = (logits / temperature):softmax(1):table()
  local total = 1
  if top_k and top_k < #p then
    -- softmax keeps the order, so the top k logits are the top k weights;
    -- the rest get none, and the draw below is scaled to what is kept
    local cut = kth_largest(p, top_k)
    total = 0
    for i, pi in ipairs(p) do
      if pi < cut then p[i] = 0 else total = total + pi end
    end
  end
  local u, acc = attn.rand(1):item() * total, 0
  for i, pi in ipairs(p) do
    acc = acc + pi
    if u < acc then return i - 1 end
  end
  for i = #p, 1, -1 do -- rounding left u at the very top: the last kept id
    if p[i] > 0 then return i - 1 end
  end
  return #p - 1
end

GPT.hook, GPT.remove_hooks = hook, remove_hooks

function models.gpt(o) return GPT(o) end

--- The full-size GPT-2 shape: 124,439,808 parameters.
function models.gpt2_small()
  return GPT{vocab = 50257, ctx = 1024, n_layer = 12, n_head = 12, d_model = 768}
end

-- ---- BERT -----------------------------------------------------------------------

local BERT = nn.class("BERT")
models.BERT = BERT

--- bert{vocab=, ctx=512, n_layer=, n_head=, d_model=, d_ff=4*d_model, types=2, dropout=0}
function BERT:init(o)
  for _, k in ipairs({"vocab", "n_layer", "n_head", "d_model"}) do
    assert(math.type(o[k]) == "integer" and o[k] > 0, "bert: " .. k .. " must be a positive integer")
  end
  local d = o.d_model
  self.config = {kind = "bert", vocab = o.vocab, ctx = o.ctx or 512, n_layer = o.n_layer,
                 n_head = o.n_head, d_model = d, d_ff = o.d_ff or 4 * d, types = o.types or 2,
                 dropout = o.dropout or 0}
  local c = self.config
  self:child("word_embeddings", nn.Embedding(c.vocab, d))
  self:child("position_embeddings", nn.Embedding(c.ctx, d))
  self:child("token_type_embeddings", nn.Embedding(c.types, d))
  self:child("ln_emb", nn.LayerNorm(d, {eps = 1e-12}))
  self:child("drop", nn.Dropout(c.dropout))
  self.blocks = {}
  for i = 1, c.n_layer do
    local blk = nn.TransformerBlock{d_model = d, n_heads = c.n_head, d_ff = c.d_ff,
                                    dropout = c.dropout, norm = "post"}
    blk.ln1.eps, blk.ln2.eps = 1e-12, 1e-12
    self.blocks[i] = self:child("layer." .. (i - 1), blk)
  end
  self:child("pooler", nn.Linear(d, d))
  init_normal(self, 0.02)
end

--- hidden, pooled, rec = m:forward(ids, {token_types=, mask=, record=})
-- hidden [T, d] or [B, T, d]; pooled = tanh(W h_[CLS] + b), the sentence
-- vector classifiers read; mask: 1 for real tokens, 0 for padding.
function BERT:forward(ids, opts)
  opts = opts or {}
  local batch, single = batch_of(ids)
  local B, T = #batch, #batch[1]
  assert(T <= self.config.ctx, string.format("bert: %d tokens exceed %d positions", T, self.config.ctx))
  local types = opts.token_types or {}
  if type(types[1]) ~= "table" then
    local row = {}
    for t = 1, T do row[t] = types[t] or 0 end
    types = {}
    for b = 1, B do types[b] = row end
  end
  local x = self.word_embeddings(batch) + self.position_embeddings(positions(B, T, 0)) +
            self.token_type_embeddings(types)
  x = self.drop(self.ln_emb(x))
  local mask = opts.mask
  if mask and not attn.is_tensor(mask) then mask = attn.tensor(mask, {device = x:device()}) end
  if mask and mask:dim() == 2 then mask = mask:reshape(B, 1, 1, T) end   -- per batch item, over keys
  local rec = opts.record and {attention = {}} or nil
  x = run_blocks(self.blocks, x, {mask = mask}, rec, single, rawget(self, "_hooks"))
  local cls = x:select(2, 1)                                             -- [B, d]
  local pooled = self.pooler(cls):tanh()
  if single then x, pooled = x[1], pooled[1] end
  return x, pooled, rec
end

BERT.hook, BERT.remove_hooks = hook, remove_hooks

function models.bert(o) return BERT(o) end

--- The BERT-base shape: 12 layers, 768 wide, 12 heads, 30522 tokens.
function models.bert_base()
  return BERT{vocab = 30522, ctx = 512, n_layer = 12, n_head = 12, d_model = 768}
end

return models
