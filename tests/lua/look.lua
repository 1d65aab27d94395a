-- look.lua: attn.look on Hugging Face folders written here (a GPT-2 with a
-- byte-level BPE, a BERT with WordPiece) and on the shipped model when it
-- exists: tokens and labels, char and word views against a naive loop,
-- interventions against independent routes to the same numbers (zeroed
-- value projections, argmax by hand, renormalised rows), hooks gone after
-- the call even when it fails, files, rollout by hand, CSV, errors.

local T = dofile((os.getenv("ATTNLAB_PATH") or ".") .. "/tests/lua/tap.lua")
local attn = attn or require "attn"
local root = os.getenv("ATTNLAB_PATH") or "."
local Fx = dofile(root .. "/tests/lua/look_fixture.lua")

local tmp = (os.getenv("ATTNLAB_TESTDIR") or "tests") .. "/tmp/look_lua"
os.execute("rm -rf '" .. tmp .. "'; mkdir -p '" .. tmp .. "'")
local gdir, bdir = tmp .. "/gpt", tmp .. "/bert"
Fx.write_gpt(attn, gdir)

local function maxdiff(a, b) return (a - b):abs():max():item() end
local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

local function quiet(o)
  o = o or {}
  o.quiet, o.model = true, o.model or gdir
  return o
end

T.section("tokens and the record", function()
  local m, tok = attn.models.load(gdir)
  local r = attn.look("hello world", quiet())
  T.is(r.ids, tok:encode("hello world"), "ids from the model's tokenizer")
  T.is(#r.ids, 3, "hello | wor | ld")
  T.is(r.tokens, tok:labels(r.ids), "token labels are tok:labels")
  local _, rec = m:forward(r.ids, {record = true})
  T.ok(maxdiff(r.rec.attention[2], rec.attention[2]) < 1e-6, "the record of the model")
  T.ok(maxdiff(r.map, rec.attention[2]:mean(1)) < 1e-6, "default map: last layer, head average")
  local logits = m:forward(r.ids)
  T.ok(maxdiff(r.out.probs, logits[3]:softmax(1)) < 1e-6, "next-token probabilities")
  local r2 = attn.look("hello world", quiet{layer = 1, head = 2})
  T.ok(maxdiff(r2.map, rec.attention[1][2]) < 1e-6, "layer= head= pick one head")
  local r3 = attn.look("hello world", quiet{layer = 1, heads = "max"})
  T.ok(maxdiff(r3.map, rec.attention[1]:max(1)) < 1e-6, "heads=\"max\"")
  local r4 = attn.look("hello world", quiet{rollout = true})
  T.ok(maxdiff(r4.map, attn.viz.rollout(rec)) < 1e-6, "rollout=true")
  local r5 = attn.look("hello world", quiet{queries = {3, 1}})
  T.is(r5.map_rows, {r.tokens[3], r.tokens[1]}, "queries= picks rows and their labels")
  T.ok(maxdiff(r5.map[1], rec.attention[2]:mean(1)[3]) < 1e-6, "the picked row")
  T.is(tostring(r):match("^look: 3 token units"), "look: 3 token units", "a short tostring")
end)

-- The grouped map by a naive loop: column sums, row averages.
local function naive_group(w, groups)
  local v = w:table()
  local out = {}
  for a, ga in ipairs(groups) do
    out[a] = {}
    for b, gb in ipairs(groups) do
      local s = 0
      for _, i in ipairs(ga) do for _, j in ipairs(gb) do s = s + v[i][j] end end
      out[a][b] = s / #ga
    end
  end
  return attn.tensor(out)
end

T.section("char and word views", function()
  local r = attn.look("今天", quiet{level = "char"})
  -- 今 = E4 BB 8A: one merged piece E4BB and 8A; 天 = E5 A4 A9: three bytes
  T.is(#r.ids, 5, "five byte-level tokens")
  T.is(r.groups, {{1, 2}, {3, 4, 5}}, "pieces merged into characters")
  T.is(r.tokens, {"今", "天"}, "labelled by the character")
  local rt = attn.look("今天", quiet())
  T.ok(maxdiff(r.map, naive_group(rt.map, r.groups)) < 1e-6, "char map = naive grouping")
  local sums = r.map:sum(2):table()
  T.near(sums[1] + sums[2], 2, 1e-5, "rows still sum to 1")
  local w = attn.look("今天 hello world!", quiet{level = "word"})
  T.is(w.tokens, {"今", "天", "hello", "world", "!"},
       "words: CJK characters, spaces, punctuation")
  local wt = attn.look("今天 hello world!", quiet())
  T.ok(maxdiff(w.map, naive_group(wt.map, w.groups)) < 1e-6, "word map = naive grouping")
  T.is(#w.rec.attention[1]:shape(), 3, "the grouped record keeps its heads")
  T.raises(function() attn.look("x", quiet{level = "sentence"}) end,
           {"look", "sentence", "word"}, "an unknown level")
end)

T.section("interventions", function()
  local m = attn.models.load(gdir)
  local ids = attn.look("hello world", quiet()).ids
  local base = m:forward(ids)
  -- ablate: the same as zeroing that head's value projection
  local r = attn.look("hello world", quiet{ablate = {{layer = 1, head = 2}}})
  local ref = attn.models.load(gdir)
  attn.no_grad(function()
    local a = ref.blocks[1].attn
    a.v_proj.weight:narrow(1, 9, 8):fill(0)
    a.v_proj.bias:narrow(1, 9, 8):fill(0)
  end)
  local want = ref:forward(ids)[#ids]:softmax(1)
  T.ok(maxdiff(r.after.out.probs, want) < 1e-5, "ablate = zeroed value projection",
       maxdiff(r.after.out.probs, want))
  T.ok(maxdiff(r.after.out.probs, r.out.probs) > 1e-6, "the ablation changes the output")
  T.ok(maxdiff(r.out.probs, base[#ids]:softmax(1)) < 1e-6, "before is the plain model")
  local mm = attn.look("hello world", quiet()).model
  T.is(#(rawget(mm, "_hooks") or {}), 0, "no hook left on the model after the call")
  T.ok(maxdiff(mm:forward(ids), base) < 1e-6, "the model is restored after the call")
  local s0 = attn.look("hello world", quiet{scale = {{layer = 1, head = 2, factor = 0}}})
  T.ok(maxdiff(s0.after.out.probs, r.after.out.probs) < 1e-6, "scale by 0 = ablate")
  -- hard: layer 1 sees the unchanged embeddings, so its rows are one-hot at
  -- the argmax of the plain weights
  local h = attn.look("hello world", quiet{hard = {1}, layer = 1, head = 1})
  local v, ok = h.map:table(), true
  for i, row in ipairs(v) do
    local best = 1
    for j, x in ipairs(row) do if x > row[best] then best = j end end
    for j = 1, #row do
      if h.after.map:get(i, j) ~= (j == best and 1 or 0) then ok = false end
    end
  end
  T.ok(ok, "hard: each row all on its largest weight")
  -- mask: key 1 dropped from every query of layer 1, rows renormalised
  local k = attn.look("hello world", quiet{mask = {{layer = 1, key = 1}}, layer = 1, head = 2})
  local b, a = k.map:table(), k.after.map:table()
  local good = true
  for i = 2, 3 do
    local rest = 1 - b[i][1]
    for j = 1, 3 do
      local w = j == 1 and 0 or b[i][j] / rest
      if math.abs(a[i][j] - w) > 1e-5 then good = false end
    end
  end
  T.ok(good, "mask: the key is dropped and the row renormalised")
  T.is(a[1][1], 0, "a query left with no key attends to nothing")
end)

T.section("hooks go even when the call fails", function()
  local m, tok = attn.models.load(gdir)
  local forward, calls = m.forward, 0
  m.forward = function(self, ...)
    calls = calls + 1
    if calls == 2 then error("forward failed on purpose") end
    return forward(self, ...)
  end
  T.raises(function()
    attn.look("hello world", {model = m, tokenizer = tok, quiet = true,
                              ablate = {{layer = 1, head = 1}}})
  end, "failed on purpose", "the error of the run comes through")
  m.forward = nil
  T.is(#(rawget(m, "_hooks") or {}), 0, "and the hook was removed")
end)

T.section("generate", function()
  local m, tok = attn.models.load(gdir)
  local prompt = tok:encode("hello world")
  local r = attn.look("hello world", quiet{generate = 4})
  T.is(r.ids, m:generate(prompt, {max_new = 4, temperature = 0}), "greedy continuation")
  T.is(r.rec.attention[1]:size(2), #prompt + 4, "the map covers the generated tokens")
  T.is(r.prompt, #prompt, "the prompt length is kept")
end)

T.section("files", function()
  local png, csv = tmp .. "/a.png", tmp .. "/a.csv"
  local r = attn.look("hello world", quiet{png = png, csv = csv})
  T.is(r.files, {tmp .. "/a-layer1.png", tmp .. "/a-layer1.csv", tmp .. "/a-layer2.png",
                 tmp .. "/a-layer2.csv"}, "one PNG and one CSV per layer")
  T.is((read(tmp .. "/a-layer2.png") or ""):sub(1, 8), "\137PNG\r\n\26\n", "a PNG file")
  local one = attn.look("hello world", quiet{csv = csv, layer = 2, head = 1,
                                             ablate = {layer = 1, head = 1}, png = png})
  T.is(one.files, {png, csv, tmp .. "/a-diff.png"}, "one map, and the difference picture")
  local g = attn.look("hello world", quiet{png = tmp .. "/g.png", grid = true})
  T.is(g.files, {tmp .. "/g.png"}, "grid=true: one PNG of every layer and head")
  attn.viz.grid(g.rec, {file = tmp .. "/g2.png", title = "every layer and head: 3 tokens"})
  T.ok(read(tmp .. "/g.png") == read(tmp .. "/g2.png"), "the grid is attn.viz.grid's picture")
  local lines = {}
  for line in (read(csv) or ""):gmatch("[^\n]+") do lines[#lines + 1] = line end
  T.is(lines[1], ",hello, wor,ld", "the CSV header holds the token labels")
  local vals = {}
  for x in lines[3]:gmatch(",([^,]+)") do vals[#vals + 1] = tonumber(x) end
  local w = one.map:table()[2]
  T.ok(#vals == 3 and T.f32(vals[1]) == w[1] and T.f32(vals[2]) == w[2],
       "CSV values read back exactly", lines[3])
end)

T.section("rollout by hand", function()
  -- two layers, two heads, T = 2. Layer 1 heads [[1,0],[.2,.8]] and
  -- [[1,0],[.6,.4]]: mean [[1,0],[.4,.6]]; A1' = .5 mean + .5 I =
  -- [[1,0],[.2,.8]]. Layer 2 heads [[1,0],[0,1]] and [[1,0],[1,0]]: mean
  -- [[1,0],[.5,.5]]; A2' = [[1,0],[.25,.75]]. R = A2' A1' =
  -- [[1,0],[.25 + .75*.2, .75*.8]] = [[1,0],[.4,.6]].
  local l1 = attn.tensor({{{1, 0}, {0.2, 0.8}}, {{1, 0}, {0.6, 0.4}}})
  local l2 = attn.tensor({{{1, 0}, {0, 1}}, {{1, 0}, {1, 0}}})
  local R = attn.viz.rollout({attention = {l1, l2}})
  T.ok(maxdiff(R, attn.tensor({{1, 0}, {0.4, 0.6}})) < 1e-6, "two layers", tostring(R))
  -- a third layer whose heads average to [[.5,.5],[.5,.5]] (not causal):
  -- A3' = [[.75,.25],[.25,.75]]; R3 = A3' R = [[.75+.1, .15],[.25+.3, .45]]
  local l3 = attn.tensor({{{0.5, 0.5}, {0.5, 0.5}}, {{0.5, 0.5}, {0.5, 0.5}}})
  local R3 = attn.viz.rollout({attention = {l1, l2, l3}})
  T.ok(maxdiff(R3, attn.tensor({{0.85, 0.15}, {0.55, 0.45}})) < 1e-6, "three layers",
       tostring(R3))
  -- rows renormalised: an ablated layer (all zeros) leaves only the identity
  local z = attn.zeros(2, 2, 2)
  T.ok(maxdiff(attn.viz.rollout({attention = {z}}), attn.eye(2)) < 1e-6,
       "a zeroed layer's rows are renormalised to the residual path")
  T.ok(maxdiff(attn.viz.rollout({attention = {l1, l2}}, {upto = 1}),
               attn.tensor({{1, 0}, {0.2, 0.8}})) < 1e-6, "upto=1")
  T.raises(function() attn.viz.rollout({attention = {attn.zeros(1, 2, 2, 2)}}) end,
           {"viz.rollout", "layer 1", "batch"}, "a batch record is refused")
end)

T.section("export and aggregation errors", function()
  local f = tmp .. "/q.csv"
  attn.viz.export(attn.tensor({{1, 2}}), f, {rows = {"a,b"}, cols = {"x\"y", "z"}})
  T.is(read(f), ",\"x\"\"y\",z\n\"a,b\",1,2\n", "labels with commas and quotes are quoted")
  T.raises(function() attn.viz.export(attn.zeros(2, 2, 2), f) end, {"viz.export", "2-D"},
           "a 3-D tensor")
  T.raises(function() attn.viz.export(attn.zeros(2, 2), f, {rows = {"a"}}) end,
           {"viz.export", "rows", "2 labels"}, "too few labels")
  T.raises(function() attn.viz.export(attn.zeros(2, 2), tmp .. "/no/such/dir.csv") end,
           {"viz.export", "cannot write"}, "a folder that does not exist")
  T.raises(function() attn.viz.reduce_heads(attn.zeros(2, 2), "mean") end,
           {"reduce_heads", "[heads, Tq, Tk]"}, "reduce_heads of a 2-D map")
  T.raises(function() attn.viz.group(attn.eye(3), {{1}, {2}}) end, {"viz.group", "token 3"},
           "a token in no group")
  T.raises(function() attn.viz.queries(attn.eye(3), {4}) end, {"viz.queries", "4", "1..3"},
           "a query outside the map")
end)

T.section("BERT: sentence pairs and a classifier", function()
  local vocab = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "un", "##aff", "##able",
                 "hello", ",", "!", "你", "好", "world"}
  attn._io.mkdir(tmp)
  attn.seed(11)
  local b = attn.models.bert{vocab = #vocab, ctx = 16, n_layer = 2, n_head = 2, d_model = 8}
  b:save(bdir)
  local fh = assert(io.open(bdir .. "/vocab.txt", "wb"))
  fh:write(table.concat(vocab, "\n"), "\n")
  fh:close()
  local head = attn.nn.Linear(8, 3)
  local r = attn.look({"unaffable hello", "你好"},
                      {model = bdir, quiet = true, level = "word",
                       classifier = function(pooled) return head(pooled) end,
                       ablate = {layer = 2}})
  T.is(r.ids, {2, 5, 6, 7, 8, 3, 11, 12, 3}, "[CLS] a [SEP] b [SEP]")
  T.is(r.tokens, {"[CLS]", "unaffable", "hello", "[SEP]", "你", "好", "[SEP]"},
       "word view joins ## pieces")
  local cli = attn.look("unaffable hello [SEP] 你好", {model = bdir, quiet = true})
  T.is(cli.ids, r.ids, "\"a [SEP] b\" in one string is the same pair")
  local m = attn.models.load(bdir)
  local _, pooled = m:forward(r.ids, {token_types = {0, 0, 0, 0, 0, 0, 1, 1, 1}})
  local _, pooled2 = m:forward(r.ids)
  T.ok(maxdiff(cli.out.pooled, pooled) < 1e-6 and maxdiff(pooled, pooled2) > 1e-6,
       "and it gets the same token types")
  T.ok(maxdiff(r.class, head(pooled):softmax(-1)) < 1e-5, "token types: b is type 1")
  T.ok(maxdiff(r.class, r.after.class) > 1e-6, "the classifier output changes when ablated")
end)

T.section("errors", function()
  T.raises(function() attn.look("hi", quiet{colour = 1}) end, {"look", "unknown option",
           "colour"}, "an unknown option")
  T.raises(function() attn.look("", quiet()) end, {"look", "no tokens"}, "an empty text")
  T.raises(function() attn.look(string.rep("x ", 40), quiet()) end,
           {"look", "tokens", "at most 32"}, "a text longer than the context")
  T.raises(function() attn.look("hi", quiet{layer = 3}) end, {"look", "layer", "1..2"},
           "a layer outside the model")
  T.raises(function() attn.look("hi", quiet{ablate = {{layer = 1, head = 5}}}) end,
           {"look", "ablate head", "5", "1..2"}, "an ablated head outside the model")
  T.raises(function() attn.look("hi", {model = tmp .. "/nothing", quiet = true}) end,
           {"look", "cannot load", "nothing"}, "a folder without a model")
  if #attn.models.list() == 0 then
    T.raises(function() attn.look("hi", {quiet = true}) end,
             {"look", "no model= given", "no built-in model"}, "no model anywhere")
  else
    T.skip("no model anywhere", "a built-in model is installed")
  end
end)

T.section("the shipped model", function()
  local shipped = attn.config.root .. "/data/models/mini/config.json"
  if not read(shipped) then
    T.skip("look on the shipped model", "no shipped model")
    return
  end
  local r = attn.look("今天天气怎么样？不太好。", {quiet = true, level = "char"})
  T.is(#r.tokens, utf8.len("今天天气怎么样？不太好。"), "one unit per character")
  local bad = 0
  for _, t in ipairs(r.tokens) do if t:find("\u{FFFD}", 1, true) then bad = bad + 1 end end
  T.is(bad, 0, "no replacement characters in the labels")
end)

os.execute("rm -rf '" .. tmp .. "'")
T.done_testing()
