-- A toy model in 10 lines: a one-layer GPT learns a repeated sentence from
-- its characters in a few seconds, then continues a prompt.
--
--   attnlab examples/toy_model.lua

attn.seed(1)
local text = ("今天天气怎么样？不太好。"):rep(30)
local tok = attn.tokenizer.chars{text = text}                      -- one id per character
local ids, T = tok:encode(text), 24
local m = attn.models.gpt{vocab = tok:vocab_size(), ctx = T, n_layer = 1, n_head = 2, d_model = 32}
local opt = attn.optim.AdamW(m:parameters(), {lr = 3e-3})
for step = 1, 200 do
  local s = math.floor(attn.rand(1):item() * (#ids - T - 1)) + 1
  local x, y = table.move(ids, s, s + T - 1, 1, {}), {}
  for i = 1, T do y[i] = ids[s + i] + 1 end                         -- targets: next ids, 1-based
  opt:zero_grad(); local loss = attn.F.cross_entropy(m(x), y); loss:backward(); opt:step()
  if step % 50 == 0 then print(string.format("step %d  loss %.3f", step, loss:item())) end
end
print(tok:decode(m:generate(tok:encode("今天"), {max_new = 16, temperature = 0})))
