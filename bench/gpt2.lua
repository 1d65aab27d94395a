-- bench/gpt2.lua: GPT-2 small (124M parameters, fresh weights) forward
-- tokens per second at T = 128, 256, 1024 (batch 1, no gradients), and one
-- training step of a small GPT (4 layers, 128 wide, 4 heads, T = 64, vocab
-- 256, batch 16, AdamW): the shapes bench/torch_peer.py runs in PyTorch.
local attn = require "attn"
attn.seed(1)
attn.threads(tonumber(os.getenv("BENCH_THREADS") or "2"))
local m = attn.models.gpt2_small():eval()
print(string.format("%-28s %10s %12s", "gpt2_small forward", "ms", "tokens/s"))
for _, T in ipairs({128, 256, 1024}) do
  local ids = {}
  for i = 1, T do ids[i] = (i * 7919) % 50257 end
  local sec = attn.time(function() return attn.no_grad(function() return m:forward(ids) end) end, 3)
  print(string.format("%-28s %10.1f %12.0f", "T = " .. T, sec * 1e3, T / sec))
end
m = nil
collectgarbage()
local small = attn.models.gpt{vocab = 256, ctx = 64, n_layer = 4, n_head = 4, d_model = 128}
local opt = attn.optim.AdamW(small:parameters(), {lr = 3e-4})
local B, T = 16, 64
local xs, ys = {}, {}
for b = 1, B do
  xs[b], ys[b] = {}, {}
  for t = 1, T do xs[b][t] = (b * 31 + t * 17) % 256; ys[b][t] = (b * 31 + t * 17 + 17) % 256 + 1 end
end
local sec = attn.time(function()
  opt:zero_grad()
  attn.F.cross_entropy(small:forward(xs), ys):backward()
  opt:step()
end, 10)
print(string.format("%-28s %10.1f %12.0f", "train step 4L d128 T64 B16", sec * 1e3, B * T / sec))
