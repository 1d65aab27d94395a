-- Attention on your own sentence: the terminal, a PNG file and a window.
--
--   attnlab examples/attention_on_your_sentence.lua ["your sentence"] [MODEL] [OUT.png]
--
-- MODEL is a built-in name (attn.models.list()) or a Hugging Face GPT-2 or
-- BERT folder; the default is the shipped model. The one-line way to do all
-- this, with a browser over every layer and head, is attn.look(text).

local text = arg[1] or "今天天气怎么样？"
local model = arg[2] or attn.models.list()[1]
local png = arg[3] or "attention.png"
if not model then
  error("no built-in model is installed: give a Hugging Face folder as the second argument", 0)
end

local m, tok = attn.models.load(model)
if not tok then
  error(model .. " has no tokenizer files (vocab.json + merges.txt, or vocab.txt)", 0)
end
local ids = tok:encode(text)
local labels = tok:labels(ids)               -- readable pieces, Chinese shown whole

-- forward returns logits, rec (GPT) or hidden, pooled, rec (BERT): rec is last
local out = {attn.no_grad(function() return m:forward(ids, {record = true}) end)}
local rec = out[#out]
local layers = #rec.attention
local w = rec.attention[layers]:mean(1)      -- last layer, heads averaged: [T, T]
local title = string.format("%s: layer %d, mean of %d heads", model:match("[^/]+$"),
                            layers, m.config.n_head)

-- 1. colour blocks in the terminal (works everywhere, even over ssh)
attn.viz.term(w, {rows = labels, cols = labels, title = title})

-- 2. a PNG file
attn.viz.heatmap(w, {rows = labels, cols = labels, title = title, file = png})
print("wrote " .. png)

-- 3. a window, where there is a display (attnlab --headless skips it)
if not attn.config.headless then
  attn.viz.heatmap(w, {rows = labels, cols = labels, title = title})
  attn.viz.wait()                            -- keep the window until you close it
end
