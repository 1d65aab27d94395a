-- heads.lua: attn.heads.detect and summary find exactly the heads planted by hand
-- in a small GPT, and score a uniform head as the formula says.
--
-- The planted model (d_model 128, 4 heads of 32 dims, 2 layers, context 16,
-- vocabulary 8): embeddings are one-hot (positions in dims 1..16, tokens in
-- 17..24), every MLP and attention output is zero except layer 1 head 1,
-- which copies the previous token into dims 25..32. So the residual stream
-- is known exactly, and each head's pattern depends only on its own Q/K
-- weights, set here with a large gain s:
--   L1H1 previous token: q(position p) = s e_(p-1), k(position p) = e_p
--   L1H2 first token:    q = s e_1 (a bias), k(position 1) = e_1
--   L2H1 duplicate:      q = s (token) - s (position), k = (token, position):
--                        the same token at another position
--   L2H2 induction:      q = s (token), k = the previous token written by L1H1
-- Heads 3 and 4 of each layer have zero Q/K: uniform attention.

local T = dofile((os.getenv("ATTNLAB_PATH") or ".") .. "/tests/lua/tap.lua")
local attn = attn or require "attn"

local V, CTX, HS = 8, 16, 32

local function planted()
  local m = attn.models.gpt{vocab = V, ctx = CTX, n_layer = 2, n_head = 4, d_model = 128}
  local s = 12
  attn.no_grad(function()
    for _, p in ipairs(m:named_parameters()) do
      p[2]:fill(p[1]:match("ln.*weight$") and 1 or 0)
    end
    for pos = 1, CTX do m.wpe.weight:set(pos, pos, 1) end
    for t = 1, V do m.wte.weight:set(t, 16 + t, 1) end
    local a1, a2 = m.blocks[1].attn, m.blocks[2].attn
    local function q(a, h, i, j, v) a.q_proj.weight:set((h - 1) * HS + i, j, v) end
    local function k(a, h, i, j, v) a.k_proj.weight:set((h - 1) * HS + i, j, v) end
    for p = 2, CTX do q(a1, 1, p - 1, p, s) end
    for p = 1, CTX do k(a1, 1, p, p, 1) end
    for t = 1, V do
      a1.v_proj.weight:set(t, 16 + t, 1)
      a1.out_proj.weight:set(24 + t, t, 1)
    end
    a1.q_proj.bias:set(HS + 1, s)
    k(a1, 2, 1, 1, 1)
    for t = 1, V do q(a2, 1, t, 16 + t, s); k(a2, 1, t, 16 + t, 1) end
    for p = 1, CTX do q(a2, 1, V + p, p, -s); k(a2, 1, V + p, p, 1) end
    for t = 1, V do q(a2, 2, t, 16 + t, s); k(a2, 2, t, 24 + t, 1) end
  end)
  m:eval()
  return m
end

-- The heads scoring above 0.5, as "L1H2" strings.
local function strong(scores)
  local out = {}
  for l, row in ipairs(scores:table()) do
    for h, v in ipairs(row) do
      if v > 0.5 then out[#out + 1] = "L" .. l .. "H" .. h end
    end
  end
  return out
end

local m = planted()

T.section("each detector finds exactly its planted head", function()
  local want = {previous_token = {"L1H1"}, first_token = {"L1H2"},
                duplicate_token = {"L2H1"}, induction = {"L2H2"}}
  for _, kind in ipairs(attn.heads.kinds) do
    local s = attn.heads.detect(m, {kind = kind})
    T.is(s:shape(), {2, 4}, kind .. ": scores are [layers, heads]")
    T.is(strong(s), want[kind], kind .. ": the planted head and no other")
  end
  local prev = attn.heads.detect(m, {kind = "previous_token"})
  T.ok(prev:get(1, 1) > 0.95, "a planted previous-token head scores near 1", prev:get(1, 1))
end)

T.section("a uniform head scores by the formula", function()
  -- zero Q/K: causal uniform attention, row i puts 1/i on each key; over
  -- probes of T = 16 tokens the previous-token score is mean_{i=2..16} 1/i
  -- and the induction score (queries 9..15, n = 8) is mean_{i=9..15} 1/i.
  local prev, ind = 0, 0
  for i = 2, 16 do prev = prev + 1 / i end
  for i = 9, 15 do ind = ind + 1 / i end
  T.near(attn.heads.detect(m, {kind = "previous_token"}):get(1, 3), prev / 15, 1e-5,
         "previous_token of a uniform head")
  T.near(attn.heads.detect(m, {kind = "induction"}):get(2, 4), ind / 7, 1e-5,
         "induction of a uniform head")
end)

T.section("probes are seeded and leave attn's stream alone", function()
  attn.seed(99)
  local before = attn.rand(3):table()
  attn.seed(99)
  local a = attn.heads.detect(m, {kind = "duplicate_token", seed = 4})
  local after = attn.rand(3):table()
  T.is(after, before, "detect does not draw from attn.seed's stream")
  local b = attn.heads.detect(m, {kind = "duplicate_token", seed = 4})
  T.is(a:table(), b:table(), "the same seed gives the same scores")
end)

T.section("a pattern of your own", function()
  local n, rows = 8, {}
  for b = 1, 2 do
    rows[b] = {}
    for i = 1, 2 * n do rows[b][i] = (i * b) % V end
  end
  local pattern = attn.zeros(2 * n, 2 * n)
  for i = 2, 2 * n do pattern:set(i, i - 1, 1) end
  local s = attn.heads.detect(m, {pattern = pattern, probes = rows})
  T.is(strong(s), {"L1H1"}, "a previous-token pattern finds the planted head")
end)

T.section("summary", function()
  local printed = {}
  local real = print
  print = function(...) printed[#printed + 1] = table.concat({...}, " ") end
  local ok, list = pcall(attn.heads.summary, m)
  print = real
  T.ok(ok, "summary runs", tostring(list))
  local kinds = {}
  for _, e in ipairs(list) do kinds["L" .. e.layer .. "H" .. e.head] = e.kind end
  T.is({kinds.L1H1, kinds.L1H2, kinds.L2H1, kinds.L2H2},
       {"previous_token", "first_token", "duplicate_token", "induction"},
       "each planted head labelled with its kind")
  T.is({kinds.L1H3, kinds.L2H4}, {"-", "-"}, "uniform heads get no label")
  T.ok(#printed == 1 and printed[1]:find("induction", 1, true), "the table is printed")
  local text = attn.heads.table(attn.heads.detect(m, {kind = "first_token"}), "first")
  T.ok(text:find("L1 ", 1, true) and text:find("1.00", 1, true), "heads.table shows scores",
       text)
end)

T.section("BERT and errors", function()
  attn.seed(2)
  local b = attn.models.bert{vocab = 20, ctx = 16, n_layer = 2, n_head = 2, d_model = 8}
  local s = attn.heads.detect(b, {kind = "previous_token"})
  T.is(s:shape(), {2, 2}, "a BERT model gets [layers, heads] scores too")
  T.raises(function() attn.heads.detect(m, {kind = "nonsense"}) end,
           {"heads.detect", "nonsense", "induction"}, "an unknown kind")
  T.raises(function() attn.heads.detect(m, {kind = "induction", n = 9}) end,
           {"heads.detect", "n is 9", "context of 16"}, "probes longer than the context")
  T.raises(function() attn.heads.detect("gpt") end, {"heads.detect", "model"}, "not a model")
end)

T.done_testing()
