-- functional.lua: attn.F against references computed here in plain Lua
-- (embedding lookups, layer norm statistics, log-sum-exp, attention by
-- explicit loops), their gradients against finite differences, and their
-- error messages.

local T = dofile((os.getenv("ATTNLAB_PATH") or ".") .. "/tests/lua/tap.lua")
local attn = attn or require "attn"
local gradcheck = dofile((os.getenv("ATTNLAB_PATH") or ".") .. "/tests/lua/gradcheck.lua")
local function check(...) return gradcheck(T, ...) end
local F = attn.F
attn.seed(99)

-- ---- embedding ------------------------------------------------------------------
do
  local W = attn.randn(5, 3)
  local e = F.embedding({4, 0, 4}, W)
  T.is(e:shape(), {3, 3}, "embedding of 3 ids is [3, dim]")
  T.is(e[1]:table(), W[5]:table(), "id 4 is row 5 of the table (ids are the vocabulary's own numbers)")
  T.is(e[2]:table(), W[1]:table(), "id 0 is row 1")
  T.is(F.embedding({{1, 2}, {3, 4}}, W):shape(), {2, 2, 3}, "a batch of id lists gives [B, T, dim]")
  T.is(F.embedding(attn.tensor({2, 2}), W):shape(), {2, 3}, "ids may come as a tensor")
  T.raises(function() F.embedding({5}, W) end, {"embedding", "5", "0..4"}, "an id past the table")
  T.raises(function() F.embedding({-1}, W) end, {"embedding", "-1"}, "a negative id")
  T.raises(function() F.embedding({1}, attn.ones(3)) end, {"embedding", "2-d"}, "a 1-d table")
  check("embedding with a repeated id", function(w) return F.embedding({1, 3, 1}, w) end, {{4, 2}})
end

-- ---- layer norm ---------------------------------------------------------------------
do
  local x = attn.randn(3, 5)
  local w, b = attn.randn(5), attn.randn(5)
  local y = F.layer_norm(x, w, b, 1e-5)
  local xt, wt, bt, worst = x:table(), w:table(), b:table(), 0
  for i = 1, 3 do
    local m, v = 0, 0
    for j = 1, 5 do m = m + xt[i][j] / 5 end
    for j = 1, 5 do v = v + (xt[i][j] - m) ^ 2 / 5 end
    for j = 1, 5 do
      local want = (xt[i][j] - m) / math.sqrt(v + 1e-5) * wt[j] + bt[j]
      worst = math.max(worst, math.abs(y:get(i, j) - want))
    end
  end
  T.ok(worst < 1e-5, "layer_norm matches mean/variance computed by hand", worst)
  local y0 = F.layer_norm(attn.randn(2, 3, 8))
  T.near(y0:mean(-1):abs():max():item(), 0, 1e-6, "without w and b each row has mean 0")
  T.near((y0 * y0):mean(-1):min():item(), 1, 1e-3, "and variance 1 (eps aside)")
  T.raises(function() F.layer_norm(x, attn.ones(4)) end, {"layer_norm", "[4]", "[5]"},
           "weight of the wrong size")
  check("layer_norm (x, w, b)", function(a, g, c) return F.layer_norm(a, g, c) end, {{3, 6}, {6}, {6}})
  check("layer_norm over the last dim of 3-d x", function(a) return F.layer_norm(a) end, {{2, 2, 5}})
end

-- ---- cross-entropy --------------------------------------------------------------------
do
  local logits = attn.tensor({{2, 1, 0.5}, {0.1, 0.2, 3}})
  local function lse(row) local s = 0 for _, v in ipairs(row) do s = s + math.exp(v) end return math.log(s) end
  local l1 = lse({2, 1, 0.5}) - 2            -- target class 1
  local l2 = lse({0.1, 0.2, 3}) - 0.2        -- target class 2
  T.near(F.cross_entropy(logits, {1, 2}):item(), (l1 + l2) / 2, 1e-6, "mean loss by hand")
  T.near(F.cross_entropy(logits, {1, 2}, {reduction = "sum"}):item(), l1 + l2, 1e-6, "sum")
  T.is(#F.cross_entropy(logits, {1, 2}, {reduction = "none"}):table(), 2, "none keeps one per row")
  T.near(F.cross_entropy(logits, {1, 2}, {ignore = 2}):item(), l1, 1e-6,
         "an ignored class drops out of the mean")
  T.near(F.cross_entropy(attn.tensor({{1000, 0}}), {2}):item(), 1000, 1e-3,
         "no overflow for large logits (log-sum-exp around the max)")
  T.raises(function() F.cross_entropy(logits, {1, 4}) end, {"cross_entropy", "4", "1..3"},
           "a class past the last")
  T.raises(function() F.cross_entropy(logits, {0, 1}) end, {"cross_entropy", "0"},
           "class 0 (classes are 1-based)")
  T.raises(function() F.cross_entropy(logits, {1}) end, {"cross_entropy", "1 targets", "2 rows"},
           "one target for two rows")
  check("cross_entropy", function(a) return F.cross_entropy(a, {3, 1, 2, 2}) end, {{4, 3}})
  check("cross_entropy over [B, T, C]", function(a) return F.cross_entropy(a, {{1, 2}, {2, 1}}) end,
        {{2, 2, 2}})
end

-- ---- masked_fill, dropout, binary cross-entropy, linear ---------------------------------
do
  local x = attn.tensor({{1, 2}, {3, 4}})
  T.is(x:masked_fill(attn.tensor({{1, 0}, {0, 1}}), -9):table(), {{1, -9}, {-9, 4}}, "masked_fill")
  T.is(x:masked_fill(attn.tensor({1, 0}), 0):table(), {{1, 0}, {3, 0}}, "masked_fill broadcasts")
  check("masked_fill", function(a) return a:masked_fill(attn.tensor({{1, 0, 1}}), 5) end, {{2, 3}})

  T.ok(F.dropout(x, 0) == x and F.dropout(x, 0.5, false) == x, "dropout off returns x itself")
  local big = F.dropout(attn.ones(100000), 0.25)
  local zeros = (big:eq(0)):sum():item()
  -- Binomial(1e5, 0.25): sd 137, so 6 sd is about 820
  T.ok(math.abs(zeros - 25000) < 820, "dropout drops a fraction p", zeros)
  T.near(big:mean():item(), 1, 0.02, "and rescales so the mean is kept")

  local p, y = attn.tensor({0.9, 0.2}), {1, 0}
  local want = -(math.log(0.9) + math.log(0.8)) / 2
  T.near(F.binary_cross_entropy(p, y):item(), want, 1e-6, "binary cross-entropy by hand")
  T.ok(F.binary_cross_entropy(attn.tensor({0}), {1}):item() < 20, "p = 0 with y = 1 stays finite")
  check("binary_cross_entropy", function(a) return F.binary_cross_entropy(a:sigmoid(), {1, 0, 1}) end,
        {{3}})

  local W, b = attn.randn(4, 3), attn.randn(4)
  local xx = attn.randn(2, 3)
  T.ok(attn.allclose(F.linear(xx, W, b), xx:matmul(W:T()) + b), "linear is x W^T + b")
  -- every element by a loop, on a batch, a vector, no bias, transposed views
  local function by_loop(x2, W2, b2)          -- x2 a Lua list of rows
    local out = {}
    for r, row in ipairs(x2) do
      out[r] = {}
      for o = 1, #W2 do
        local acc = b2 and b2[o] or 0
        for i = 1, #row do acc = acc + row[i] * W2[o][i] end
        out[r][o] = acc
      end
    end
    return out
  end
  local x3 = attn.randn(2, 5, 3)
  local rows = x3:reshape(10, 3):table()
  T.tensor_near(F.linear(x3, W, b):reshape(10, 4), by_loop(rows, W:table(), b:table()), 1e-5,
                "linear on [2, 5, 3]: every element by a loop")
  T.tensor_near(F.linear(x3, W):reshape(10, 4), by_loop(rows, W:table()), 1e-5,
                "linear without a bias")
  local v = attn.randn(3)
  T.tensor_near(F.linear(v, W, b), by_loop({v:table()}, W:table(), b:table())[1], 1e-5,
                "linear of a vector is a vector")
  local Wt, xt = W:T():contiguous():T(), xx:T():contiguous():T()   -- same values, transposed layout
  T.tensor_near(F.linear(xt, Wt, b), by_loop(xx:table(), W:table(), b:table()), 1e-5,
                "linear with transposed-view operands")
  check("linear", function(a, w, c) return F.linear(a, w, c) end, {{2, 5, 3}, {4, 3}, {4}})
  check("linear without a bias", function(a, w) return F.linear(a, w) end, {{5, 3}, {4, 3}})
  check("linear of a vector", function(a, w, c) return F.linear(a, w, c) end, {{3}, {4, 3}, {4}})
  T.raises(function() F.linear(xx, attn.randn(4, 2), b) end, {"linear", "[2,3]", "[4,2]"},
           "x's last dim must be W's in")
  T.raises(function() F.linear(xx, W, attn.randn(3)) end, {"linear", "bias", "[3]", "[4]"},
           "a bias of the wrong size")
  T.raises(function() F.linear(xx, attn.randn(4, 3, 1), b) end, {"linear", "[4,3,1]"},
           "W must be 2-d")
end

-- ---- scaled dot-product attention -----------------------------------------------------------
-- reference: explicit loops over plain tables
local function naive_sdpa(q, k, v, causal, keep)
  local Tq, Tk, D, Dv = #q, #k, #q[1], #v[1]
  local out, W = {}, {}
  for i = 1, Tq do
    local s, m = {}, -math.huge
    for j = 1, Tk do
      local dot = 0
      for d = 1, D do dot = dot + q[i][d] * k[j][d] end
      local visible = (not causal or j <= i + (Tk - Tq)) and (not keep or keep[i][j] ~= 0)
      s[j] = visible and dot / math.sqrt(D) or -math.huge
      m = math.max(m, s[j])
    end
    local z = 0
    for j = 1, Tk do s[j] = m == -math.huge and 0 or math.exp(s[j] - m); z = z + s[j] end
    W[i], out[i] = {}, {}
    for j = 1, Tk do W[i][j] = z > 0 and s[j] / z or 0 end
    for e = 1, Dv do
      local acc = 0
      for j = 1, Tk do acc = acc + W[i][j] * v[j][e] end
      out[i][e] = acc
    end
  end
  return out, W
end

local function max_diff(t, tbl)
  local worst = 0
  for i, row in ipairs(tbl) do
    for j, x in ipairs(row) do worst = math.max(worst, math.abs(t:get(i, j) - x)) end
  end
  return worst
end

for _, c in ipairs({{Tq = 5, Tk = 5, causal = false}, {Tq = 5, Tk = 5, causal = true},
                    {Tq = 2, Tk = 6, causal = true}, {Tq = 3, Tk = 7, causal = false}}) do
  local q, k, v = attn.randn(c.Tq, 4), attn.randn(c.Tk, 4), attn.randn(c.Tk, 3)
  local out, w = F.scaled_dot_product_attention(q, k, v, {causal = c.causal, weights = true})
  local ro, rw = naive_sdpa(q:table(), k:table(), v:table(), c.causal)
  local name = string.format("sdpa Tq=%d Tk=%d causal=%s", c.Tq, c.Tk, tostring(c.causal))
  T.ok(max_diff(out, ro) < 1e-5 and max_diff(w, rw) < 1e-6, name .. " matches loops")
end

do
  local q, k, v = attn.randn(3, 4), attn.randn(3, 4), attn.randn(3, 2)
  local keep = {{1, 0, 1}, {0, 0, 0}, {1, 1, 1}}
  local out, w = F.scaled_dot_product_attention(q, k, v, {mask = attn.tensor(keep), weights = true})
  local ro, rw = naive_sdpa(q:table(), k:table(), v:table(), false, keep)
  T.ok(max_diff(out, ro) < 1e-5 and max_diff(w, rw) < 1e-6, "sdpa with a keep-mask matches loops")
  T.is(w[2]:table(), {0, 0, 0}, "a query with every key dropped attends to nothing")
  local qb, kb, vb = attn.randn(2, 3, 5, 4), attn.randn(2, 3, 5, 4), attn.randn(2, 3, 5, 4)
  local ob = F.scaled_dot_product_attention(qb, kb, vb, {causal = true})
  local o1 = F.scaled_dot_product_attention(qb[2][3], kb[2][3], vb[2][3], {causal = true})
  T.ok(attn.allclose(ob[2][3], o1), "batched [B, H, T, D] equals one head at a time")
  check("sdpa causal, gradients of q, k, v", function(a, b, c)
    return F.scaled_dot_product_attention(a, b, c, {causal = true})
  end, {{4, 3}, {4, 3}, {4, 2}})
  check("sdpa cross-attention Tq != Tk", function(a, b, c)
    return F.scaled_dot_product_attention(a, b, c, {scale = 0.3})
  end, {{2, 3}, {5, 3}, {5, 2}})
end

T.done_testing()
