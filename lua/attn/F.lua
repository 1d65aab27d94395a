-- attn.F: the functional form of the layers, as plain functions of tensors.
--
-- linear, embedding, layer_norm and cross_entropy are fused C kernels (l_F.c);
-- the rest are written here from tensor ops, so each reads as its formula
-- and autograd differentiates it without any code of its own.

local attn = require "attn.core"
local F = attn.F

-- F.linear(x, W, b) = x:matmul(W:T()) + b, with W [out, in] as in PyTorch,
-- is in C (l_F.c): there the bias goes into the result first and the
-- product adds itself to it, one pass over the output less.

function F.softmax(x, dim)
  return x:softmax(dim)
end

--- gelu(x) (exact, with erf) or gelu(x, "tanh") (GPT-2's approximation).
function F.gelu(x, kind)
  return x:gelu(kind)
end

--- Zero each element with probability p and scale the rest by 1/(1-p), so
-- the expected value is unchanged (inverted dropout). training=false or
-- p=0 returns x itself.
function F.dropout(x, p, training)
  p = p or 0.5
  assert(type(p) == "number" and p >= 0 and p < 1, "dropout: p must be in [0, 1)")
  if p == 0 or training == false then return x end
  local keep = attn.rand(x:shape(), {device = x:device()}):ge(p)   -- 1 with probability 1 - p
  return x * keep * (1 / (1 - p))
end

--- Mean of -(y log p + (1 - y) log(1 - p)) for probabilities p and labels y
-- in {0, 1}. p is clamped to [eps, 1 - eps]: a confident wrong answer costs
-- -log(eps), not infinity.
function F.binary_cross_entropy(p, y, eps)
  eps = eps or 1e-7
  if not attn.is_tensor(y) then y = attn.tensor(y, {device = p:device()}) end
  local pc = p:maximum(eps):minimum(1 - eps)
  local loss = -(y * pc:log() + (1 - y) * (1 - pc):log())
  return loss:mean()
end

-- Can the fused kernel take these operands (same leading dims, no
-- broadcasting between q, k and v)?
local function fusable(q, k, v)
  if q:dim() < 2 or k:dim() ~= q:dim() or v:dim() ~= q:dim() then return false end
  for d = 1, q:dim() - 2 do
    if k:size(d) ~= q:size(d) or v:size(d) ~= q:size(d) then return false end
  end
  return true
end

--- out, w = scaled_dot_product_attention(q, k, v, {causal=, mask=, scale=, weights=})
-- q [..., Tq, D], k [..., Tk, D], v [..., Tk, Dv]. mask: 1 keep / 0 drop,
-- broadcast to [..., Tq, Tk]. causal: query i sees keys up to i + (Tk - Tq)
-- (aligned to the end, so a decoding step with Tq = 1 sees every key).
-- A query whose keys are all dropped gets zero weights and a zero output.
-- window = W keeps only keys within W positions of each query (local
-- attention: memory and work in T * W once fused; here the mask form).
-- Without weights or a mask this runs the fused kernel (flash_attention),
-- which never builds the [Tq, Tk] matrix; otherwise the formula below.
function F.scaled_dot_product_attention(q, k, v, opts)
  opts = opts or {}
  local D = q:size(-1)
  local scale = opts.scale or 1 / math.sqrt(D)
  if not opts.weights and not opts.mask and not opts.window and not opts.materialise and
     fusable(q, k, v) then
    return F.flash_attention(q, k, v, {causal = opts.causal, scale = scale})
  end
  local scores = q:matmul(k:T()) * scale                 -- [..., Tq, Tk]
  local keep = opts.mask
  local Tq, Tk = q:size(-2), k:size(-2)
  -- query i sits at position i + (Tk - Tq) among the keys (aligned to the end)
  local on = {device = q:device()}                        -- masks live with the operands
  local qi = attn.arange(Tq, on):reshape(Tq, 1) + (Tk - Tq)
  local kj = attn.arange(Tk, on):reshape(1, Tk)
  if opts.causal then
    local causal = kj:le(qi)                           -- key j visible when j <= i
    keep = keep and causal * keep or causal
  end
  if opts.window then
    -- local attention: only the keys within `window` positions of the query
    -- (before it when causal, on both sides otherwise)
    local near = (qi - kj):abs():le(opts.window)
    keep = keep and near * keep or near
  end
  if keep then
    if not attn.is_tensor(keep) then keep = attn.tensor(keep, on) end
    scores = scores:masked_fill(keep, -math.huge)
  end
  local w = scores:softmax(-1)
  local out = w:matmul(v)
  if opts.weights then return out, w end
  return out
end

--- linear_attention(q, k, v, {causal=false, eps=1e-6}): attention with
-- the feature map phi(x) = elu(x) + 1 in place of exp(q . k) (Katharopoulos
-- et al. 2020): out_i = phi(q_i) S / (phi(q_i) z), S = sum_j phi(k_j)^T v_j,
-- z = sum_j phi(k_j). Cost linear in T: the [T, T] matrix never exists.
-- causal: S and z are running sums up to position i.
local function phi(x)
  return x:relu() + (x:minimum(0):exp())              -- elu(x) + 1, positive everywhere
end

function F.linear_attention(q, k, v, opts)
  opts = opts or {}
  local eps = opts.eps or 1e-6
  local fq, fk = phi(q), phi(k)
  if not opts.causal then
    local S = fk:T():matmul(v)                          -- [..., D, Dv]
    local z = fk:sum(-2, true)                          -- [..., 1, D]
    local num = fq:matmul(S)                            -- [..., T, Dv]
    local den = (fq * z):sum(-1, true) + eps            -- [..., T, 1]
    return num / den
  end
  -- causal: prefix sums over positions, one step per position (O(T D Dv))
  local T_ = q:size(-2)
  local S, z, outs = nil, nil, {}
  for t = 1, T_ do
    local kt, vt, qt = fk:narrow(-2, t, 1), v:narrow(-2, t, 1), fq:narrow(-2, t, 1)
    local outer = kt:T():matmul(vt)                     -- [..., D, Dv]
    S = S and S + outer or outer
    z = z and z + kt or kt
    outs[t] = qt:matmul(S) / ((qt * z):sum(-1, true) + eps)
  end
  return attn.cat(outs, q:dim() - 1)
end

-- sparsemax (Martins & Astudillo 2016): the Euclidean projection of z onto
-- the simplex, so small scores get exactly zero weight. The support S and
-- its size are found without gradients; then tau = (sum_S z - 1) / |S| is
-- an expression of z, and max(z - tau, 0) differentiates to sparsemax's
-- true Jacobian (g - mean over S of g, on S).
local function sparsemax(z)
  local dim = z:dim()
  local keep = attn.no_grad(function()
    local rows = z:detach():reshape(-1, z:size(dim)):table()
    local out = {}
    for r, row in ipairs(rows) do
      local sorted = {table.unpack(row)}
      table.sort(sorted, function(a, b) return a > b end)
      local cum, k, cum_k = 0, 0, 0
      for i, x in ipairs(sorted) do
        cum = cum + x
        if 1 + i * x > cum then k, cum_k = i, cum end
      end
      local tau = (cum_k - 1) / k
      local m = {}
      for j, x in ipairs(row) do m[j] = x > tau and 1 or 0 end
      out[r] = m
    end
    return attn.tensor(out, {device = z:device()}):reshape(table.unpack(z:shape()))
  end)
  local k = keep:sum(dim, true)
  local tau = ((z * keep):sum(dim, true) - 1) / k
  return (z - tau):relu() * keep
end

-- hard attention: a one-hot at each row's largest score. Its gradient with
-- respect to the scores is zero everywhere (argmax is piecewise constant),
-- and we make that explicit: the weights are a constant of the graph.
local function hard(z)
  local dim = z:dim()
  return attn.no_grad(function()
    local idx = z:argmax(dim, true)                     -- 1-based positions
    local pos = attn.arange(1, z:size(dim) + 1, {device = z:device()})
    return pos:eq(idx)
  end)
end

--- out, weights, scores = attention(q, k, v, {score=, norm=, temperature=, params=})
-- The teaching form: every scoring and normalisation the lessons compare.
--   score: "dot" q.k | "scaled_dot" q.k/sqrt(D) | "cosine" q.k/(|q||k|) |
--          "additive" v_a . tanh(W_q q + W_k k) | "bilinear" q^T W k
--   norm:  "softmax" | "hard" (one-hot argmax, zero gradient) | "sparsemax"
--   params (for additive/bilinear): {W_q=[A, D], W_k=[A, D], v=[A]} or {W=[D, D]}
-- q [..., Tq, D], k [..., Tk, D], v [..., Tk, Dv]; weights [..., Tq, Tk].
function F.attention(q, k, v, opts)
  opts = opts or {}
  local kind, norm = opts.score or "scaled_dot", opts.norm or "softmax"
  local p = opts.params or {}
  local scores
  if kind == "dot" then
    scores = q:matmul(k:T())
  elseif kind == "scaled_dot" then
    scores = q:matmul(k:T()) / math.sqrt(q:size(-1))
  elseif kind == "cosine" then
    local qn = q / ((q * q):sum(-1, true) + 1e-12):sqrt()
    local kn = k / ((k * k):sum(-1, true) + 1e-12):sqrt()
    scores = qn:matmul(kn:T())
  elseif kind == "additive" then
    assert(p.W_q and p.W_k and p.v, "attention: additive scores need params {W_q=, W_k=, v=}")
    local a = q:matmul(p.W_q:T()):unsqueeze(-2)         -- [..., Tq, 1, A]
    local b = k:matmul(p.W_k:T()):unsqueeze(-3)         -- [..., 1, Tk, A]
    scores = (a + b):tanh():matmul(p.v)                 -- [..., Tq, Tk]
  elseif kind == "bilinear" then
    assert(p.W, "attention: bilinear scores need params {W=}")
    scores = q:matmul(p.W):matmul(k:T())
  else
    error("attention: unknown score '" .. tostring(kind) ..
          "' (dot, scaled_dot, cosine, additive, bilinear)", 2)
  end
  local z = scores / (opts.temperature or 1)
  local w
  if norm == "softmax" then w = z:softmax(-1)
  elseif norm == "hard" then w = hard(z)
  elseif norm == "sparsemax" then w = sparsemax(z)
  else error("attention: unknown norm '" .. tostring(norm) .. "' (softmax, hard, sparsemax)", 2) end
  return w:matmul(v), w, scores
end

return F
