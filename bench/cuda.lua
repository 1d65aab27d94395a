-- bench/cuda.lua: the CUDA backend on the GPU. Scaled dot-product attention
-- (the fused flash kernels) at B = 1..8, H = 12, D = 64, T = 512..8192,
-- causal and not: forward and forward+backward milliseconds and TFLOP/s;
-- GPT-2 small's matmul shapes (bench/raw_cublas.cu times cuBLAS alone on
-- them); then GPT-2 small forward tokens/s and a training step of a small GPT.
-- FLOPs as FlashAttention counts them: 4 B H T^2 D for the forward (q k^T
-- and p v), half that when causal, 2.5x the forward for forward+backward.
-- bench/sdpa_torch.py prints PyTorch's numbers for the same table.
-- Kernels run asynchronously: every timed call ends by reading one value
-- back, which waits for the GPU to finish.
local attn = require "attn"
local F = attn.F

if not attn.cuda.available() then
  local _, why = attn.cuda.device_name()
  print("bench/cuda.lua: no CUDA device, nothing to measure (" .. tostring(why) .. ")")
  return
end
print("device: " .. attn.cuda.device_name())
attn.set_default_device("cuda")
attn.seed(1)

local function wait(t) return t:reshape(-1):narrow(1, 1, 1):item() end
local function timed(fn, runs) return (attn.time(function() wait(fn()) end, runs)) end

local quick = os.getenv("BENCH_QUICK") == "1" -- a short sweep for a first look
-- BENCH_SMOKE=1: tiny sizes that only show the script runs (on the emulator
-- of make check-cuda-emu too); its figures mean nothing
local smoke = os.getenv("BENCH_SMOKE") == "1"
local Bs = smoke and {1} or quick and {1, 8} or {1, 2, 4, 8}
local Ts = smoke and {64} or quick and {512, 2048} or {512, 1024, 2048, 4096, 8192}
print(string.format("%-3s %-5s %-6s %10s %8s %12s %8s", "B", "T", "causal", "fwd ms", "TFLOP/s",
                    "fwd+bwd ms", "TFLOP/s"))
for _, B in ipairs(Bs) do
  for _, T in ipairs(Ts) do
    local q, k, v = attn.randn(B, 12, T, 64), attn.randn(B, 12, T, 64), attn.randn(B, 12, T, 64)
    local qg, kg, vg = q:detach():requires_grad(true), k:detach():requires_grad(true),
                       v:detach():requires_grad(true)
    for _, causal in ipairs({false, true}) do
      local flops = 4 * B * 12 * T * T * 64 * (causal and 0.5 or 1)
      local runs = T >= 4096 and 3 or 5
      local fwd = timed(function() return F.flash_attention(q, k, v, {causal = causal}) end, runs)
      local both = timed(function()
        F.flash_attention(qg, kg, vg, {causal = causal}):sum():backward()
        return qg.grad
      end, runs)
      print(string.format("%-3d %-5d %-6s %10.2f %8.2f %12.2f %8.2f", B, T, tostring(causal),
                          fwd * 1e3, flops / fwd * 1e-12, both * 1e3, 2.5 * flops / both * 1e-12))
    end
    q, k, v, qg, kg, vg = nil, nil, nil, nil, nil, nil
    collectgarbage()
  end
end

-- the shapes of bench/raw_cublas.cu, through attnlab's matmul (goal: within
-- 10% of cublasSgemm alone)
print(string.format("\n%-22s %6s %6s %6s %10s %10s", "attnlab matmul", "M", "K", "N", "ms",
                    "TFLOP/s"))
for _, s in ipairs({{"square1024", 1024, 1024, 1024}, {"square4096", 4096, 4096, 4096},
                    {"qkv B*T=8192", 8192, 768, 2304}, {"attn_out B*T=8192", 8192, 768, 768},
                    {"mlp_up B*T=8192", 8192, 768, 3072}, {"mlp_down B*T=8192", 8192, 3072, 768},
                    {"logits B*T=1024", 1024, 768, 50257}}) do
  if smoke then s = {s[1], 8, 8, 8} end
  local a, w = attn.zeros(s[2], s[3]), attn.zeros(s[3], s[4])
  local sec = timed(function() return a:matmul(w) end, 10)
  print(string.format("%-22s %6d %6d %6d %10.3f %10.2f", s[1], s[2], s[3], s[4], sec * 1e3,
                      2 * s[2] * s[3] * s[4] / sec * 1e-12))
end

local m = smoke and attn.models.gpt{vocab = 50257, ctx = 16, n_layer = 1, n_head = 2,
                                    d_model = 16}:eval()
          or attn.models.gpt2_small():eval()
print(string.format("\n%-28s %10s %12s", "gpt2_small forward (B=1)", "ms", "tokens/s"))
for _, T in ipairs(smoke and {8} or {128, 256, 1024}) do
  local ids = {}
  for i = 1, T do ids[i] = (i * 7919) % 50257 end
  local sec = timed(function() return attn.no_grad(function() return m:forward(ids) end) end, 5)
  print(string.format("%-28s %10.2f %12.0f", "T = " .. T, sec * 1e3, T / sec))
end
m = nil
collectgarbage()

local small = smoke and attn.models.gpt{vocab = 256, ctx = 128, n_layer = 1, n_head = 2, d_model = 16}
              or attn.models.gpt{vocab = 256, ctx = 128, n_layer = 4, n_head = 4, d_model = 256}
local opt = attn.optim.AdamW(small:parameters(), {lr = 3e-4})
local xs, ys = {}, {}
local Tt = smoke and 8 or 128
for b = 1, 8 do
  xs[b], ys[b] = {}, {}
  for t = 1, Tt do xs[b][t] = (b * 31 + t * 17) % 256; ys[b][t] = (b * 31 + t * 17 + 17) % 256 + 1 end
end
local sec = timed(function()
  opt:zero_grad()
  local loss = F.cross_entropy(small:forward(xs), ys)
  loss:backward()
  opt:step()
  return loss
end, 5)
print(string.format("%-28s %10.2f %12.0f", "small GPT train step (B=8)", sec * 1e3, 8 * Tt / sec))
