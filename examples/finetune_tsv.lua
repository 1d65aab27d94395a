-- Fine-tune a model as a classifier on your own TSV file.
--
--   attnlab examples/finetune_tsv.lua FILE.tsv [MODEL] [EPOCHS] [LR]
--
-- FILE.tsv: one example a line, "label<TAB>text" (lines starting with # are
-- skipped); any labels, two or more. MODEL: a built-in name or a Hugging Face
-- GPT-2/BERT folder (default: the shipped model). Every fifth example is kept
-- aside as the dev set. Recipe: batch 16, AdamW (lr 1e-4, weight decay 0.01)
-- with a linear warmup over the first tenth of the steps, dropout 0.1,
-- early stopping when the dev loss stops improving for 2 epochs. A small
-- learning rate suits a pretrained model; a model trained from scratch wants
-- a larger one (LR 3e-3, say).

local file = arg[1]
if not file then
  error("usage: attnlab examples/finetune_tsv.lua FILE.tsv [MODEL] [EPOCHS] [LR]", 0)
end
local model = arg[2] or attn.models.list()[1]
local epochs = math.tointeger(tonumber(arg[3] or "5"))
local lr = tonumber(arg[4] or "1e-4")
if not epochs or epochs < 1 or not lr or lr <= 0 then
  error("EPOCHS must be a whole number >= 1 and LR a number > 0", 0)
end
if not model then error("no built-in model is installed: give a Hugging Face folder", 0) end
attn.seed(1)

-- ---- the data ------------------------------------------------------------------------
local m, tok = attn.models.load(model)
if not tok then error(model .. " has no tokenizer files", 0) end
local c = m.config
local examples, names, class_of = {}, {}, {}
local n = 0
for line in io.lines(file) do
  n = n + 1
  if line ~= "" and not line:match("^#") then
    local label, text = line:match("^([^\t]+)\t(.+)$")
    if not label then error(("%s:%d: expected label<TAB>text"):format(file, n), 0) end
    if not class_of[label] then names[#names + 1] = label; class_of[label] = true end
    local ids = tok:encode(text)
    if c.kind == "bert" then                       -- [CLS] text [SEP]
      table.insert(ids, 1, tok:encode("[CLS]")[1])
      ids[#ids + 1] = tok:encode("[SEP]")[1]
    end
    while #ids > c.ctx do table.remove(ids) end    -- cut what the model cannot see
    examples[#examples + 1] = {ids = ids, label = label}
  end
end
table.sort(names)
for k, name in ipairs(names) do class_of[name] = k end
if #names < 2 then error(file .. ": found fewer than two labels", 0) end
local train, dev = {}, {}
for i, e in ipairs(examples) do
  e.y = class_of[e.label]
  if i % 5 == 0 then dev[#dev + 1] = e else train[#train + 1] = e end
end
print(("%d examples (%d train, %d dev), classes: %s"):format(#examples, #train, #dev,
                                                            table.concat(names, ", ")))

-- ---- the classifier: the model's sentence vector, dropout, one linear layer ----------
local Classifier = attn.nn.class("Classifier")
function Classifier:init(body, classes)
  self:child("body", body)
  self:child("drop", attn.nn.Dropout(0.1))
  self:child("head", attn.nn.Linear(body.config.d_model, classes))
end

-- GPT: the hidden state of each sentence's last token (causal attention: the
-- padding after it is never seen). BERT: the pooled [CLS] vector.
function Classifier:features(batch)
  local body, T = self.body, 0
  for _, ids in ipairs(batch) do T = math.max(T, #ids) end
  local padded, pos, last, mask = {}, {}, {}, {}
  for b, ids in ipairs(batch) do
    padded[b], pos[b], last[b], mask[b] = {}, {}, {}, {}
    for t = 1, T do
      padded[b][t] = ids[t] or ids[#ids]
      pos[b][t], last[b][t], mask[b][t] = t - 1, {t == #ids and 1 or 0}, ids[t] and 1 or 0
    end
  end
  if body.config.kind == "bert" then
    local _, pooled = body:forward(padded, {mask = mask})
    return pooled
  end
  local x = body.drop(body.wte(padded) + body.wpe(pos))
  for _, blk in ipairs(body.blocks) do x = blk(x) end
  return (body.ln_f(x) * attn.tensor(last)):sum(2)         -- [B, d]
end

function Classifier:forward(batch)
  return self.head(self.drop(self:features(batch)))         -- logits [B, classes]
end

-- batches of 16 as fit wants them: a function that returns {x=, y=}, then nil
local function batches(set, size, shuffle)
  local order, pos
  return function()
    if not order then
      order, pos = {}, 1
      local keys = attn.rand(#set):table()
      for i = 1, #set do order[i] = i end
      if shuffle then table.sort(order, function(a, b) return keys[a] < keys[b] end) end
    end
    if pos > #set then order = nil; return nil end
    local x, y = {}, {}
    for k = pos, math.min(pos + size - 1, #set) do
      x[#x + 1], y[#y + 1] = set[order[k]].ids, set[order[k]].y
    end
    pos = pos + size
    return {x = x, y = y}
  end
end

-- ---- training ----------------------------------------------------------------------------
local clf = Classifier(m, #names)
local steps = epochs * ((#train + 15) // 16)
local opt = attn.optim.AdamW(clf:parameters(), {lr = lr, weight_decay = 0.01})
local sched = attn.optim.schedule(opt, {warmup = math.max(1, steps // 10), total = steps,
                                        kind = "linear"})
local hist = attn.train.fit(clf, {train = batches(train, 16, true), dev = batches(dev, 16),
                                  epochs = epochs, opt = opt, sched = sched, patience = 2,
                                  loss = attn.F.cross_entropy})

-- ---- the report on dev --------------------------------------------------------------------
local pred, gold = {}, {}
attn.no_grad(function()
  for b in batches(dev, 16) do
    for _, p in ipairs(clf(b.x):argmax(2):table()) do pred[#pred + 1] = p end
    for _, y in ipairs(b.y) do gold[#gold + 1] = y end
  end
end)
print(attn.metrics.classification_report(pred, gold, {labels = names}))
print(("dev accuracy %.3f (best epoch %s of %d)"):format(attn.metrics.accuracy(pred, gold),
                                                        tostring(hist.best_epoch), hist.epochs))
