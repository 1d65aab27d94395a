-- attn.viz, the Lua half: pictures made of other pictures. The renderer
-- and the window, PNG and terminal sinks are C (l_viz.c and viz/).

local attn = require "attn.core"
local viz = attn.viz

--- viz.diff(w1, w2, opts): the heatmap of w1 - w2 on the diverging
-- colormap, centred on 0 and symmetric (|largest change| on both ends),
-- so red is "attends more in w1" and blue "attends more in w2".
function viz.diff(w1, w2, opts)
  assert(attn.is_tensor(w1) and attn.is_tensor(w2), "viz.diff: expected two tensors")
  local d = w1 - w2
  local o = {}
  for k, v in pairs(opts or {}) do o[k] = v end
  local m = d:abs():max():item()
  m = m > 0 and m or 1
  o.colormap = o.colormap or "diverging"
  o.vmin, o.vmax = o.vmin or -m, o.vmax or m
  o.title = o.title or "difference"
  return viz.heatmap(d, o)
end

-- ---- aggregation -----------------------------------------------------------------
-- Maps are [Tq, Tk] (one head), [heads, Tq, Tk] (one layer) or a record
-- (rec.attention: one [heads, T, T] per layer). Each helper returns a new
-- tensor and leaves its input alone.

local function check_layer(w, who)
  if not attn.is_tensor(w) or w:dim() ~= 3 then
    local got = attn.is_tensor(w) and ("shape [" .. table.concat(w:shape(), ",") .. "]") or type(w)
    error(who .. ": expected a layer's weights [heads, Tq, Tk], got " .. got, 3)
  end
end

--- viz.reduce_heads(w, how): one map from a layer's [heads, Tq, Tk]
-- weights; how = "mean" (the default: rows still sum to 1) or "max" (the
-- strongest head at each cell, which shows rare sharp heads an average hides).
function viz.reduce_heads(w, how)
  check_layer(w, "viz.reduce_heads")
  how = how or "mean"
  if how == "mean" then return w:mean(1) end
  if how == "max" then return (w:max(1)) end
  error("viz.reduce_heads: how is '" .. tostring(how) .. "', expected \"mean\" or \"max\"", 2)
end

local function layers_of(rec, who)
  local list = type(rec) == "table" and rec.attention or rec
  if type(list) ~= "table" or #list == 0 then
    error(who .. ": expected a record with .attention (a list of [heads, T, T] tensors)", 3)
  end
  for l, w in ipairs(list) do
    if not attn.is_tensor(w) or w:dim() ~= 3 or w:size(2) ~= w:size(3) then
      local got = attn.is_tensor(w) and ("[" .. table.concat(w:shape(), ",") .. "]") or type(w)
      error(string.format("%s: layer %d is %s, expected [heads, T, T] (one sequence, " ..
                          "not a batch)", who, l, got), 3)
    end
  end
  return list
end

--- viz.rollout(rec, {residual=0.5, upto=#layers, heads="mean"}): attention
-- rollout (Abnar & Zuidema 2020). Each layer's heads are combined, the
-- residual connection is counted as attention to oneself,
-- A' = (1 - residual) A + residual I, rows renormalised to sum to 1, and
-- the layers are multiplied: R = A'_L ... A'_2 A'_1. R[i, j] is how much
-- token i at the top draws on input token j through every path.
function viz.rollout(rec, opts)
  opts = opts or {}
  local list = layers_of(rec, "viz.rollout")
  local r = opts.residual or 0.5
  if type(r) ~= "number" or r < 0 or r > 1 then
    error("viz.rollout: residual must be a number in [0, 1]", 2)
  end
  local upto = opts.upto or #list
  if math.type(upto) ~= "integer" or upto < 1 or upto > #list then
    error(string.format("viz.rollout: upto is %s, expected 1..%d", tostring(upto), #list), 2)
  end
  local T = list[1]:size(2)
  local eye = attn.eye(T)
  local R
  for l = 1, upto do
    local a = viz.reduce_heads(list[l], opts.heads) * (1 - r) + eye * r
    a = a / a:sum(2, true)                        -- an ablated row may not sum to 1
    R = R and a:matmul(R) or a
  end
  return R
end

-- An index list from a number or a list, each checked against n.
local function index_list(x, n, who, what)
  local list = type(x) == "table" and x or {x}
  if #list == 0 then error(who .. ": no " .. what .. " given", 3) end
  for _, i in ipairs(list) do
    if math.type(i) ~= "integer" or i < 1 or i > n then
      error(string.format("%s: %s %s is outside 1..%d", who, what, tostring(i), n), 3)
    end
  end
  return list
end

--- viz.queries(w, {i, j, ...}, labels?): the rows of those query tokens
-- (the last dim is the keys), stacked in the order given; with labels,
-- also their labels, for heatmap's rows=.
function viz.queries(w, rows, labels)
  if not attn.is_tensor(w) or w:dim() < 2 then
    error("viz.queries: expected weights [..., Tq, Tk]", 2)
  end
  local list = index_list(rows, w:size(-2), "viz.queries", "query")
  local picked, names = {}, {}
  for k, i in ipairs(list) do
    picked[k] = w:narrow(-2, i, 1)
    names[k] = labels and labels[i]
  end
  return attn.cat(picked, w:dim() - 1), labels and names or nil
end

--- viz.group(w, groups): the map over groups of tokens (word or character
-- level): groups is a list of lists of token positions, in order. Columns
-- are summed over a group's pieces (attention to a word is attention to
-- any of its pieces), rows are averaged (a word looks where its pieces
-- look, on average), so rows still sum to 1. Works on [..., T, T].
function viz.group(w, groups)
  if not attn.is_tensor(w) or w:dim() < 2 or w:size(-1) ~= w:size(-2) then
    error("viz.group: expected square weights [..., T, T]", 2)
  end
  local T = w:size(-1)
  local member, seen = attn.zeros(#groups, T), {}
  for g, list in ipairs(groups) do
    for _, t in ipairs(index_list(list, T, "viz.group", "token")) do
      if seen[t] then error("viz.group: token " .. t .. " is in two groups", 2) end
      seen[t] = true
      member:set(g, t, 1)
    end
  end
  for t = 1, T do
    if not seen[t] then error("viz.group: token " .. t .. " is in no group", 2) end
  end
  local mean_rows = member / member:sum(2, true)   -- [G, T], each row averages a group
  return mean_rows:matmul(w):matmul(member:T())
end

-- ---- export ----------------------------------------------------------------------

-- A CSV field: quoted when it holds a comma, a quote or a line break.
local function csv_field(s)
  s = tostring(s)
  if s:find('[,"\r\n]') then s = '"' .. s:gsub('"', '""') .. '"' end
  return s
end

--- viz.export(w, path, {rows=, cols=}): a 2-D tensor as CSV (header row of
-- column labels, then one line per row led by its label), numbers with 9
-- significant digits so float32 values read back exactly. Written to a
-- temporary file and renamed, so a failure never leaves half a file.
function viz.export(w, path, opts)
  opts = opts or {}
  if not attn.is_tensor(w) or w:dim() ~= 2 then
    local got = attn.is_tensor(w) and ("shape [" .. table.concat(w:shape(), ",") .. "]") or type(w)
    error("viz.export: expected a 2-D tensor, got " .. got, 2)
  end
  if type(path) ~= "string" or path == "" then error("viz.export: expected a file name", 2) end
  local R, C = w:size(1), w:size(2)
  for key, n in pairs({rows = R, cols = C}) do
    if opts[key] ~= nil and (type(opts[key]) ~= "table" or #opts[key] ~= n) then
      error(string.format("viz.export: %s must be a list of %d labels", key, n), 2)
    end
  end
  local lines, head = {}, {""}
  for j = 1, C do head[j + 1] = csv_field(opts.cols and opts.cols[j] or j) end
  lines[1] = table.concat(head, ",")
  local vals = w:table()
  for i = 1, R do
    local cells = {csv_field(opts.rows and opts.rows[i] or i)}
    for j = 1, C do cells[j + 1] = string.format("%.9g", vals[i][j]) end
    lines[i + 1] = table.concat(cells, ",")
  end
  local tmp = path .. ".tmp"
  local opened, f, err = pcall(io.open, tmp, "wb")   -- --safe raises instead of returning nil
  if not opened then f, err = nil, tostring(f):gsub("^io%.open: ", "") end
  if not f then error("viz.export: cannot write " .. path .. " (" .. tostring(err) .. ")", 2) end
  local ok, werr = f:write(table.concat(lines, "\n"), "\n")
  f:close()
  if not ok then
    os.remove(tmp)
    error("viz.export: writing " .. path .. " failed (" .. tostring(werr) .. ")", 2)
  end
  local moved, merr = os.rename(tmp, path)
  if not moved then
    os.remove(tmp)
    error("viz.export: cannot rename to " .. path .. " (" .. tostring(merr) .. ")", 2)
  end
  return path
end

return viz
