-- models.lua: GPT and BERT against forwards written out here from attn.F
-- calls and the models' own tensors; parameter counts of the full-size
-- shapes worked out by hand; recording, generation with and without the
-- key/value cache; a tiny GPT that learns to reverse a sequence.

local T = dofile((os.getenv("ATTNLAB_PATH") or ".") .. "/tests/lua/tap.lua")
local attn = attn or require "attn"
local F = attn.F
attn.seed(11)

-- ---- a GPT forward from attn.F, reading parameters by state_dict name ------------
local function gpt_by_hand(m, ids)
  local sd, c = m:state_dict(), m.config
  local T_, H, d = #ids, c.n_head, c.d_model
  local pos = {}
  for t = 1, T_ do pos[t] = t - 1 end
  local x = F.embedding(ids, sd["wte.weight"]) + F.embedding(pos, sd["wpe.weight"])
  for l = 0, c.n_layer - 1 do
    local p = function(n) return sd["h." .. l .. "." .. n] end
    local h = F.layer_norm(x, p("ln1.weight"), p("ln1.bias"))
    local function heads(w, b)
      return F.linear(h, w, b):reshape(T_, H, d // H):transpose(1, 2)   -- [H, T, dh]
    end
    local q = heads(p("attn.q_proj.weight"), p("attn.q_proj.bias"))
    local k = heads(p("attn.k_proj.weight"), p("attn.k_proj.bias"))
    local v = heads(p("attn.v_proj.weight"), p("attn.v_proj.bias"))
    local s = q:matmul(k:T()) / math.sqrt(d // H)
    local keep = attn.arange(T_):reshape(1, T_):le(attn.arange(T_):reshape(T_, 1))
    local a = s:masked_fill(keep, -math.huge):softmax(3):matmul(v)
    a = a:transpose(1, 2):reshape(T_, d)
    x = x + F.linear(a, p("attn.out_proj.weight"), p("attn.out_proj.bias"))
    local h2 = F.layer_norm(x, p("ln2.weight"), p("ln2.bias"))
    local f = F.linear(h2, p("mlp.1.weight"), p("mlp.1.bias")):gelu("tanh")
    x = x + F.linear(f, p("mlp.3.weight"), p("mlp.3.bias"))
  end
  return F.layer_norm(x, sd["ln_f.weight"], sd["ln_f.bias"]):matmul(sd["wte.weight"]:T())
end

do
  local m = attn.models.gpt{vocab = 11, ctx = 16, n_layer = 2, n_head = 2, d_model = 8}
  m:eval()
  local ids = {3, 0, 7, 7, 10}
  local logits, rec = m:forward(ids, {record = true})
  T.ok(attn.allclose(logits, gpt_by_hand(m, ids), 1e-4), "gpt logits = a forward from attn.F")
  T.is(logits:shape(), {5, 11}, "logits [T, vocab] for one list")
  T.is(#rec.attention, 2, "one attention record per layer")
  local w = rec.attention[2]
  T.is(w:shape(), {2, 5, 5}, "record [heads, T, T]")
  T.near(w:sum(3):min():item(), 1, 1e-5, "each query's weights sum to 1")
  T.is(w[1][2][3], 0, "causal: query 2 gives key 3 no weight")
  local lb, rb = m:forward({ids, {1, 2, 3, 4, 5}}, {record = true})
  T.ok(attn.allclose(lb[1], logits, 1e-5), "a batch row equals the sequence alone")
  T.is(rb.attention[1]:shape(), {2, 2, 5, 5}, "batched record [B, heads, T, T]")
  T.raises(function() m:forward({1, 2, 99}) end, {"embedding", "99"}, "an id past the vocabulary")
  local long = {}
  for i = 1, 17 do long[i] = 1 end
  T.raises(function() m:forward(long) end, {"gpt", "17", "16"}, "more tokens than the context")

  -- greedy generation: with the cache it must pick what full recomputation picks
  local with_cache = m:generate({1, 2, 3}, {max_new = 8, temperature = 0})
  local seq = {1, 2, 3}
  for _ = 1, 8 do
    local l = m:forward(seq)
    seq[#seq + 1] = math.tointeger(l[#seq]:argmax():item() - 1)
  end
  T.is(with_cache, seq, "generate with the key/value cache = recomputing the whole prefix")
  attn.seed(3)
  local a1 = m:generate({1}, {max_new = 5, top_k = 2})
  attn.seed(3)
  T.is(m:generate({1}, {max_new = 5, top_k = 2}), a1, "sampling repeats under one seed")

  -- sample draws in proportion to softmax(logits / temperature), among the
  -- top_k largest only: weights 1, 2, 3, 4 (logits log w), n draws each; a
  -- count is within 6 standard deviations of n p.
  local logits = attn.tensor({0, math.log(2), math.log(3), math.log(4)})
  local function counts(temperature, top_k, n)
    local c = {0, 0, 0, 0}
    for _ = 1, n do
      local id = attn.models.sample(logits, temperature, top_k)
      c[id + 1] = c[id + 1] + 1
    end
    return c
  end
  local function near(c, p, n)
    for i = 1, 4 do
      if math.abs(c[i] - n * p[i]) > 6 * math.sqrt(n * p[i] * (1 - p[i])) + 1e-9 then
        return false
      end
    end
    return true
  end
  attn.seed(11)
  local n = 4000
  local c = counts(1, nil, n)
  T.ok(near(c, {0.1, 0.2, 0.3, 0.4}, n), "sample: frequencies follow the softmax", c)
  c = counts(1, 2, n)
  T.ok(near(c, {0, 0, 3 / 7, 4 / 7}, n), "sample with top_k = 2: only the two largest, renormalised", c)
  c = counts(0.5, nil, n) -- temperature 0.5 squares the weights: 1, 4, 9, 16
  T.ok(near(c, {1 / 30, 4 / 30, 9 / 30, 16 / 30}, n), "sample: temperature 0.5 squares the weights", c)
  T.is(counts(1, 1, 50), {0, 0, 0, 50}, "top_k = 1 always takes the largest")
  T.is(attn.models.sample(logits, 0), 3, "temperature 0 takes the largest (0-based id 3)")
end

-- ---- full-size shapes ---------------------------------------------------------------
-- Under valgrind, drawing 234M initial weights takes most of an hour.
local function under_valgrind()
  local f = io.open("/proc/self/maps", "r")
  if not f then return false end
  local maps = f:read("a")
  f:close()
  return maps:find("vgpreload", 1, true) ~= nil
end

if under_valgrind() then
  for _, name in ipairs({"block", "gpt2_small", "124,439,808", "bert_base", "109,482,240"}) do
    T.skip(name, "full-size models are too slow under valgrind")
  end
else
  -- per block: 2 layer norms 4*768, attention 4*(768*768 + 768), mlp 768*3072 + 3072 +
  -- 3072*768 + 768 = 7,087,872; GPT-2: wte 50257*768 + wpe 1024*768 + 12 blocks + ln_f
  local block = 4 * 768 + 4 * (768 * 768 + 768) + 768 * 3072 + 3072 + 3072 * 768 + 768
  T.is(block, 7087872, "a 768-wide block holds 7,087,872 parameters")
  local g = attn.models.gpt2_small()
  T.is(g:num_parameters(), 50257 * 768 + 1024 * 768 + 12 * block + 2 * 768, "gpt2_small")
  T.is(g:num_parameters(), 124439808, "which is GPT-2's 124,439,808")
  g = nil
  collectgarbage()
  local b = attn.models.bert_base()
  -- embeddings 30522*768 + 512*768 + 2*768 and their layer norm, 12 blocks, pooler
  T.is(b:num_parameters(), 30522 * 768 + 512 * 768 + 2 * 768 + 2 * 768 + 12 * block + 768 * 768 + 768,
       "bert_base")
  T.is(b:num_parameters(), 109482240, "which is BERT-base's 109,482,240")
  b = nil
  collectgarbage()
end

-- ---- BERT -------------------------------------------------------------------------------
do
  local m = attn.models.bert{vocab = 20, ctx = 12, n_layer = 2, n_head = 2, d_model = 8}
  m:eval()
  local h, pooled, rec = m:forward({2, 5, 9, 3}, {record = true, token_types = {0, 0, 1, 1}})
  T.is(h:shape(), {4, 8}, "bert hidden states [T, d]")
  T.ok(attn.allclose(pooled, F.linear(h[1], m.pooler.weight, m.pooler.bias):tanh(), 1e-5),
       "pooled = tanh(W h_[CLS] + b)")
  T.ok(rec.attention[1][1][4][4] > 0, "bidirectional: query 4 sees key 4 and beyond")
  -- padding masked out leaves the real tokens' states unchanged
  local a = m:forward({{2, 5, 9, 0, 0}}, {mask = {{1, 1, 1, 0, 0}}})
  local b = m:forward({{2, 5, 9, 7, 4}}, {mask = {{1, 1, 1, 0, 0}}})
  T.ok(attn.allclose(a[1]:narrow(1, 1, 3), b[1]:narrow(1, 1, 3), 1e-5),
       "masked padding does not change the real tokens")
  local c = m:forward({{2, 5, 9}})
  T.ok(attn.allclose(a[1]:narrow(1, 1, 3), c[1], 1e-5), "and equals the unpadded sequence")
end

-- ---- a tiny GPT learns to reverse --------------------------------------------------------
do
  -- sequences a b c d | d c b a over tokens 1..6, 7 = separator; loss on the answer half
  local m = attn.models.gpt{vocab = 8, ctx = 9, n_layer = 2, n_head = 2, d_model = 32}
  local opt = attn.optim.AdamW(m:parameters(), {lr = 3e-3, weight_decay = 0})
  local function example()
    local s = {}
    for i = 1, 4 do s[i] = 1 + math.floor(attn.rand(1):item() * 6) end
    local seq = {s[1], s[2], s[3], s[4], 7, s[4], s[3], s[2], s[1]}
    return seq
  end
  local loss
  for _ = 1, 250 do
    local xs, ys = {}, {}
    for b = 1, 16 do
      local seq = example()
      xs[b] = {table.unpack(seq, 1, 8)}
      local y = {}
      for t = 1, 8 do y[t] = t >= 5 and seq[t + 1] + 1 or 0 end   -- 1-based classes, 0 ignored
      ys[b] = y
    end
    for b = 1, 16 do for t = 1, 8 do if ys[b][t] == 0 then ys[b][t] = 9 end end end
    opt:zero_grad()
    local logits = m:forward(xs)
    -- class 9 does not exist: mark the prompt half ignored through a 9th dummy column
    local padded = attn.cat({logits, attn.full({16, 8, 1}, -1e4)}, 3)
    loss = F.cross_entropy(padded, ys, {ignore = 9})
    loss:backward()
    opt:step()
  end
  T.ok(loss:item() < 0.05, "reverse task: loss near zero after 250 steps", loss:item())
  m:eval()
  local out = m:generate({3, 1, 6, 2, 7}, {max_new = 4, temperature = 0})
  T.is({table.unpack(out, 6)}, {2, 6, 1, 3}, "and reverses a new sequence")
end

T.done_testing()
