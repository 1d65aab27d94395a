-- nn.lua: modules against the same computation written out with attn.F and
-- plain loops over heads; parameters, state dicts and their errors; a small
-- network that learns XOR.

local T = dofile((os.getenv("ATTNLAB_PATH") or ".") .. "/tests/lua/tap.lua")
local attn = attn or require "attn"
local gradcheck = dofile((os.getenv("ATTNLAB_PATH") or ".") .. "/tests/lua/gradcheck.lua")
local nn, F = attn.nn, attn.F
attn.seed(5)

local function close(a, b, tol) return attn.allclose(a, b, tol or 1e-5) end

-- ---- Linear and parameters -------------------------------------------------------
do
  local lin = nn.Linear(3, 2)
  local x = attn.randn(4, 3)
  T.ok(close(lin(x), x:matmul(lin.weight:T()) + lin.bias), "Linear is x W^T + b")
  T.is(lin.weight:shape(), {2, 3}, "Linear weight is [out, in]")
  T.is(lin:num_parameters(), 8, "Linear(3, 2) has 3*2 + 2 parameters")
  T.ok(nn.Linear(3, 2, {bias = false}).bias == nil, "bias=false")
  local bound = 1 / math.sqrt(3)
  T.ok(lin.weight:abs():max():item() <= bound, "initial weights within 1/sqrt(fan_in)")
end

-- ---- multi-head attention, against a head-by-head computation -----------------------
local function mha_by_hand(m, x, ctx, causal)
  local H, d = m.n_heads, m.d_model
  local dh = d // H
  local q = F.linear(x, m.q_proj.weight, m.q_proj.bias)
  local k = F.linear(ctx, m.k_proj.weight, m.k_proj.bias)
  local v = F.linear(ctx, m.v_proj.weight, m.v_proj.bias)
  local heads, weights = {}, {}
  for h = 1, H do
    local qh, kh, vh = q:narrow(2, (h - 1) * dh + 1, dh), k:narrow(2, (h - 1) * dh + 1, dh),
                       v:narrow(2, (h - 1) * dh + 1, dh)
    local s = qh:matmul(kh:T()) / math.sqrt(dh)
    if causal then
      local Tq, Tk = s:size(1), s:size(2)
      local keep = attn.zeros(Tq, Tk)
      for i = 1, Tq do for j = 1, Tk do if j <= i + Tk - Tq then keep:set(i, j, 1) end end end
      s = s:masked_fill(keep, -math.huge)
    end
    local w = s:softmax(2)
    heads[h], weights[h] = w:matmul(vh), w
  end
  local y = F.linear(attn.cat(heads, 2), m.out_proj.weight, m.out_proj.bias)
  return y, attn.stack(weights)
end

do
  local m = nn.MultiHeadAttention{d_model = 8, n_heads = 2}
  local x = attn.randn(5, 8)
  local y, w = m(x, {weights = true})
  local ry, rw = mha_by_hand(m, x, x, false)
  T.ok(close(y, ry) and close(w, rw), "MultiHeadAttention = heads computed one by one")
  T.is(w:shape(), {2, 5, 5}, "weights [heads, T, T] for an unbatched x")
  local mc = nn.MultiHeadAttention{d_model = 8, n_heads = 4, causal = true}
  local yc, wc = mc(x, {weights = true})
  local cy, cw = mha_by_hand(mc, x, x, true)
  T.ok(close(yc, cy) and close(wc, cw), "causal MultiHeadAttention = by hand")
  T.ok(close(mc(x), cy), "the fused path (no weights asked) gives the same output")
  local ctx = attn.randn(7, 8)
  local yx, wx = m(x, {context = ctx, weights = true})
  local xy = mha_by_hand(m, x, ctx, false)
  T.ok(close(yx, xy) and wx:size(3) == 7, "cross-attention reads keys and values from context")
  local xb = attn.stack({x, x * 2})
  local yb, wb = m(xb, {weights = true})
  T.is(wb:shape(), {2, 2, 5, 5}, "weights [B, heads, T, T] for a batch")
  T.ok(close(yb[2], (m(x * 2))), "batch item 2 = that item alone")
  local keep = attn.tensor({1, 1, 0, 1, 1})
  local _, wm = m(x, {mask = keep, weights = true})
  T.is(wm:select(3, 3):sum():item(), 0, "a dropped key gets no weight from any query")
  local sd = m:state_dict()
  local keys = {}
  for k in pairs(sd) do keys[#keys + 1] = k end
  table.sort(keys)
  T.is(keys, {"k_proj.bias", "k_proj.weight", "out_proj.bias", "out_proj.weight", "q_proj.bias",
              "q_proj.weight", "v_proj.bias", "v_proj.weight"}, "state_dict names as in API.md")
  gradcheck(T, "MultiHeadAttention gradient of x", function(a) return (m(a)) end, {{3, 8}})
end

-- ---- state dicts ------------------------------------------------------------------
do
  local a, b = nn.Linear(3, 2), nn.Linear(3, 2)
  b:load_state_dict(a:state_dict())
  local x = attn.randn(2, 3)
  T.ok(close(a(x), b(x)), "load_state_dict copies the weights")
  T.ok(a.weight ~= b.weight, "into the module's own tensors")
  T.raises(function() b:load_state_dict({weight = attn.ones(2, 3)}) end,
           {"load_state_dict", "missing key bias"}, "strict: a missing key")
  T.raises(function() b:load_state_dict({weight = attn.ones(2, 3), bias = attn.ones(2), x = attn.ones(1)}) end,
           {"unexpected key x"}, "strict: an unexpected key")
  T.raises(function() b:load_state_dict({weight = attn.ones(3, 2), bias = attn.ones(2)}) end,
           {"weight has shape [3,2]", "[2,3]"}, "a mis-shaped tensor")
  T.lives(function() b:load_state_dict({weight = attn.ones(2, 3)}, {strict = false}) end,
          "strict=false loads what is there")
  T.is(b.weight:table(), {{1, 1, 1}, {1, 1, 1}}, "and it was loaded")
end

-- ---- transformer block -------------------------------------------------------------
do
  local blk = nn.TransformerBlock{d_model = 8, n_heads = 2, d_ff = 16, causal = true}
  local x = attn.randn(2, 4, 8)
  local a = blk.attn(blk.ln1(x))
  local h = x + a
  local want = h + blk.mlp(blk.ln2(h))
  T.ok(close(blk(x), want), "pre-norm block: x + attn(ln1 x), then + mlp(ln2 x)")
  local post = nn.TransformerBlock{d_model = 8, n_heads = 2, norm = "post"}
  local h2 = post.ln1(x + post.attn(x))
  T.ok(close(post(x), post.ln2(h2 + post.mlp(h2))), "post-norm block: ln(x + f(x))")
  T.is(blk:num_parameters(), 2 * 8 + 4 * (8 * 8 + 8) + 2 * 8 + (8 * 16 + 16) + (16 * 8 + 8),
       "block parameter count by hand")
  T.ok(tostring(blk):find("MultiHeadAttention", 1, true) and tostring(blk):find("q_proj", 1, true),
       "tostring shows the module tree")
  local d = nn.Dropout(0.5)
  T.ok(d:eval()(attn.ones(10)):sum():item() == 10, "Dropout does nothing in eval mode")
  blk:eval()
  T.ok(not blk.mlp["4"].training, "eval reaches every child")
end

-- ---- learning XOR --------------------------------------------------------------------
do
  local net = nn.Sequential{nn.Linear(2, 8), nn.GELU(), nn.Linear(8, 2)}
  local x = attn.tensor({{0, 0}, {0, 1}, {1, 0}, {1, 1}})
  local y = {1, 2, 2, 1}
  local opt = attn.optim.AdamW(net:parameters(), {lr = 0.05, weight_decay = 0})
  for _ = 1, 300 do
    opt:zero_grad()
    F.cross_entropy(net(x), y):backward()
    opt:step()
  end
  local pred = net(x):argmax(2):table()
  T.is(pred, {1, 2, 2, 1}, "a two-layer net learns XOR")
end

T.done_testing()
