-- attn.heads: what kind of head is each head? Detectors in the manner of
-- TransformerLens's detect_head, with no Python.
--
-- Each kind is a probe (token ids drawn from the model's vocabulary by a
-- seeded generator of its own, so attn's random stream is untouched and
-- the same model always gets the same scores) and a target pattern: a
-- [T, T] matrix of 0/1 saying where a head of that kind should look. A
-- head's score is the share of its attention that lands on the target,
-- averaged over the scored queries and the probe sequences: 1 is a perfect
-- head of that kind, a uniform head scores about 1 / (number of keys).

local attn = require "attn.core"

local heads = {}

heads.kinds = {"previous_token", "first_token", "duplicate_token", "induction"}

-- ---- probes ----------------------------------------------------------------------

-- A small linear congruential generator (Knuth's MMIX constants): the
-- probes must not depend on, or disturb, attn.seed.
local function lcg(seed)
  local state = seed
  return function(n)                                  -- an integer in 0 .. n-1
    state = state * 6364136223846793005 + 1442695040888963407
    return (state >> 33) % n
  end
end

-- n distinct ids (fewer distinct ones only when the vocabulary is smaller).
local function distinct_ids(rand, pool, n)
  local ids, used = {}, {}
  for i = 1, n do
    local id
    repeat id = pool[rand(#pool) + 1] until not used[id] or #pool < n
    used[id] = true
    ids[i] = id
  end
  return ids
end

-- The probe sequences of a kind: `count` rows of T = 2n ids. "Repeated"
-- kinds use a random half of distinct ids written twice, so every token of
-- the second half has exactly one earlier copy.
local function probes(kind, pool, n, count, seed)
  local rand = lcg(seed)
  local rows = {}
  for b = 1, count do
    local half = distinct_ids(rand, pool, n)
    local row = {}
    for i = 1, n do row[i], row[n + i] = half[i], half[i] end
    if kind == "previous_token" or kind == "first_token" then
      for i = n + 1, 2 * n do row[i] = pool[rand(#pool) + 1] end
    end
    rows[b] = row
  end
  return rows
end

-- The target pattern of a kind on probes of 2n tokens, and how many query
-- rows it scores. The first query is never scored for previous/first
-- token (a causal model's first token can only look at itself).
local function target(kind, n)
  local T = 2 * n
  local m = attn.zeros(T, T)
  if kind == "previous_token" then
    for i = 2, T do m:set(i, i - 1, 1) end
    return m, T - 1
  elseif kind == "first_token" then
    for i = 2, T do m:set(i, 1, 1) end
    return m, T - 1
  elseif kind == "duplicate_token" then
    for i = n + 1, T do m:set(i, i - n, 1) end        -- the earlier copy of the same token
    return m, n
  elseif kind == "induction" then
    for i = n + 1, T - 1 do m:set(i, i - n + 1, 1) end  -- the token after the earlier copy
    return m, n - 1
  end
  error(string.format("heads.detect: kind is %q, expected one of %s", tostring(kind),
                      table.concat(heads.kinds, ", ")), 3)
end

-- Every id of the vocabulary, or the caller's own list.
local function id_pool(m, opts)
  if opts.ids then
    assert(type(opts.ids) == "table" and #opts.ids >= 2,
           "heads.detect: ids must be a list of at least 2 token ids")
    return opts.ids
  end
  local pool = {}
  for id = 0, m.config.vocab - 1 do pool[#pool + 1] = id end
  return pool
end

-- ---- scores ------------------------------------------------------------------

local function check_model(m, who)
  if type(m) ~= "table" or type(m.config) ~= "table" or type(m.forward) ~= "function" then
    error(who .. ": expected a model (attn.models.gpt, bert or load), got a " .. type(m), 3)
  end
end

-- Scores [layers, heads] of the record's weights [B, H, T, T] against the
-- pattern: the attention on the target, summed per query, averaged.
local function score(rec, pattern, scored)
  local rows = {}
  for l, w in ipairs(rec.attention) do
    if w:dim() == 3 then w = w:unsqueeze(1) end
    local on = (w * pattern):sum(-1):sum(-1)           -- [B, H]
    rows[l] = (on:mean(1) / scored):reshape(1, w:size(2))
  end
  return attn.cat(rows, 1)
end

--- heads.detect(m, {kind=, n=, count=4, seed=1, ids=, pattern=, show=})
-- -> scores [layers, heads]. kind: "previous_token", "first_token",
-- "duplicate_token" or "induction"; n: the probe's half length (default
-- the smaller of 16, ctx / 2 and the vocabulary); pattern: your own [T, T]
-- target instead of a kind (with ids= probe rows {{...}, ...} then).
-- show=true prints the table and draws the heatmap.
function heads.detect(m, opts)
  check_model(m, "heads.detect")
  opts = opts or {}
  local pool = id_pool(m, opts)
  local n = opts.n or math.min(16, m.config.ctx // 2, #pool)
  if math.type(n) ~= "integer" or n < 2 or 2 * n > m.config.ctx then
    error(string.format("heads.detect: n is %s, expected 2..%d (twice n must fit the context " ..
                        "of %d)", tostring(n), m.config.ctx // 2, m.config.ctx), 2)
  end
  local pattern, scored, batch
  if opts.pattern then
    pattern, batch = opts.pattern, opts.probes
    assert(attn.is_tensor(pattern) and pattern:dim() == 2 and type(batch) == "table",
           "heads.detect: pattern= needs a [T, T] tensor and probes= a list of id lists")
    scored = pattern:sum(2):gt(0):sum():item()
  else
    pattern, scored = target(opts.kind or "previous_token", n)
    batch = probes(opts.kind or "previous_token", pool, n, opts.count or 4, opts.seed or 1)
  end
  local s = attn.no_grad(function()
    local was = m.training
    m:eval()
    local out = {m:forward(batch, {record = true})}
    m:train(was)
    return score(out[#out], pattern, scored)
  end)
  if opts.show then heads.show(s, {title = opts.kind or "pattern"}) end
  return s
end

-- ---- showing ---------------------------------------------------------------------

local function row_labels(n, prefix)
  local l = {}
  for i = 1, n do l[i] = prefix .. i end
  return l
end

--- heads.table(scores, title?) -> text: the scores as rows L1.. by
-- columns H1.., two decimals.
function heads.table(s, title)
  local L, H = s:size(1), s:size(2)
  local v = s:table()
  local out = {title and ("%s (layers x heads)"):format(title) or nil}
  local head = {"     "}
  for h = 1, H do head[#head + 1] = ("%5s"):format("H" .. h) end
  out[#out + 1] = table.concat(head, " ")
  for l = 1, L do
    local cells = {("%-5s"):format("L" .. l)}
    for h = 1, H do cells[#cells + 1] = ("%5.2f"):format(v[l][h]) end
    out[#out + 1] = table.concat(cells, " ")
  end
  return table.concat(out, "\n")
end

--- heads.show(scores, {title=, file=}): print the table and draw the
-- scores as a heatmap (layers down, heads across) on a fixed 0..1 scale.
function heads.show(s, opts)
  opts = opts or {}
  print(heads.table(s, opts.title))
  return attn.viz.heatmap(s, {rows = row_labels(s:size(1), "L"), cols = row_labels(s:size(2), "H"),
                              title = opts.title, file = opts.file, vmin = 0, vmax = 1})
end

--- heads.summary(m, {threshold=0.4, print=true}) -> list of
-- {layer=, head=, kind=, score=}: each head labelled with the kind it
-- scores best on, or "-" when no kind reaches the threshold.
function heads.summary(m, opts)
  check_model(m, "heads.summary")
  opts = opts or {}
  local threshold = opts.threshold or 0.4
  local all = {}
  for _, kind in ipairs(heads.kinds) do
    all[kind] = heads.detect(m, {kind = kind, n = opts.n, seed = opts.seed}):table()
  end
  local list, lines = {}, {}
  for l = 1, m.config.n_layer do
    local cells = {("L%-3d"):format(l)}
    for h = 1, m.config.n_head do
      local best, best_score = "-", threshold
      for _, kind in ipairs(heads.kinds) do
        if all[kind][l][h] >= best_score then best, best_score = kind, all[kind][l][h] end
      end
      local s = best == "-" and 0 or best_score
      list[#list + 1] = {layer = l, head = h, kind = best, score = s}
      cells[#cells + 1] = best == "-" and ("%-20s"):format("-")
                          or ("%-20s"):format(("%s %.2f"):format(best, s))
    end
    lines[#lines + 1] = table.concat(cells, " ")
  end
  if opts.print ~= false then print(table.concat(lines, "\n")) end
  return list
end

return heads
