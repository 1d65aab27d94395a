-- attn.look: a model's attention on your own sentence in one call.
--
-- look(text, opts) tokenises with the model's tokenizer, runs the model
-- recording every layer's attention and shows it: the layer/head browser
-- in a window, the chosen map in the terminal when there is no display
-- (or --headless), PNG and CSV files when asked. Interventions (ablate,
-- scale, hard, mask) are attention hooks installed for the one run and
-- removed afterwards even when it fails; the output before and after and
-- the difference of the maps are shown. The function returns everything it
-- computed, so a REPL user can keep poking at it.

local attn = require "attn.core"
local viz = attn.viz

local look = {}

-- ---- the model -------------------------------------------------------------------

local loaded = {}   -- name or folder -> {m, tok}: a REPL session loads each once

local function model_of(opts)
  if type(opts.model) == "table" then
    if type(opts.model.forward) ~= "function" or not opts.tokenizer then
      error("look: model= a model object needs tokenizer= its tokenizer", 3)
    end
    return opts.model, opts.tokenizer, opts.name or opts.model.config.kind
  end
  local name = opts.model
  if name == nil then
    local list = attn.models.list and attn.models.list() or {}
    name = list[1]
    if name == nil then
      error("look: no model= given and no built-in model found under data/models; give " ..
            "a Hugging Face GPT-2 or BERT folder: attn.look(text, {model=\"DIR\"})", 3)
    end
  end
  if type(name) ~= "string" then
    error("look: model must be a name, a folder or a model object, got a " .. type(name), 3)
  end
  if not loaded[name] then
    local ok, m, tok = pcall(attn.models.load, name)
    if not ok then error("look: cannot load model '" .. name .. "': " .. tostring(m), 3) end
    if not tok then
      error("look: " .. name .. " has no tokenizer files (vocab.json and merges.txt for " ..
            "GPT-2, vocab.txt for BERT)", 3)
    end
    loaded[name] = {m, tok}
  end
  return loaded[name][1], loaded[name][2], name
end

-- ---- tokens ----------------------------------------------------------------------

local function single_id(tok, special)
  local ids = tok:encode(special)
  if #ids ~= 1 then error("look: the tokenizer has no " .. special .. " token", 4) end
  return ids[1]
end

-- ids, token types (BERT) and how many ids the prompt had (GPT).
local function ids_of(m, tok, text, opts)
  local ids, types
  if m.config.kind == "bert" then
    local a, b = text, opts.pair
    if type(text) == "table" then
      a, b = text[1], text[2]
    elseif not b and type(text) == "string" and text:find("[SEP]", 1, true) then
      a, b = text:match("^(.-)%s*%[SEP%]%s*(.*)$")   -- "a [SEP] b" on the command line
    end
    local cls, sep = single_id(tok, "[CLS]"), single_id(tok, "[SEP]")
    ids, types = {cls}, {0}
    local function add(s, ty)
      for _, id in ipairs(tok:encode(s)) do ids[#ids + 1], types[#types + 1] = id, ty end
      ids[#ids + 1], types[#types + 1] = sep, ty
    end
    add(a, 0)
    if b then add(b, 1) end
  else
    if type(text) ~= "string" then error("look: expected a text, got a " .. type(text), 3) end
    ids = tok:encode(text)
  end
  if #ids == 0 then error("look: the text gives no tokens", 3) end
  if #ids > m.config.ctx then
    error(string.format("look: the text is %d tokens; the model reads at most %d", #ids,
                        m.config.ctx), 3)
  end
  local prompt = #ids
  if opts.generate then
    if m.config.kind ~= "gpt" then error("look: generate= needs a GPT model", 3) end
    if math.type(opts.generate) ~= "integer" or opts.generate < 1 then
      error("look: generate must be a positive number of tokens", 3)
    end
    ids = m:generate(ids, {max_new = opts.generate, temperature = opts.temperature or 0})
  end
  return ids, types, prompt
end

-- The bytes of each token, for grouping (WordPiece: its vocabulary spelling).
local function pieces_of(tok, ids, labels)
  if tostring(tok):match("^Tokenizer%(wordpiece") then return labels end
  local out = {}
  for i, id in ipairs(ids) do out[i] = tok:decode({id}) end
  return out
end

local function is_cjk(s)
  local c = utf8.codepoint(s, 1, 1, true)
  return c and c >= 0x2E80 or false
end

local function is_punct(s) return s:match("^%s*%p+%s*$") ~= nil end

-- Characters: byte pieces merged until they make whole UTF-8 characters
-- (a Chinese character is often two or three byte-level BPE tokens).
local function char_groups(pieces, labels)
  local groups, names = {}, {}
  local i = 1
  while i <= #pieces do
    local g, text = {i}, pieces[i]
    while utf8.len(text) == nil and i + #g <= #pieces and #g < 4 do
      text = text .. pieces[i + #g]
      g[#g + 1] = i + #g
    end
    if utf8.len(text) == nil then text = labels[i] end
    groups[#groups + 1], names[#names + 1] = g, text
    i = i + #g
  end
  return groups, names
end

-- Words: WordPiece joins "##" pieces; otherwise characters join until a
-- space, a punctuation mark or a CJK character (Chinese has no spaces, so
-- each of its characters stands as a word of its own).
local function word_groups(pieces, labels, wordpiece)
  local units, texts = {}, {}
  if wordpiece then
    for i, p in ipairs(pieces) do units[i], texts[i] = {i}, p end
  else
    units, texts = char_groups(pieces, labels)
  end
  local groups, names = {}, {}
  for u, text in ipairs(texts) do
    local cont = wordpiece and text:match("^##")
    if not wordpiece and u > 1 then
      local prev = texts[u - 1]
      cont = not text:match("^%s") and not is_punct(text) and not is_punct(prev) and
             not is_cjk(text) and not is_cjk(prev) and not prev:match("%s$")
      -- a space on its own belongs to the word after it, as in GPT-2's " world"
      cont = cont or (names[#names]:match("^%s+$") ~= nil and not text:match("^%s"))
    end
    if cont and #groups > 0 then
      for _, t in ipairs(units[u]) do table.insert(groups[#groups], t) end
      names[#names] = names[#names] .. (wordpiece and text:sub(3) or text)
    else
      local g = {}
      for k, t in ipairs(units[u]) do g[k] = t end
      groups[#groups + 1], names[#names + 1] = g, text
    end
  end
  for k, n in ipairs(names) do
    n = n:gsub("^%s+", ""):gsub("%s+$", "")
    names[k] = n ~= "" and n or "·"
  end
  return groups, names
end

--- look.units(tok, ids, level) -> groups, labels: the token positions of
-- each unit of the view ("token", "char" or "word") and its label.
function look.units(tok, ids, level)
  local labels = tok:labels(ids)
  level = level or "token"
  if level == "token" then
    local groups = {}
    for i = 1, #ids do groups[i] = {i} end
    return groups, labels
  end
  local wordpiece = tostring(tok):match("^Tokenizer%(wordpiece") ~= nil
  local pieces = pieces_of(tok, ids, labels)
  if level == "char" then
    if wordpiece then return look.units(tok, ids, "token") end
    return char_groups(pieces, labels)
  end
  if level == "word" then return word_groups(pieces, labels, wordpiece) end
  error("look: level is '" .. tostring(level) .. "', expected \"token\", \"char\" or \"word\"", 2)
end

-- ---- interventions ---------------------------------------------------------------

-- A list of edits from one table or a list of them.
local function edit_list(x, who)
  if x == nil then return {} end
  if type(x) ~= "table" then error("look: " .. who .. " must be a table or a list of tables", 0) end
  if x.layer or x.head or x.key or x.query then return {x} end
  return x
end

local function check_pos(v, n, what, who, optional)
  if v == nil and optional then return end
  if math.type(v) ~= "integer" or v < 1 or v > n then
    error(string.format("look: %s%s is %s, expected 1..%d", who ~= "" and who .. " " or "", what,
                        tostring(v), n), 0)
  end
end

-- Each kind of edit checks its entry against the model (L layers, H heads,
-- T tokens) and adds, through add(layer, fn), a function that changes a
-- layer's weights [heads, Tq, Tk] in place (on a copy: see with_hooks).

local function ablate(e, add, L, H)                 -- the head's weights (all heads) to 0
  check_pos(e.layer, L, "layer", "ablate")
  check_pos(e.head, H, "head", "ablate", true)
  add(e.layer, function(w)
    if e.head then w:narrow(1, e.head, 1):fill(0) else w:fill(0) end
  end)
end

local function scale(e, add, L, H)                  -- the head's weights times factor
  check_pos(e.layer, L, "layer", "scale")
  check_pos(e.head, H, "head", "scale", true)
  if type(e.factor) ~= "number" then error("look: scale needs factor= a number", 0) end
  add(e.layer, function(w)
    local part = e.head and w:narrow(1, e.head, 1) or w
    part:copy(part * e.factor)
  end)
end

local function hard(layer, add, L)                  -- argmax: all weight on the top key
  check_pos(layer, L, "layer", "hard")
  add(layer, function(w)
    local top = w:ge((w:max(-1, true)))             -- ties share the weight
    w:copy(top / top:sum(-1, true))
  end)
end

-- Dropping a key and renormalising the row is exactly what masking its
-- score before the softmax does; a row left with no key gets zeros, as
-- F.scaled_dot_product_attention gives a fully masked query.
local function mask(e, add, L, H, T)
  check_pos(e.layer, L, "layer", "mask", true)
  check_pos(e.head, H, "head", "mask", true)
  check_pos(e.key, T, "key", "mask")
  check_pos(e.query, T, "query", "mask", true)
  for l = e.layer or 1, e.layer or L do
    add(l, function(w)
      local heads = e.head and w:narrow(1, e.head, 1) or w
      local rows = e.query and heads:narrow(2, e.query, 1) or heads
      rows:narrow(3, e.key, 1):fill(0)
      local sum = rows:sum(-1, true)
      rows:copy(rows / (sum + sum:eq(0)))
    end)
  end
end

-- Per layer, the list of edits the options ask for (key and query are
-- token positions, whatever the view's level).
local function interventions(m, opts, T)
  local per, L, H = {}, m.config.n_layer, m.config.n_head
  local function add(l, f)
    per[l] = per[l] or {}
    table.insert(per[l], f)
  end
  for _, e in ipairs(edit_list(opts.ablate, "ablate")) do ablate(e, add, L, H) end
  for _, e in ipairs(edit_list(opts.scale, "scale")) do scale(e, add, L, H) end
  for _, e in ipairs(edit_list(opts.mask, "mask")) do mask(e, add, L, H, T) end
  if opts.hard then
    local layers = opts.hard
    if layers == true then
      layers = {}
      for l = 1, L do layers[l] = l end
    end
    if type(layers) ~= "table" then error("look: hard must be true or a list of layers", 0) end
    for _, l in ipairs(layers) do hard(l, add, L) end
  end
  return per
end

-- Run fn with the edits installed as hooks; they go even if fn raises.
local function with_hooks(m, per, fn)
  local handles, layers = {}, {}
  for l in pairs(per) do layers[#layers + 1] = l end
  local ok, a, b = pcall(function()
    handles[1] = m:hook("attention", function(l, w)
      local edited = w:clone()
      for _, f in ipairs(per[l]) do f(edited) end
      return edited
    end, {layers = layers})
    return fn()
  end)
  for _, h in ipairs(handles) do h:remove() end
  if not ok then error(a, 0) end
  return a, b
end

-- ---- running ---------------------------------------------------------------------

-- The model's output and its attention record, without gradients.
local function run(m, ids, types)
  return attn.no_grad(function()
    if m.config.kind == "bert" then
      local hidden, pooled, rec = m:forward(ids, {record = true, token_types = types})
      return {hidden = hidden, pooled = pooled}, rec
    end
    local logits, rec = m:forward(ids, {record = true})
    return {logits = logits, probs = logits[#ids]:softmax(1)}, rec
  end)
end

-- The classifier's probabilities, when the model has one (BERT).
local function classify(m, out, opts)
  local f = opts.classifier or rawget(m, "classifier")
  if not f then return nil end
  local logits = attn.no_grad(function()
    if type(f) == "function" then return f(out.pooled, out.hidden) end
    return f(out.pooled)
  end)
  return logits:softmax(-1)
end

-- ---- maps ------------------------------------------------------------------------

-- The record at the chosen level (groups over tokens).
local function grouped(rec, groups, level)
  if level == "token" then return rec end
  local out = {attention = {}}
  for l, w in ipairs(rec.attention) do out.attention[l] = viz.group(w, groups) end
  return out
end

-- The one map that stands for the record: rollout, a head, or the head
-- average (max with heads="max") of a layer (default the last).
local function pick(rec, opts)
  local L, H = #rec.attention, rec.attention[1]:size(1)
  if opts.rollout then return viz.rollout(rec), "rollout over " .. L .. " layers" end
  local layer = opts.layer or L
  check_pos(layer, L, "layer", "", false)
  local w = rec.attention[layer]
  if opts.head then
    check_pos(opts.head, H, "head", "", false)
    return w[opts.head], string.format("layer %d, head %d", layer, opts.head)
  end
  local how = opts.heads or "mean"
  return viz.reduce_heads(w, how),
         string.format("layer %d, %s of %d heads", layer, how == "max" and "max" or "average", H)
end

-- file "x.png" + tag "layer2" -> "x-layer2.png"
local function tagged(file, tag)
  if not tag then return file end
  local stem, ext = file:match("^(.*)(%.[^./]+)$")
  return (stem or file) .. "-" .. tag .. (ext or "")
end

-- ---- text ------------------------------------------------------------------------

local function short(s, n)
  if utf8.len(s) and utf8.len(s) > n then return s:sub(1, utf8.offset(s, n + 1) - 1) .. "…" end
  return s
end

-- Where each query looks most, one line per query (at most 40).
local function summary(map, rows, cols)
  local v = map:table()
  local lines = {}
  for i = 1, math.min(#v, 40) do
    local best, bw = 1, -1
    for j, x in ipairs(v[i]) do if x > bw then best, bw = j, x end end
    lines[#lines + 1] = string.format("  %-12s -> %-12s %.2f", short(rows[i], 12),
                                      short(cols[best], 12), bw)
  end
  if #v > 40 then lines[#lines + 1] = string.format("  ... (%d more)", #v - 40) end
  return table.concat(lines, "\n")
end

-- Top next tokens before (and after) an intervention.
local function next_table(tok, before, after, k)
  local ids, seen = {}, {}
  for _, probs in ipairs({before, after}) do
    if probs then
      local order = {}
      for i, p in ipairs(probs:table()) do order[i] = {i - 1, p} end
      table.sort(order, function(a, b) return a[2] > b[2] end)
      for r = 1, math.min(k, #order) do
        if not seen[order[r][1]] then
          seen[order[r][1]] = true
          ids[#ids + 1] = order[r][1]
        end
      end
    end
  end
  local lines = {after and "  next token       before   after" or "  next token       p"}
  local b, a = before:table(), after and after:table()
  for _, id in ipairs(ids) do
    local label = short(tok:labels({id})[1], 14)
    if a then
      lines[#lines + 1] = string.format("  %-14s %8.4f %8.4f", label, b[id + 1], a[id + 1])
    else
      lines[#lines + 1] = string.format("  %-14s %8.4f", label, b[id + 1])
    end
  end
  return table.concat(lines, "\n")
end

local function kl(p, q)
  local s = 0
  local pv, qv = p:table(), q:table()
  for i, x in ipairs(pv) do
    if x > 0 then s = s + x * math.log(x / math.max(qv[i], 1e-30)) end
  end
  return s
end

local function have_display(opts)
  if opts.window ~= nil then return opts.window end
  if attn.config and attn.config.headless then return false end
  local d, w = os.getenv("DISPLAY"), os.getenv("WAYLAND_DISPLAY")
  return (d ~= nil and d ~= "") or (w ~= nil and w ~= "")
end

-- ---- the call --------------------------------------------------------------------

local Result = {}
Result.__index = Result
Result.__tostring = function(r)
  return string.format("look: %d %s units, %d layers x %d heads (fields: ids, tokens, rec, " ..
                       "map, out%s)", #r.tokens, r.level, #r.rec.attention,
                       r.rec.attention[1]:size(1), r.after and ", after" or "")
end

local known = {model = 1, tokenizer = 1, name = 1, png = 1, csv = 1, layer = 1, head = 1,
               heads = 1, level = 1, ablate = 1, scale = 1, hard = 1, mask = 1, generate = 1,
               temperature = 1, pair = 1, rollout = 1, queries = 1, top = 1, window = 1,
               classifier = 1, quiet = 1, grid = 1}

local function check_opts(opts)
  if type(opts) ~= "table" then error("look: options must be a table, got a " .. type(opts), 3) end
  for k in pairs(opts) do
    if not known[k] then error("look: unknown option '" .. tostring(k) .. "'", 3) end
  end
end

-- Files (PNG, CSV) of the maps: the chosen one, or one per layer.
local function write_files(r, opts, say)
  local files = {}
  local one = opts.layer or opts.head or opts.rollout or opts.queries or #r.rec.attention == 1
  local grid = opts.grid and opts.png
  if grid then
    viz.grid(r.rec, {file = opts.png, title = "every layer and head: " .. #r.tokens .. " " ..
                                              r.level .. "s"})
    files[#files + 1] = opts.png
  end
  local function emit(map, title, tag)
    local rows = r.map_rows
    if opts.png and not grid then
      local f = tagged(opts.png, tag)
      viz.heatmap(map, {rows = rows, cols = r.tokens, title = title, file = f})
      files[#files + 1] = f
    end
    if opts.csv then
      local f = tagged(opts.csv, tag)
      viz.export(map, f, {rows = rows, cols = r.tokens})
      files[#files + 1] = f
    end
  end
  if one then
    emit(r.map, r.title)
  else
    for l, w in ipairs(r.rec.attention) do
      local map = viz.reduce_heads(w, opts.heads)
      emit(map, string.format("layer %d, %s of heads", l, opts.heads == "max" and "max" or
                                                        "average"), "layer" .. l)
    end
  end
  if r.after and opts.png then
    local f = tagged(opts.png, "diff")
    viz.diff(r.after.map, r.map, {rows = r.map_rows, cols = r.tokens, file = f,
                                  title = "after - before, " .. r.title})
    files[#files + 1] = f
  end
  for _, f in ipairs(files) do say("wrote " .. f) end
  return files
end

local function show_output(r, tok, say, opts)
  if r.out.probs then
    local text = tok:decode(r.ids)
    local n = utf8.len(text)
    local tail = n and text:sub(utf8.offset(text, math.max(1, n - 23))) or r.tokens[#r.tokens]
    say(string.format("next token after \"%s\":", tail))
    say(next_table(tok, r.out.probs, r.after and r.after.out.probs, opts.top or 5))
    if r.after then say(string.format("  KL(before || after) = %.4g nats",
                                      kl(r.out.probs, r.after.out.probs))) end
  elseif r.class then
    local b, a = r.class:table(), r.after and r.after.class:table()
    say("classifier output" .. (a and " (before -> after):" or ":"))
    for c, p in ipairs(b) do
      say(a and string.format("  class %d  %.4f -> %.4f", c, p, a[c])
            or string.format("  class %d  %.4f", c, p))
    end
  elseif r.after and r.out.pooled then
    local p0, p1 = r.out.pooled, r.after.out.pooled
    local cos = (p0 * p1):sum():item() / math.max(p0:norm():item() * p1:norm():item(), 1e-30)
    say(string.format("pooled [CLS] vector: |after - before| = %.4g, cosine %.4f",
                      (p1 - p0):norm():item(), cos))
  end
end

-- The maps and output of one run (with the interventions' hooks when
-- per is given): out, raw and grouped records, the chosen map.
local function measure(m, ids, types, r, opts, per)
  local a = {}
  if per then
    a.out, a.raw = with_hooks(m, per, function() return run(m, ids, types) end)
  else
    a.out, a.raw = run(m, ids, types)
  end
  a.class = m.config.kind == "bert" and classify(m, a.out, opts) or nil
  a.rec = grouped(a.raw, r.groups, r.level)
  a.map, a.title = pick(a.rec, opts)
  if opts.queries then a.map, a.rows = viz.queries(a.map, opts.queries, r.tokens) end
  return a
end

-- Where the maps go: files when asked, else the browser where there is a
-- display, else the terminal with a text summary.
local function present(r, opts, say)
  local labels = r.tokens
  if opts.png or opts.csv then
    r.files = write_files(r, opts, say)
  elseif have_display(opts) then
    viz.show(r.rec, {tokens = labels, window = true})
    if r.after then viz.diff(r.after.map, r.map, {rows = r.map_rows, cols = labels,
                                                  title = "after - before, " .. r.title}) end
  elseif not opts.quiet then
    viz.term(r.map, {rows = r.map_rows, cols = labels, title = r.title})
    say("where each token looks most (" .. r.title .. "):")
    say(summary(r.map, r.map_rows, labels))
    if r.after then
      viz.term(r.after.map - r.map, {rows = r.map_rows, cols = labels, colormap = "diverging",
                                     title = "after - before"})
    end
  end
end

--- look.look(text, opts) -> result; see help("attn.look").
function look.look(text, opts)
  opts = opts or {}
  check_opts(opts)
  local say = opts.quiet and function() end or print
  local m, tok, name = model_of(opts)
  local ids, types, prompt = ids_of(m, tok, text, opts)
  local level = opts.level or "token"
  local groups, labels = look.units(tok, ids, level)
  local r = setmetatable({model = m, name = name, ids = ids, prompt = prompt, level = level,
                          groups = groups, tokens = labels}, Result)
  local before = measure(m, ids, types, r, opts)
  r.out, r.raw, r.class, r.rec = before.out, before.raw, before.class, before.rec
  r.map, r.title, r.map_rows = before.map, before.title, before.rows or labels
  local per = interventions(m, opts, #ids)
  if next(per) then r.after = measure(m, ids, types, r, opts, per) end
  say(string.format("look: %s (%s, %d layers x %d heads), %d tokens%s", name, m.config.kind,
                    m.config.n_layer, m.config.n_head, #ids,
                    level ~= "token" and string.format(" as %d %s units", #groups, level) or ""))
  if opts.generate then
    say(string.format("  prompt %d tokens + %d generated", prompt, #ids - prompt))
  end
  show_output(r, tok, say, opts)
  present(r, opts, say)
  return r
end

return look
