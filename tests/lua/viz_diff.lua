-- viz_diff.lua: attn.viz.diff is the heatmap of w1 - w2 on the diverging
-- colormap with a scale symmetric around 0 (checked by rendering the same
-- picture by hand through heatmap and comparing the PNG bytes).

local T = dofile((os.getenv("ATTNLAB_PATH") or ".") .. "/tests/lua/tap.lua")
local attn = attn or require "attn"
attn.seed(8)

local dir = os.getenv("ATTNLAB_TESTDIR") or "."
local a, b = attn.rand(4, 4):softmax(2), attn.rand(4, 4):softmax(2)
local toks = {"今天", "天气", "怎么样", "不太好"}
local f1, f2 = dir .. "/viz_diff_1.png", dir .. "/viz_diff_2.png"
local h = attn.viz.diff(a, b, {rows = toks, cols = toks, file = f1})
T.is(h.kind, "png", "diff with file= writes a PNG")
local m = (a - b):abs():max():item()
attn.viz.heatmap(a - b, {rows = toks, cols = toks, file = f2, colormap = "diverging",
                         vmin = -m, vmax = m, title = "difference"})
local function bytes(p) local f = assert(io.open(p, "rb")) local s = f:read("a") f:close() return s end
T.ok(bytes(f1) == bytes(f2), "diff = heatmap(w1 - w2) on a diverging scale from -max|d| to +max|d|")
T.raises(function() attn.viz.diff(a, "x") end, {"viz.diff", "two tensors"}, "diff of a non-tensor")
os.remove(f1)
os.remove(f2)
T.done_testing()
