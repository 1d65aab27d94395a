-- attention_forms.lua: the teaching form attn.F.attention (five scores,
-- three normalisations, temperature), local (windowed) attention and
-- linear attention, against hand computations and plain loops.

local T = dofile((os.getenv("ATTNLAB_PATH") or ".") .. "/tests/lua/tap.lua")
local attn = attn or require "attn"
local gradcheck = dofile((os.getenv("ATTNLAB_PATH") or ".") .. "/tests/lua/gradcheck.lua")
local F = attn.F
attn.seed(17)

local function dot(a, b) local s = 0 for i = 1, #a do s = s + a[i] * b[i] end return s end

-- ---- the five scores -------------------------------------------------------------
do
  local q, k, v = attn.randn(3, 4), attn.randn(5, 4), attn.randn(5, 2)
  local qt, kt = q:table(), k:table()
  local function check_scores(name, opts, f)
    local _, _, s = F.attention(q, k, v, opts)
    local worst = 0
    for i = 1, 3 do for j = 1, 5 do worst = math.max(worst, math.abs(s:get(i, j) - f(qt[i], kt[j]))) end end
    T.ok(worst < 1e-5, name .. " scores by hand", worst)
  end
  check_scores("dot", {score = "dot"}, dot)
  check_scores("scaled_dot", {score = "scaled_dot"}, function(a, b) return dot(a, b) / 2 end)
  check_scores("cosine", {score = "cosine"}, function(a, b)
    return dot(a, b) / math.sqrt(dot(a, a) * dot(b, b)) end)
  local Wq, Wk, va = attn.randn(6, 4), attn.randn(6, 4), attn.randn(6)
  local Wqt, Wkt, vat = Wq:table(), Wk:table(), va:table()
  check_scores("additive", {score = "additive", params = {W_q = Wq, W_k = Wk, v = va}}, function(a, b)
    local s = 0
    for r = 1, 6 do s = s + vat[r] * math.tanh(dot(Wqt[r], a) + dot(Wkt[r], b)) end
    return s
  end)
  local W = attn.randn(4, 4)
  local Wt = W:table()
  check_scores("bilinear", {score = "bilinear", params = {W = W}}, function(a, b)
    local s = 0
    for r = 1, 4 do for c = 1, 4 do s = s + a[r] * Wt[r][c] * b[c] end end
    return s
  end)
  local out, w, s = F.attention(q, k, v, {temperature = 0.5})
  T.ok(attn.allclose(w, (s / 0.5):softmax(2)) and attn.allclose(out, w:matmul(v)),
       "temperature divides the scores before the softmax")
  T.raises(function() F.attention(q, k, v, {score = "euclid"}) end, {"attention", "euclid"},
           "an unknown score")
  T.raises(function() F.attention(q, k, v, {score = "additive"}) end, {"additive", "W_q"},
           "additive without its parameters")
end

-- ---- hard and sparsemax --------------------------------------------------------------
do
  local q = attn.randn(3, 4):requires_grad(true)
  local k, v = attn.randn(5, 4):requires_grad(true), attn.randn(5, 2):requires_grad(true)
  local out, w, s = F.attention(q, k, v, {norm = "hard"})
  local am = s:argmax(2):table()
  local good = true
  for i = 1, 3 do for j = 1, 5 do good = good and w:get(i, j) == (j == am[i] and 1 or 0) end end
  T.ok(good, "hard attention is a one-hot at each row's largest score")
  out:sum():backward()
  T.ok(q.grad == nil and k.grad == nil and v.grad ~= nil,
       "hard: no gradient reaches q and k (argmax is flat), only v")

  local z = attn.tensor({{1, 0.5, -1}})
  local _, ws = F.attention(attn.ones(1, 1), attn.ones(3, 1), attn.eye(3),
                            {score = "dot", norm = "sparsemax", temperature = 1})
  T.ok(attn.allclose(ws, attn.full({1, 3}, 1 / 3)), "sparsemax of equal scores is uniform")
  -- z = (1, 0.5, -1): support {1, 2}, tau = (1 + 0.5 - 1) / 2 = 0.25 -> (0.75, 0.25, 0)
  local qz = attn.tensor({{1}})
  local kz = z:T()
  local _, wz = F.attention(qz, kz, attn.eye(3), {score = "dot", norm = "sparsemax"})
  T.ok(attn.allclose(wz, attn.tensor({{0.75, 0.25, 0}})), "sparsemax by hand: (0.75, 0.25, 0)")
  gradcheck(T, "sparsemax weights (support away from its edges)", function(x)
    local _, ww = F.attention(x, attn.tensor({{1, 0}, {0, 1}, {1, 1}}), attn.eye(3),
                              {score = "dot", norm = "sparsemax"})
    return ww
  end, {{2, 2}}, {inputs = {attn.tensor({{0.9, 0.3}, {0.1, 0.7}})}})  -- scores 0.15+ from tau
end

-- ---- local (windowed) attention ---------------------------------------------------------
do
  local q, k, v = attn.randn(6, 4), attn.randn(6, 4), attn.randn(6, 3)
  local o0 = F.scaled_dot_product_attention(q, k, v, {window = 0})
  T.ok(attn.allclose(o0, v), "window 0: each query sees only itself, out = v")
  local keep = attn.zeros(6, 6)
  for i = 1, 6 do for j = 1, 6 do if math.abs(i - j) <= 2 and j <= i then keep:set(i, j, 1) end end end
  local ow = F.scaled_dot_product_attention(q, k, v, {window = 2, causal = true})
  T.ok(attn.allclose(ow, F.scaled_dot_product_attention(q, k, v, {mask = keep})),
       "causal window 2 = a mask of the two keys before and the key itself")
end

-- ---- linear attention ---------------------------------------------------------------------
local function phi(x) return x > 0 and x + 1 or math.exp(x) end
local function linear_by_hand(q, k, v, causal)
  local out = {}
  for i = 1, #q do
    local num, den = {}, 0
    for e = 1, #v[1] do num[e] = 0 end
    for j = 1, causal and i or #k do
      local w = 0
      for d = 1, #q[1] do w = w + phi(q[i][d]) * phi(k[j][d]) end
      den = den + w
      for e = 1, #v[1] do num[e] = num[e] + w * v[j][e] end
    end
    out[i] = {}
    for e = 1, #v[1] do out[i][e] = num[e] / (den + 1e-6) end
  end
  return out
end

for _, causal in ipairs({false, true}) do
  local q, k, v = attn.randn(5, 3), attn.randn(5, 3), attn.randn(5, 2)
  local got = F.linear_attention(q, k, v, {causal = causal})
  T.ok(attn.allclose(got, attn.tensor(linear_by_hand(q:table(), k:table(), v:table(), causal)), 1e-5),
       "linear attention (causal=" .. tostring(causal) .. ") = the sums written out")
  gradcheck(T, "linear attention gradients (causal=" .. tostring(causal) .. ")", function(a, b, c)
    return F.linear_attention(a, b, c, {causal = causal})
  end, {{4, 3}, {4, 3}, {4, 2}}, {away = true})
end
T.is(F.linear_attention(attn.randn(2, 7, 3), attn.randn(2, 7, 3), attn.randn(2, 7, 4)):shape(),
     {2, 7, 4}, "batched linear attention keeps [B, T, Dv]")

T.done_testing()
