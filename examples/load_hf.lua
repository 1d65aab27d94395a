-- Load a Hugging Face GPT-2 or BERT folder and use it.
--
--   attnlab examples/load_hf.lua FOLDER ["some text"]
--
-- The folder needs config.json, model.safetensors and the tokenizer files:
-- vocab.json + merges.txt (GPT-2) or vocab.txt (BERT). With the Hugging Face
-- command-line tool, for example:
--   huggingface-cli download gpt2 config.json model.safetensors vocab.json \
--       merges.txt --local-dir gpt2
--   huggingface-cli download bert-base-chinese config.json model.safetensors \
--       vocab.txt tokenizer_config.json --local-dir bert-base-chinese
-- (pytorch_model.bin is not read: ask for model.safetensors.)

local dir = arg[1]
if not dir then error("usage: attnlab examples/load_hf.lua FOLDER [\"some text\"]", 0) end
local text = arg[2] or "The meaning of attention is"

local t0 = attn.clock()
local m, tok = attn.models.load(dir)
local c = m.config
print(string.format("%s: %s, %d layers, %d heads, width %d, %d positions, vocabulary %d",
                    dir, c.kind, c.n_layer, c.n_head, c.d_model, c.ctx, c.vocab))
print(string.format("%d parameters (%.1f million), loaded in %.2f s", m:num_parameters(),
                    m:num_parameters() / 1e6, attn.clock() - t0))
if not tok then error(dir .. " has no tokenizer files", 0) end

local ids = tok:encode(text)
if c.kind == "bert" then
  -- BERT reads [CLS] sentence [SEP]; the tokenizer leaves adding them to us
  local cls, sep = tok:encode("[CLS]"), tok:encode("[SEP]")
  if #cls == 1 and #sep == 1 then
    table.insert(ids, 1, cls[1])
    ids[#ids + 1] = sep[1]
  end
end
print("tokens: " .. table.concat(tok:labels(ids), " | "))

attn.no_grad(function()
  if c.kind == "gpt" then
    -- the five most likely next tokens, then a greedy continuation
    local logits = m:forward(ids)
    local p = logits[#ids]:softmax(1):table()
    local order = {}
    for i = 1, #p do order[i] = i end
    table.sort(order, function(a, b) return p[a] > p[b] end)
    for r = 1, 5 do
      local piece = ("%q"):format(tok:decode({order[r] - 1})):gsub("\\\n", "\\n")
      print(string.format("  next %-12s %.3f", piece, p[order[r]]))
    end
    print("greedy: " .. tok:decode(m:generate(ids, {max_new = 12, temperature = 0})))
  else
    -- BERT: where [CLS] looks in the last layer, and the sentence vector
    local hidden, pooled, rec = m:forward(ids, {record = true})
    local w = rec.attention[c.n_layer]:mean(1)[1]       -- row of the first token
    local labels = tok:labels(ids)
    for j, x in ipairs(w:table()) do print(string.format("  %-10s %.3f", labels[j], x)) end
    print(string.format("hidden %s, pooled vector of %d numbers (norm %.3f)",
                        table.concat(hidden:shape(), "x"), pooled:numel(), pooled:norm():item()))
  end
end)
