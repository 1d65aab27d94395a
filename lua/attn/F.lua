-- attn.F: the functional form of the layers, as plain functions of tensors.
--
-- embedding, layer_norm and cross_entropy are fused C kernels (l_F.c);
-- the rest are written here from tensor ops, so each reads as its formula
-- and autograd differentiates it without any code of its own.

local attn = require "attn.core"
local F = attn.F

--- y = x W^T + b, with W [out, in] as in PyTorch.
function F.linear(x, W, b)
  local y = x:matmul(W:T())
  if b then y = y + b end
  return y
end

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
  local keep = attn.rand(table.unpack(x:shape())):ge(p)   -- 1 with probability 1 - p
  return x * keep * (1 / (1 - p))
end

--- Mean of -(y log p + (1 - y) log(1 - p)) for probabilities p and labels y
-- in {0, 1}. p is clamped to [eps, 1 - eps]: a confident wrong answer costs
-- -log(eps), not infinity.
function F.binary_cross_entropy(p, y, eps)
  eps = eps or 1e-7
  if not attn.is_tensor(y) then y = attn.tensor(y) end
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
-- Without weights or a mask this runs the fused kernel (flash_attention),
-- which never builds the [Tq, Tk] matrix; otherwise the formula below.
function F.scaled_dot_product_attention(q, k, v, opts)
  opts = opts or {}
  local D = q:size(-1)
  local scale = opts.scale or 1 / math.sqrt(D)
  if not opts.weights and not opts.mask and not opts.materialise and fusable(q, k, v) then
    return F.flash_attention(q, k, v, {causal = opts.causal, scale = scale})
  end
  local scores = q:matmul(k:T()) * scale                 -- [..., Tq, Tk]
  local keep = opts.mask
  if opts.causal then
    local Tq, Tk = q:size(-2), k:size(-2)
    -- key j is visible to query i when j <= i + (Tk - Tq)
    local qi = attn.arange(Tq):reshape(Tq, 1) + (Tk - Tq)
    local kj = attn.arange(Tk):reshape(1, Tk)
    local causal = kj:le(qi)
    keep = keep and causal * keep or causal
  end
  if keep then
    if not attn.is_tensor(keep) then keep = attn.tensor(keep) end
    scores = scores:masked_fill(keep, -math.huge)
  end
  local w = scores:softmax(-1)
  local out = w:matmul(v)
  if opts.weights then return out, w end
  return out
end

return F
