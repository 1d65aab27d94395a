-- attention_fused.lua: the fused attention kernel (flash_attention) against
-- the materialised formula (softmax(q k^T * scale) v, itself checked
-- against explicit loops in functional.lua), values and gradients, over odd
-- sizes that cut tiles (32 queries x 64 keys) in every way, Tq != Tk,
-- causal and not, batched heads, Dv != D.

local T = dofile((os.getenv("ATTNLAB_PATH") or ".") .. "/tests/lua/tap.lua")
local attn = attn or require "attn"
local gradcheck = dofile((os.getenv("ATTNLAB_PATH") or ".") .. "/tests/lua/gradcheck.lua")
local F = attn.F
attn.seed(7)

local function rel_err(a, b)
  return ((a - b):abs():max():item()) / (1 + b:abs():max():item())
end

local shapes = {
  {lead = {}, Tq = 1, Tk = 1, D = 4, Dv = 4},
  {lead = {}, Tq = 33, Tk = 65, D = 8, Dv = 5},
  {lead = {2}, Tq = 70, Tk = 70, D = 16, Dv = 16},
  {lead = {2, 3}, Tq = 5, Tk = 129, D = 7, Dv = 3},
  {lead = {1, 2}, Tq = 100, Tk = 37, D = 64, Dv = 64},
}

for _, s in ipairs(shapes) do
  for _, causal in ipairs({false, true}) do
    local function shape(T_, D_)
      local t = {table.unpack(s.lead)}
      t[#t + 1], t[#t + 2] = T_, D_
      return t
    end
    local q = attn.randn(table.unpack(shape(s.Tq, s.D))):requires_grad(true)
    local k = attn.randn(table.unpack(shape(s.Tk, s.D))):requires_grad(true)
    local v = attn.randn(table.unpack(shape(s.Tk, s.Dv))):requires_grad(true)
    local name = string.format("lead=[%s] Tq=%d Tk=%d D=%d Dv=%d causal=%s",
      table.concat(s.lead, ","), s.Tq, s.Tk, s.D, s.Dv, tostring(causal))
    local fused = F.flash_attention(q, k, v, {causal = causal})
    local ref = F.scaled_dot_product_attention(q, k, v, {causal = causal, materialise = true})
    T.ok(rel_err(fused, ref) < 1e-5, "fused = materialised: " .. name, rel_err(fused, ref))
    local R = attn.randn(table.unpack(fused:shape()))
    ;(fused * R):sum():backward()
    local gq, gk, gv = q.grad:clone(), k.grad:clone(), v.grad:clone()
    q:zero_grad(); k:zero_grad(); v:zero_grad()
    ;(ref * R):sum():backward()
    local worst = math.max(rel_err(gq, q.grad), rel_err(gk, k.grad), rel_err(gv, v.grad))
    T.ok(worst < 1e-4, "fused gradients = materialised gradients: " .. name, worst)
  end
end

do
  -- causal with more queries than keys: the first Tq - Tk queries see nothing
  local q, k, v = attn.randn(6, 4), attn.randn(3, 4), attn.randn(3, 2)
  local out = F.flash_attention(q, k, v, {causal = true})
  T.is(out[1]:table(), {0, 0}, "a query with no visible key gets a zero output")
  T.ok(attn.allclose(out[4], F.scaled_dot_product_attention(q[4]:unsqueeze(1), k:narrow(1, 1, 1),
       v:narrow(1, 1, 1))[1]), "query 4 sees exactly key 1 (aligned to the end)")
  T.raises(function() F.flash_attention(attn.ones(2, 3, 4), attn.ones(3, 3, 4), attn.ones(3, 3, 4)) end,
           {"attention", "[2,3,4]", "[3,3,4]"}, "leading dims that differ are an error")
  local big = F.scaled_dot_product_attention(attn.randn(2, 4, 3), attn.randn(1, 5, 3), attn.randn(1, 5, 3))
  T.is(big:shape(), {2, 4, 3}, "sdpa broadcasts leading dims (through the formula)")
end

gradcheck(T, "flash_attention causal: finite differences", function(a, b, c)
  return F.flash_attention(a, b, c, {causal = true, scale = 0.4})
end, {{5, 3}, {7, 3}, {7, 2}})

T.done_testing()
