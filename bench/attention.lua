-- bench/attention.lua: scaled dot-product attention, B=1, H=12, D=64,
-- fused (flash_attention) and materialised (softmax(q k^T / 8) v), causal
-- and not: milliseconds and GFLOP/s, forward and forward+backward.
-- FLOPs counted as 4 B H Tq Tk D for the forward (q k^T and p v), half of
-- that when causal (the skipped future), and 2.5x the forward for
-- forward+backward of the fused kernel, as FlashAttention reports.
local attn = require "attn"
local F = attn.F

local function time_it(fn, runs)
  return attn.time(fn, runs)
end

attn.seed(1)
attn.threads(tonumber(os.getenv("BENCH_THREADS") or "2"))
print(string.format("%-6s %-7s %-13s %10s %10s %12s", "T", "causal", "path", "fwd ms",
                    "GFLOP/s", "fwd+bwd ms"))
for _, T in ipairs({256, 1024, 2048}) do
  local q, k, v = attn.randn(1, 12, T, 64), attn.randn(1, 12, T, 64), attn.randn(1, 12, T, 64)
  for _, causal in ipairs({false, true}) do
    local flops = 4 * 12 * T * T * 64 * (causal and 0.5 or 1)
    local runs = T >= 2048 and 3 or 5
    for _, path in ipairs({"fused", "materialised"}) do
      local mat = path == "materialised"
      local function fwd()
        return F.scaled_dot_product_attention(q, k, v, {causal = causal, materialise = mat})
      end
      local sec = time_it(fwd, runs)
      local qg, kg, vg = q:detach():requires_grad(true), k:detach():requires_grad(true),
                         v:detach():requires_grad(true)
      local bsec = time_it(function()
        F.scaled_dot_product_attention(qg, kg, vg, {causal = causal, materialise = mat}):sum():backward()
      end, runs)
      print(string.format("%-6d %-7s %-13s %10.2f %10.1f %12.2f", T, tostring(causal), path,
                          sec * 1e3, flops / sec * 1e-9, bsec * 1e3))
    end
  end
end
