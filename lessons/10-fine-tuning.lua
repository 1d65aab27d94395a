-- Lesson 10: fine-tuning. The documents' recipe (000 §5, 001 §5, 003
-- appendix) made to work: the shipped pretrained model as a positive /
-- negative classifier on data/sentiment (train/dev/test), batch 16, AdamW
-- with a small learning rate and warmup, dropout, early stopping on dev; a
-- classification report; binary cross-entropy and its gradient derived and
-- checked against autograd; the attention on one sentence before and after;
-- and the same model trained from scratch for comparison.
--
-- Globals the learner (or a test) may set before running it:
--   lesson_model   a built-in name or a GPT-2 folder instead of the shipped model
--   lesson_quick   true: a shortened run (a few batches, one epoch) to check
--                  that everything works; the numbers then mean little

return {
  id = "fine-tuning",
  title = {en = "Fine-tuning", zh = "微调"},
  minutes = 25,
  steps = {
    { text = {
        en = [[
Every one of the five documents ends with the same recipe: take a pretrained
model, put a small classifier on top, and train the whole thing briefly on
labelled sentences (000 §5: max_len 128, AdamW with lr 2e-5, batch 16, 5
epochs, a classification report; 003's appendix: start near 1e-5 with a warmup;
fight overfitting with dropout, weight decay and early stopping).

Their PyTorch code does not run as written (an argmax over the wrong dimension,
data sets never defined, a loss computed under no_grad so nothing learns). We do
the recipe properly, with the model shipped with attnlab, and we measure what
pretraining is worth by training the same network from scratch.

Both trainings take well under a minute on two cores. To only check that it runs,
set lesson_quick = true before starting.]],
        zh = [[
五篇文档的结尾都是同一个配方：拿一个预训练模型，在上面加一个小分类器，用带标签的句子把
整个模型短暂地训练一下（000 §5：max_len 128，AdamW、lr 2e-5，batch 16，5 个 epoch，
输出分类报告；003 的附录：学习率从 1e-5 左右开始并预热；用 dropout、权重衰减和早停
对抗过拟合）。

它们的 PyTorch 代码照抄是跑不起来的（argmax 取错了维度，数据集从未定义，损失在
no_grad 下计算所以什么都学不到）。我们用 attnlab 自带的模型把这个配方正确地做一遍，
并且用同一个网络从零训练，来衡量预训练到底值多少。

在两个核上，两次训练加起来不到一分钟。如果只想确认一切能运行，
开始前设置 lesson_quick = true。]],
      },
    },
    { text = {
        en = [[
The data: data/sentiment, a few hundred short sentences in English and Chinese
written for attnlab, each labelled pos or neg, already split into train, dev and
test. We train on train, choose when to stop on dev, and report on test, which
nothing else has seen.

Exercise: with batch 16, how many optimizer steps make one epoch over train?
(The last batch may be smaller.)]],
        zh = [[
数据：data/sentiment，为 attnlab 编写的几百个中英文短句，每句标为 pos 或 neg，已经分成
train、dev、test 三份。我们在 train 上训练，用 dev 决定何时停止，在 test 上报告结果——
test 不参与任何其他环节。

练习：batch 为 16 时，遍历一次 train 需要多少个优化步？（最后一批可以不满。）]],
      },
      code = [==[
function read_split(name)
  local rows = {}
  for line in io.lines(attn.config.root .. "/data/sentiment/" .. name .. ".tsv") do
    local label, text = line:match("^(%a+)\t(.+)$")
    if label then rows[#rows + 1] = {text = text, y = label == "pos" and 1 or 0} end
  end
  return rows
end
data = {train = read_split("train"), dev = read_split("dev"), test = read_split("test")}
for _, split in ipairs({"train", "dev", "test"}) do
  local pos = 0
  for _, r in ipairs(data[split]) do pos = pos + r.y end
  print(string.format("%-5s %3d sentences, %3d positive", split, #data[split], pos))
end
for i = 1, 3 do print(data.train[i].y == 1 and "pos" or "neg", data.train[i].text) end
batch_size = 16
steps_per_epoch = (#data.train + batch_size - 1) // batch_size]==],
      exercise = {
        ask = {en = "Steps per epoch with batch 16:", zh = "batch 为 16 时每个 epoch 的步数："},
        kind = "number",
        answer = function(env) return env.steps_per_epoch end,
        tol = 0,
        hint = {en = "the number of train sentences / 16, rounded up",
                zh = "train 的句子数 / 16，向上取整"},
      },
    },
    { text = {
        en = [[
Two classes need one number: the classifier outputs a logit z, p = σ(z) =
1 / (1 + e^-z) is the probability of pos, and the loss of one sentence with
label y ∈ {0, 1} is the binary cross-entropy (document 002 §4.2)

    L = -( y log p + (1 - y) log(1 - p) )

Its gradient, by the chain rule: dL/dp = -y/p + (1 - y)/(1 - p) and
dp/dz = p (1 - p), so

    dL/dz = -y (1 - p) + (1 - y) p = p - y

The error itself: too confident in pos pushes z down, too little pushes it up.
The code checks this against autograd, which knows nothing of our algebra.

Exercise: for one sentence with z = 0.5 and y = 1, what is dL/dz?]],
        zh = [[
两个类别只需要一个数：分类器输出一个 logit z，p = σ(z) = 1 / (1 + e^-z) 是 pos 的概率，
标签为 y ∈ {0, 1} 的一句话的损失是二元交叉熵（文档 002 §4.2）

    L = -( y log p + (1 - y) log(1 - p) )

用链式法则求梯度：dL/dp = -y/p + (1 - y)/(1 - p)，dp/dz = p (1 - p)，所以

    dL/dz = -y (1 - p) + (1 - y) p = p - y

梯度就是误差本身：对 pos 过于自信就把 z 往下推，不够自信就往上推。下面的代码用
自动求导来核对——它对我们的推导一无所知。

练习：一句话 z = 0.5、y = 1，dL/dz 是多少？]],
      },
      code = [==[
-- autograd's gradient of the mean BCE over a batch: (p - y) / N per logit
function bce_grad(zs, ys)
  local z = attn.tensor(zs):requires_grad(true)
  attn.F.binary_cross_entropy(z:sigmoid(), ys):backward()
  return z.grad
end
local zs, ys = {-2, -0.3, 0.4, 3}, {1, 0, 1, 0}
local by_hand = {}
for i, z in ipairs(zs) do by_hand[i] = (1 / (1 + math.exp(-z)) - ys[i]) / #zs end
print("autograd:", bce_grad(zs, ys))
print("p - y:   ", attn.tensor(by_hand))]==],
      exercise = {
        ask = {en = "dL/dz for z = 0.5, y = 1:", zh = "z = 0.5、y = 1 时的 dL/dz："},
        kind = "number",
        answer = function(env) return env.bce_grad({0.5}, {1})[1] end,
        tol = 1e-4,
        hint = {en = "σ(0.5) - 1, with σ(0.5) = 1 / (1 + e^-0.5)",
                zh = "σ(0.5) - 1，其中 σ(0.5) = 1 / (1 + e^-0.5)"},
      },
    },
    { text = {
        en = [[
The classifier. The pretrained GPT reads the sentence; because its attention
is causal, the hidden state of the last token is the only one that has seen
the whole sentence, so it becomes the sentence vector (BERT would use [CLS]).
Dropout (p = 0.1) on that vector, then one linear layer to the logit z.

Sentences in a batch differ in length. We pad each after its end; causal
attention means no real token ever looks at the padding, and we read each
sentence's own last token. The picture: the last layer's attention (heads
averaged) on one test sentence, before any fine-tuning.]],
        zh = [[
分类器。预训练的 GPT 读入句子；由于注意力是因果的，只有最后一个词元的隐藏状态看过整句话，
所以它就是句子向量（BERT 会用 [CLS]）。对这个向量做 dropout（p = 0.1），再用一个线性层
得到 logit z。

一批里的句子长短不一。我们把每句话在末尾之后补齐；因果注意力保证真实的词元永远不会看到
补齐的部分，我们读取每句话自己的最后一个词元。图中是微调之前，最后一层（各头平均）在
一个测试句上的注意力。]],
      },
      code = [==[
model_name = lesson_model or attn.models.list()[1]
assert(model_name, "no shipped model found: set lesson_model to a GPT-2 folder")
local probe_model
probe_model, tok = attn.models.load(model_name)
local max_len = math.min(128, probe_model.config.ctx)        -- max_len 128, as in 000 §5
for _, split in pairs(data) do
  for _, r in ipairs(split) do
    r.ids = tok:encode("<|endoftext|>" .. r.text)     -- as every pretraining text began
    while #r.ids > max_len do table.remove(r.ids) end
  end
end

Classifier = attn.nn.class("Classifier")
function Classifier:init(body, p)
  self:child("body", body)
  self:child("drop", attn.nn.Dropout(p))
  self:child("head", attn.nn.Linear(body.config.d_model, 1))
end
-- hidden states [B, T, d] of a padded batch, and a [B, T, 1] one-hot of each last token
function Classifier:hidden(batch)
  local body, T = self.body, 0
  for _, ids in ipairs(batch) do T = math.max(T, #ids) end
  local padded, pos, last = {}, {}, {}
  for b, ids in ipairs(batch) do
    padded[b], pos[b], last[b] = {}, {}, {}
    for t = 1, T do
      padded[b][t], pos[b][t], last[b][t] = ids[t] or ids[#ids], t - 1, {t == #ids and 1 or 0}
    end
  end
  local x = body.drop(body.wte(padded) + body.wpe(pos))
  for _, blk in ipairs(body.blocks) do x = blk(x) end
  return body.ln_f(x), attn.tensor(last)
end
function Classifier:forward(batch)
  local h, last = self:hidden(batch)
  return self.head(self.drop((h * last):sum(2))):reshape(-1)   -- logits [B]
end

-- the last layer's attention on a sentence, heads averaged
function last_attention(m, ids)
  local _, rec = attn.no_grad(function() return m:forward(ids, {record = true}) end)
  return rec.attention[#rec.attention]:mean(1)
end
attn.seed(10)
pretrained = attn.models.load(model_name)
probe = data.test[1]
probe_labels = tok:labels(probe.ids)
before = last_attention(pretrained, probe.ids)
print(probe.text)]==],
      picture = function(env)
        return env.before, {rows = env.probe_labels, cols = env.probe_labels,
                            title = {en = "before fine-tuning (last layer)", zh = "微调之前（最后一层）"}}
      end,
    },
    { text = {
        en = [[
Training, the documents' recipe made to work:
- batch 16, AdamW (weight decay 0.01) with lr 1e-4; a linear warmup over the
  first tenth of the steps, then a linear decay to 0. Our model is 70 times
  smaller than BERT-base, so its learning rate is a little larger than 2e-5;
- dropout 0.1 before the classifier;
- at most 6 epochs, the dev loss checked after each; training stops when it has
  not improved for 2 epochs, and the weights of the best epoch are put back
  (early stopping).

attn.train.fit runs the loop and prints one line per epoch.]],
        zh = [[
训练，把文档的配方真正跑通：
- batch 16，AdamW（权重衰减 0.01），lr 1e-4；前十分之一的步数线性预热，之后线性衰减到 0。
  我们的模型比 BERT-base 小 70 倍，所以学习率比 2e-5 稍大；
- 分类器前 dropout 0.1；
- 最多 6 个 epoch，每个 epoch 后检查 dev 损失；连续 2 个 epoch 没有改善就停止训练，并恢复
  最佳 epoch 的权重（早停）。

attn.train.fit 负责训练循环，每个 epoch 打印一行。]],
      },
      code = [==[
function batches(rows, shuffle)
  local order, start
  return function()
    if not order then
      order, start = {}, 1
      local keys = attn.rand(#rows):table()
      for i = 1, #rows do order[i] = i end
      if shuffle then table.sort(order, function(a, b) return keys[a] < keys[b] end) end
    end
    if start > #rows then order = nil; return nil end
    local x, y = {}, {}
    for k = start, math.min(start + batch_size - 1, #rows) do
      x[#x + 1], y[#y + 1] = rows[order[k]].ids, rows[order[k]].y
    end
    start = start + batch_size
    return {x = x, y = y}
  end
end
function bce_loss(logits, y) return attn.F.binary_cross_entropy(logits:sigmoid(), y) end

function fine_tune(body, lr)
  local train_rows, dev_rows, epochs = data.train, data.dev, 6
  if lesson_quick then                       -- a check that it runs, not a result
    train_rows = {table.unpack(data.train, 1, 32)}
    dev_rows, epochs = {table.unpack(data.dev, 1, 16)}, 1
  end
  local clf = Classifier(body, 0.1)
  local total = epochs * ((#train_rows + batch_size - 1) // batch_size)
  local opt = attn.optim.AdamW(clf:parameters(), {lr = lr, weight_decay = 0.01})
  local sched = attn.optim.schedule(opt, {warmup = math.max(1, total // 10), total = total,
                                          kind = "linear"})
  local hist = attn.train.fit(clf, {train = batches(train_rows, true), dev = batches(dev_rows),
                                    epochs = epochs, opt = opt, sched = sched, patience = 2,
                                    loss = bce_loss, progress = "lines"})
  return clf, hist
end
attn.seed(11)
tuned, tuned_hist = fine_tune(attn.models.load(model_name), 1e-4)
print(string.format("%.1f s, best epoch %s", tuned_hist.seconds,
                    tostring(tuned_hist.best_epoch)))]==],
    },
    { text = {
        en = [[
The report on test: precision (of the sentences called pos, how many are),
recall (of the pos sentences, how many were found), their harmonic mean F1, per
class; accuracy over all. A sentence is called pos when p > 0.5.]],
        zh = [[
在 test 上的报告：每个类别的精确率（被判为 pos 的句子中有多少真是 pos）、召回率（真正的
pos 句子中找到了多少）、二者的调和平均 F1；以及总体准确率。p > 0.5 时判为 pos。]],
      },
      code = [==[
function predict(clf, rows)
  local pred, gold = {}, {}
  clf:eval()
  attn.no_grad(function()
    for b in batches(rows) do
      for _, z in ipairs(clf(b.x):table()) do pred[#pred + 1] = z > 0 and 2 or 1 end
      for _, y in ipairs(b.y) do gold[#gold + 1] = y + 1 end
    end
  end)
  return pred, gold
end
local pred, gold = predict(tuned, data.test)
print(attn.metrics.classification_report(pred, gold, {labels = {"neg", "pos"}}))
tuned_accuracy = attn.metrics.accuracy(pred, gold)]==],
    },
    { text = {
        en = [[
The same sentence after fine-tuning. The picture is after - before: red where
the last layer now looks more, blue where less. The row that matters most is the
last one: the last token's hidden state is the sentence vector the classifier
reads, so the code lists the tokens it now looks at more than before. Are they
the words that carry the sentiment? The loss rewards nothing but telling pos
from neg, so that is where the attention is pushed — as far as a few hundred
sentences can push it.]],
        zh = [[
微调之后的同一句话。图中是“之后 - 之前”：红色表示最后一层现在看得更多，蓝色表示看得更少。
最重要的是最后一行：最后一个词元的隐藏状态就是分类器读取的句子向量，所以代码列出了它现在
比之前看得更多的词元。它们是带有情感的词吗？损失唯一奖励的就是分清 pos 和 neg，所以注意力
正是被往那里推——在几百个句子能推动的范围内。]],
      },
      code = [==[
after = last_attention(tuned.body, probe.ids)
change = after - before
local biggest = change:abs():max():item()
change_scale = math.max(biggest, 1e-6)
print(string.format("largest change of a weight: %.3f", biggest))
local last_row = change[#probe.ids]:table()
local order = {}
for j = 1, #last_row do order[j] = j end
table.sort(order, function(a, b) return last_row[a] > last_row[b] end)
for r = 1, math.min(3, #order) do
  print(string.format("the last token looks more at %-6s %+.3f", probe_labels[order[r]],
                      last_row[order[r]]))
end]==],
      picture = function(env)
        return env.change, {rows = env.probe_labels, cols = env.probe_labels,
                            colormap = "diverging", vmin = -env.change_scale,
                            vmax = env.change_scale, title = {en = "after - before fine-tuning", zh = "微调之后减之前"}}
      end,
    },
    { text = {
        en = [[
What is pretraining worth? The same network (the same configuration), with
random weights instead of pretrained ones, trained with the same recipe and
larger steps (lr 1e-3, a fair chance for a model that starts from nothing). It
has to learn language and sentiment from a few hundred sentences at once.

Exercise: which gets the higher test accuracy?]],
        zh = [[
预训练值多少？同一个网络（同样的配置），用随机权重代替预训练权重，用同样的配方训练，
但步子更大（lr 1e-3，给从零开始的模型一个公平的机会）。它必须同时从几百个句子里学会
语言和情感。

练习：哪一个的测试准确率更高？]],
      },
      code = [==[
attn.seed(11)
local c = pretrained.config
scratch_body = attn.models.gpt{vocab = c.vocab, ctx = c.ctx, n_layer = c.n_layer,
                               n_head = c.n_head, d_model = c.d_model}
scratch, scratch_hist = fine_tune(scratch_body, 1e-3)
local pred, gold = predict(scratch, data.test)
scratch_accuracy = attn.metrics.accuracy(pred, gold)
print(string.format("test accuracy: pretrained + fine-tuned %.3f, from scratch %.3f",
                    tuned_accuracy, scratch_accuracy))
local gain = tuned_accuracy - scratch_accuracy
if gain >= 0.05 then
  print(string.format("pretraining is worth %.0f points of accuracy here", 100 * gain))
else
  print(string.format("no clear gain from pretraining here (%+.0f points): see the last step",
                      100 * gain))
end]==],
      exercise = {
        ask = {en = "Higher test accuracy:", zh = "测试准确率更高的是："},
        kind = "choice",
        choices = {en = {"the fine-tuned pretrained model", "the model trained from scratch",
                         "a tie"},
                   zh = {"预训练后微调的模型", "从零训练的模型", "一样高"}},
        answer = function(env)
          if env.tuned_accuracy > env.scratch_accuracy then return 1 end
          if env.tuned_accuracy < env.scratch_accuracy then return 2 end
          return 3
        end,
        hint = {en = "compare the two numbers printed above", zh = "比较上面打印的两个数"},
      },
    },
    { text = {
        en = [[
What to take away:
- Fine-tuning is ordinary training that starts from good weights: a small
  learning rate with warmup keeps the pretrained knowledge from being washed
  out in the first steps, when the new classifier layer is still random.
- Early stopping on dev, dropout and weight decay are the overfitting remedies
  003's appendix lists; with a few hundred sentences they matter.
- The loss's gradient on the logit is p - y: the whole training signal is how
  wrong the probability was.
- Pretraining helps as far as it has seen enough text like the task's. The
  shipped model read 2 million tokens of poems, sayings, dictionary examples
  and an old Bible translation; GPT-2 read about 10 billion tokens of web
  pages, and BERT-base 3 billion words of books and Wikipedia. Our sentences
  are everyday reviews in which "not", "but" and "worth" decide the label, and
  a model this small, pretrained this briefly, learns little of that: expect
  the two accuracies above to be close, within the few points that 60 test
  sentences cannot tell apart. A model pretrained on far more text starts much
  closer, and the gap to a model trained from scratch grows as the labelled
  set shrinks.

Try: lesson_model = "gpt2" (a downloaded GPT-2 folder) and run the lesson
again; or examples/finetune_tsv.lua on your own labelled sentences.]],
        zh = [[
要点：
- 微调就是从好的权重出发的普通训练：小学习率加预热，能防止预训练学到的知识在最初几步
  （新的分类层还是随机的时候）被冲掉。
- 在 dev 上早停、dropout 和权重衰减，就是 003 附录列出的过拟合对策；只有几百个句子时，
  它们很重要。
- 损失对 logit 的梯度是 p - y：全部的训练信号就是概率错了多少。
- 预训练的帮助有多大，取决于它见过多少和任务相似的文本。自带的模型读了 200 万个词元的
  诗词、格言、词典例句和一部旧的《圣经》译本；GPT-2 读了大约 100 亿个词元的网页，
  BERT-base 读了 33 亿词的书和维基百科。我们的句子是日常评价，决定标签的常常是“不”
  “但是”“值得”这样的词；这么小、预训练这么短的模型学到的很少：上面两个准确率会很接近，
  差距在 60 个测试句分辨不出的几个百分点之内。在多得多的文本上预训练的模型起点要近
  得多；标注数据越少，它和从零训练的模型之间的差距就越大。

可以试试：lesson_model = "gpt2"（下载好的 GPT-2 文件夹），再运行这一课；或者用
examples/finetune_tsv.lua 训练你自己标注的句子。]],
      },
    },
  },
}
