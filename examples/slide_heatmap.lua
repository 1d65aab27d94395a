-- A heatmap for a slide: the voice-assistant sentence of lesson 1, with
-- big cells, the numbers written in them, a colour bar, axis titles, and
-- the same weights as CSV for a spreadsheet.
--
--   attnlab examples/slide_heatmap.lua [OUT_FOLDER]

local dir = arg[1] or "."
local tokens = {"今天", "天气", "怎么样", "不太好"}
-- hand-set embeddings, one row per token (time, weather, question, judgement)
local x = attn.tensor{{2.0, 0.4, 0.0, 0.2},
                      {0.6, 2.0, 0.2, 0.8},
                      {0.0, 0.8, 2.0, 0.4},
                      {0.2, 1.2, 0.4, 2.0}}
local d = x:size(2)
local w = (x:matmul(x:T()) / math.sqrt(d)):softmax(2)   -- scaled dot-product weights

attn._io.mkdir(dir)
local png, csv = dir .. "/slide.png", dir .. "/slide.csv"
attn.viz.heatmap(w, {rows = tokens, cols = tokens, file = png, cell = 120, annotate = true,
                     colormap = "viridis", vmin = 0, vmax = 1, colorbar = true,
                     title = "注意力权重 softmax(X X^T / √d)", xlabel = "key", ylabel = "query"})
attn.viz.export(w, csv, {rows = tokens, cols = tokens})
print("wrote " .. png .. " and " .. csv)
