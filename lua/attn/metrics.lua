-- attn.metrics: how good are the predictions of a classifier?
--
-- Classes are 1-based numbers, as everywhere in attnlab. pred and gold are
-- Lua lists of classes or 1-D tensors of them; pred may also be a 2-D tensor
-- of scores [N, C] (logits or probabilities), read as its argmax per row.
--
-- For a class c, with tp the examples of c predicted as c:
--   precision = tp / (examples predicted as c)    how often "c" is right
--   recall    = tp / (examples of c), its support  how many of c are found
--   f1        = 2 * precision * recall / (precision + recall)
-- A ratio with nothing to count (no predictions of c, say) is 0, as in
-- scikit-learn's default. The macro average weighs every class alike; the
-- weighted average weighs each by its support.

local attn = require "attn.core"

local metrics = {}

local function fail(fname, msg, ...)        -- from a public function
  error(fname .. ": " .. msg:format(...), 3)
end
local function fail_deep(fname, msg, ...)   -- from a helper of one (read)
  error(fname .. ": " .. msg:format(...), 4)
end
local function fail_deeper(fname, msg, ...) -- from a helper of read (classes)
  error(fname .. ": " .. msg:format(...), 5)
end

-- A Lua list of integer classes from a list or a tensor; a 2-D tensor of
-- scores gives the argmax of each row.
local function classes(fname, what, v)
  if attn.is_tensor(v) then
    if v:dim() == 2 then v = v:argmax(2) end
    if v:dim() ~= 1 then
      fail_deeper(fname, "%s must be a 1-D tensor of classes or 2-D scores [N, C], got %d dims",
                what, v:dim())
    end
    v = v:table()
  elseif type(v) ~= "table" then
    fail_deeper(fname, "%s must be a list or a tensor of classes, got %s", what, type(v))
  end
  local list = {}
  for i = 1, #v do
    local c = math.tointeger(v[i])
    if not c or c < 1 then
      fail_deeper(fname, "%s[%d] is %s, expected a class 1, 2, ...", what, i, tostring(v[i]))
    end
    list[i] = c
  end
  return list
end

-- pred, gold as lists of equal length, and the number of classes.
local function read(fname, pred, gold, opts)
  if opts ~= nil and type(opts) ~= "table" then
    fail_deep(fname, "options must be a table, got %s", type(opts))
  end
  opts = opts or {}
  for k in pairs(opts) do
    if k ~= "labels" and k ~= "digits" then
      fail_deep(fname, "unknown option '%s' (known: labels, digits)", tostring(k))
    end
  end
  local p, g = classes(fname, "pred", pred), classes(fname, "gold", gold)
  if #p ~= #g then fail_deep(fname, "pred has %d entries but gold has %d", #p, #g) end
  if #p == 0 then fail_deep(fname, "pred and gold are empty") end
  local labels = opts.labels
  if labels ~= nil and (type(labels) ~= "table" or #labels == 0) then
    fail_deep(fname, "labels must be a list of class names, got %s", tostring(labels))
  end
  local n = labels and #labels or 0
  if not labels then   -- the classes seen
    for i = 1, #p do n = math.max(n, p[i], g[i]) end
  end
  for i = 1, #p do
    local c = math.max(p[i], g[i])
    if c > n then
      fail_deep(fname, "%s[%d] is class %d, but there are %d labels",
                p[i] > n and "pred" or "gold", i, c, n)
    end
  end
  local names = {}
  for c = 1, n do names[c] = labels and tostring(labels[c]) or tostring(c) end
  return p, g, n, names
end

-- ---- text layout --------------------------------------------------------------------

-- Columns a string takes on a terminal: UTF-8 aware, East Asian wide
-- characters (Chinese, Japanese, Korean, full-width forms) count as two.
local function text_width(s)
  if not utf8.len(s) then return #s end
  local w = 0
  for _, cp in utf8.codes(s) do
    local wide = (cp >= 0x1100 and cp <= 0x115F) or (cp >= 0x2E80 and cp <= 0xA4CF)
      or (cp >= 0xAC00 and cp <= 0xD7A3) or (cp >= 0xF900 and cp <= 0xFAFF)
      or (cp >= 0xFF00 and cp <= 0xFF60) or (cp >= 0xFFE0 and cp <= 0xFFE6)
      or (cp >= 0x20000 and cp <= 0x3FFFD)
    w = w + (wide and 2 or 1)
  end
  return w
end

local function rjust(s, width)
  return (" "):rep(math.max(0, width - text_width(s))) .. s
end

-- ---- accuracy and the confusion matrix ------------------------------------------------------

--- accuracy(pred, gold) -> the fraction of pred equal to gold
function metrics.accuracy(pred, gold)
  local p, g = read("accuracy", pred, gold)
  local right = 0
  for i = 1, #p do
    if p[i] == g[i] then right = right + 1 end
  end
  return right / #p
end

local Confusion = {}
Confusion.__index = Confusion

-- Rows are gold classes, columns predicted ones, the corner names both.
function Confusion:__tostring()
  local n, names = #self, self.labels
  local width = text_width("gold\\pred")
  for c = 1, n do
    width = math.max(width, text_width(names[c]))
    for k = 1, n do width = math.max(width, #tostring(self[c][k])) end
  end
  local lines = {}
  local head = {rjust("gold\\pred", width)}
  for k = 1, n do head[#head + 1] = rjust(names[k], width) end
  lines[1] = table.concat(head, "  ")
  for c = 1, n do
    local row = {rjust(names[c], width)}
    for k = 1, n do row[#row + 1] = rjust(tostring(self[c][k]), width) end
    lines[#lines + 1] = table.concat(row, "  ")
  end
  return table.concat(lines, "\n")
end

local function count_confusion(p, g, n, names)
  local m = {}
  for c = 1, n do
    m[c] = {}
    for k = 1, n do m[c][k] = 0 end
  end
  for i = 1, #p do m[g[i]][p[i]] = m[g[i]][p[i]] + 1 end
  m.labels = names
  return setmetatable(m, Confusion)
end

--- confusion_matrix(pred, gold, {labels=}) -> m, m[gold][pred] = count
-- A Lua table of rows (row c: the examples of class c, by predicted class);
-- print(m) lays it out with the labels; attn.tensor(m) makes a tensor of it
-- (for attn.viz.heatmap, say).
function metrics.confusion_matrix(pred, gold, opts)
  local p, g, n, names = read("confusion_matrix", pred, gold, opts)
  return count_confusion(p, g, n, names)
end

-- ---- the report -----------------------------------------------------------------------------

local function ratio(a, b)
  return b > 0 and a / b or 0
end

local Report = {}
Report.__index = Report

-- The layout of scikit-learn's classification_report: names right-aligned in
-- a column as wide as the longest name (at least "weighted avg"), then
-- columns of 9 characters, rates with `digits` decimals.
function Report:__tostring()
  local d = self.digits
  local width = text_width("weighted avg")
  for _, r in ipairs(self.classes) do width = math.max(width, text_width(r.label)) end
  local num = " %9." .. d .. "f"
  local function row(name, r)
    return rjust(name, width) .. " " .. (num):format(r.precision) .. (num):format(r.recall)
      .. (num):format(r.f1) .. (" %9d"):format(r.support)
  end
  local lines = {(" "):rep(width) .. " " .. (" %9s"):rep(4):format("precision", "recall",
                                                                  "f1-score", "support"), ""}
  for _, r in ipairs(self.classes) do lines[#lines + 1] = row(r.label, r) end
  lines[#lines + 1] = ""
  lines[#lines + 1] = rjust("accuracy", width) .. " " .. (" "):rep(20)
    .. (num):format(self.accuracy) .. (" %9d"):format(self.support)
  lines[#lines + 1] = row("macro avg", self.macro)
  lines[#lines + 1] = row("weighted avg", self.weighted)
  return table.concat(lines, "\n")
end

--- classification_report(pred, gold, {labels=, digits=2}) -> report
-- report.classes[c] = {label=, precision=, recall=, f1=, support=} for every
-- class (every label when labels are given, else 1 .. the largest class
-- seen), report.accuracy, report.macro and report.weighted (each {precision=,
-- recall=, f1=, support=}), report.support (the number of examples) and
-- report.confusion (see confusion_matrix). print(report) shows the table.
function metrics.classification_report(pred, gold, opts)
  local fname = "classification_report"
  local p, g, n, names = read(fname, pred, gold, opts)
  local digits = opts and opts.digits or 2
  if math.type(digits) ~= "integer" or digits < 0 or digits > 10 then
    fail(fname, "digits must be an integer in 0..10, got %s", tostring(digits))
  end
  local m = count_confusion(p, g, n, names)
  local rows, right, total = {}, 0, #p
  local macro = {precision = 0, recall = 0, f1 = 0, support = total}
  local weighted = {precision = 0, recall = 0, f1 = 0, support = total}
  for c = 1, n do
    local tp, predicted, support = m[c][c], 0, 0
    for k = 1, n do
      predicted = predicted + m[k][c]   -- column c: everything called c
      support = support + m[c][k]       -- row c: everything that is c
    end
    local prec, rec = ratio(tp, predicted), ratio(tp, support)
    local r = {label = names[c], precision = prec, recall = rec,
               f1 = ratio(2 * prec * rec, prec + rec), support = support}
    rows[c] = r
    right = right + tp
    for _, k in ipairs({"precision", "recall", "f1"}) do
      macro[k] = macro[k] + r[k] / n
      weighted[k] = weighted[k] + r[k] * support / total
    end
  end
  return setmetatable({classes = rows, accuracy = right / total, macro = macro,
                       weighted = weighted, support = total, confusion = m, digits = digits},
                      Report)
end

return metrics
