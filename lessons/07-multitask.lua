-- Lesson 7: one attention layer shared by three tasks (sentence type,
-- sentiment, topic), trained jointly with L = Σ λ_k L_k (documents 003 §4.1
-- and 004 §3.1, §4.2-4.3), and how the weights λ_k decide where it looks.
-- The data are synthetic, so every sentence's answer sits in a known word.

return {
  id = "multitask",
  title = {en = "One attention, many tasks", zh = "一个注意力，多个任务"},
  minutes = 20,
  steps = {
    { text = {
        en = [[
Document 004 shares one attention network between three tasks: text
classification, sentiment and topic. Each word vector e_j gets a score against
one learned vector w, the scores become weights a_j = softmax_j(e_jᵀ w), and
the sentence becomes one vector z that all three task heads read. Training
minimises a weighted sum of the task losses (document 003, §4.1):

    L = Σ_k λ_k L_k

One attention, one z: if the three tasks need different words, they must share
the weights a_j. Which words win? The λ_k decide, and we will watch them do it.

A slip first: 004 writes z = Σ_j a_j w_j, a sum of the attention parameters.
The weighted sum is of the word vectors themselves, z = Σ_j a_j e_j; w only
scores them.]],
        zh = [[
文档 004 让三个任务共享一个注意力网络：文本分类、情感分析、主题分类。每个词向量
e_j 与一个学习到的向量 w 计算得分，得分变成权重 a_j = softmax_j(e_jᵀ w)，句子
被汇总成一个向量 z，三个任务的输出层都读它。训练时最小化各任务损失的加权和
（文档 003，§4.1）：

    L = Σ_k λ_k L_k

一个注意力、一个 z：如果三个任务需要看不同的词，它们就得分享同一组权重 a_j。
谁会赢？由 λ_k 决定——我们来亲眼看看。

先说一个笔误：004 写作 z = Σ_j a_j w_j，对注意力参数求和。加权求和的应该是词向量
本身，z = Σ_j a_j e_j；w 只负责打分。]],
      },
    },
    { text = {
        en = [[
The data: short synthetic sentences, so we know where each answer lives. Every
sentence has one sentiment word (喜欢 … 糟糕), one topic word (weather 下雨,
food 面条, sport 篮球 …), three filler words in a random order, and ends with 吗
(a question) or 。 (a statement). Three labels per sentence:

    task 1  type       1 question, 2 statement     (the answer is in the marker)
    task 2  sentiment  1 positive, 2 negative      (in the sentiment word)
    task 3  topic      1 weather, 2 food, 3 sport  (in the topic word)

300 sentences to train on, 100 to test. kind[i][t] remembers what kind of word
sits at position t (1 marker, 2 sentiment, 3 topic, 4 filler).]],
        zh = [[
数据：合成的短句，这样我们清楚每个答案藏在哪里。每句话有一个情感词（喜欢 … 糟糕）、
一个主题词（天气 下雨、食物 面条、运动 篮球 …）、三个顺序随机的填充词，结尾是 吗
（疑问句）或 。（陈述句）。每句话三个标签：

    任务 1  句型   1 疑问，2 陈述              （答案在结尾标记里）
    任务 2  情感   1 正面，2 负面              （在情感词里）
    任务 3  主题   1 天气，2 食物，3 运动      （在主题词里）

300 句用于训练，100 句用于测试。kind[i][t] 记录第 t 个位置是哪类词
（1 标记，2 情感，3 主题，4 填充）。]],
      },
      code = [==[
attn.seed(7)
words = {
  marker = {"吗", "。"},                                          -- question, statement
  sentiment = {{"喜欢", "满意", "开心", "很棒"}, {"讨厌", "失望", "难过", "糟糕"}},
  topic = {{"下雨", "晴天", "气温"}, {"面条", "米饭", "火锅"}, {"篮球", "足球", "跑步"}},
  filler = {"我", "今天", "觉得", "这个", "真的", "有点", "他们", "说"},
}
kinds = {"marker", "sentiment", "topic", "filler"}
vocab, id_of = {}, {}
local function add(list)
  for _, w in ipairs(list) do
    if type(w) == "table" then add(w)
    elseif not id_of[w] then vocab[#vocab + 1] = w; id_of[w] = #vocab - 1 end
  end
end
add(words.marker); add(words.sentiment); add(words.topic); add(words.filler)

local function pick(list, u) return list[math.floor(u * #list) + 1] end
function make_sentences(n)
  local u = attn.rand(n, 12):table()              -- every random choice, seeded
  local set = {ids = {}, kind = {}, y = {{}, {}, {}}, text = {}}
  for i = 1, n do
    local r = u[i]
    local ty, se, to = pick({1, 2}, r[1]), pick({1, 2}, r[2]), pick({1, 2, 3}, r[3])
    local body = {{pick(words.sentiment[se], r[4]), 2}, {pick(words.topic[to], r[5]), 3},
                  {pick(words.filler, r[6]), 4}, {pick(words.filler, r[7]), 4},
                  {pick(words.filler, r[8]), 4}}
    for k = #body, 2, -1 do                       -- shuffle: answers move around
      local j = math.floor(r[7 + k] * k) + 1
      body[k], body[j] = body[j], body[k]
    end
    body[#body + 1] = {words.marker[ty], 1}
    local ids, kind, text = {}, {}, {}
    for t, wk in ipairs(body) do ids[t], kind[t], text[t] = id_of[wk[1]], wk[2], wk[1] end
    set.ids[i], set.kind[i], set.text[i] = ids, kind, table.concat(text, " ")
    set.y[1][i], set.y[2][i], set.y[3][i] = ty, se, to
  end
  return set
end
train_set, test_set = make_sentences(300), make_sentences(100)
for i = 1, 6 do
  print(test_set.text[i], "type " .. test_set.y[1][i], "sentiment " .. test_set.y[2][i],
        "topic " .. test_set.y[3][i])
end]==],
    },
    { text = {
        en = [[
The model, small enough to read whole:

    E = embedding(ids)            [B, T, d]   one vector per word
    a = softmax_t(E w)            [B, T]      one shared attention per sentence
    z = Σ_t a_t E_t               [B, d]      the sentence vector
    logits_k = W_k z + b_k                    one linear head per task

w starts at zero, so at first every score is 0 and the attention is uniform.

Exercise: a sentence has 6 words. What weight does each word get before training?]],
        zh = [[
模型很小，可以整个读完：

    E = embedding(ids)            [B, T, d]   每个词一个向量
    a = softmax_t(E w)            [B, T]      每句话一个共享的注意力
    z = Σ_t a_t E_t               [B, d]      句子向量
    logits_k = W_k z + b_k                    每个任务一个线性输出层

w 初始为零，所以一开始每个得分都是 0，注意力是均匀的。

练习：一句话有 6 个词。训练之前每个词得到多少权重？]],
      },
      code = [==[
d = 16
function new_model()
  local m = {emb = (attn.randn(#vocab, d) * 0.1):requires_grad(true),
             w = attn.zeros(d):requires_grad(true), heads = {}}
  for k, classes in ipairs({2, 2, 3}) do
    m.heads[k] = {W = (attn.randn(classes, d) * 0.1):requires_grad(true),
                  b = attn.zeros(classes):requires_grad(true)}
  end
  return m
end
function params_of(m)
  local p = {m.emb, m.w}
  for _, h in ipairs(m.heads) do p[#p + 1] = h.W; p[#p + 1] = h.b end
  return p
end
function forward(m, ids)
  local B, T = #ids, #ids[1]
  local E = attn.F.embedding(ids, m.emb)                        -- [B, T, d]
  local a = E:matmul(m.w:reshape(d, 1)):reshape(B, T):softmax(2) -- [B, T]
  local z = a:reshape(B, 1, T):matmul(E):reshape(B, d)          -- Σ_t a_t E_t
  local logits = {}
  for k, h in ipairs(m.heads) do logits[k] = attn.F.linear(z, h.W, h.b) end
  return logits, a
end
untrained = new_model()
_, a0 = forward(untrained, {test_set.ids[1]})   -- a0 [1, 6]: poke at it after the exercise
print("sum of |w| before training:", untrained.w:abs():sum():item())]==],
      exercise = {
        ask = {en = "Weight of each word of a 6-word sentence before training:",
               zh = "训练前，6 个词的句子里每个词的权重："},
        kind = "number",
        answer = function(env) return env.a0[1][1] end,
        tol = 1e-4,
        hint = {en = "softmax of six equal scores", zh = "六个相等得分的 softmax"},
      },
    },
    { text = {
        en = [[
The joint loss. Each task has its cross-entropy L_k; training minimises

    L = λ_1 L_1 + λ_2 L_2 + λ_3 L_3

Its gradient with respect to a shared parameter (the embeddings, w) is
Σ_k λ_k ∂L_k/∂θ: every task pulls on the shared attention, each as hard as its
λ_k says. A task with λ_k = 0 does not pull at all.

Exercise: with λ = (1, 0.5, 0.2) and task losses 0.4, 0.9 and 1.2, what is L?]],
        zh = [[
联合损失。每个任务有自己的交叉熵 L_k，训练最小化

    L = λ_1 L_1 + λ_2 L_2 + λ_3 L_3

它对共享参数（词向量、w）的梯度是 Σ_k λ_k ∂L_k/∂θ：每个任务都在拉扯共享的注意力，
用力大小由各自的 λ_k 决定。λ_k = 0 的任务完全不拉。

练习：λ = (1, 0.5, 0.2)，三个任务的损失分别是 0.4、0.9、1.2，L 是多少？]],
      },
      code = [==[
function joint_loss(lambda, losses)
  local total = 0
  for k = 1, #lambda do total = total + lambda[k] * losses[k] end
  return total
end

function train_model(lambda, steps)
  attn.seed(11)                        -- the same start for every λ: only λ differs
  local m = new_model()
  local opt = attn.optim.AdamW(params_of(m), {lr = 0.05, weight_decay = 0})
  for _ = 1, steps or 150 do
    opt:zero_grad()
    local logits = forward(m, train_set.ids)
    local losses = {}
    for k = 1, 3 do losses[k] = attn.F.cross_entropy(logits[k], train_set.y[k]) end
    joint_loss(lambda, losses):backward()
    opt:step()
  end
  return m
end

-- test accuracy per task, and the attention mass on each kind of word
function evaluate(m, set)
  local logits, a = attn.no_grad(function() return forward(m, set.ids) end)
  local acc, mass = {}, {0, 0, 0, 0}
  for k = 1, 3 do
    local right = 0
    for i, p in ipairs(logits[k]:argmax(2):table()) do
      if p == set.y[k][i] then right = right + 1 end
    end
    acc[k] = right / #set.ids
  end
  for i, row in ipairs(a:table()) do
    for t, weight in ipairs(row) do
      mass[set.kind[i][t]] = mass[set.kind[i][t]] + weight / #set.ids
    end
  end
  return acc, mass
end
print(joint_loss({1, 1, 1}, {0.7, 0.7, 1.1}))]==],
      exercise = {
        ask = {en = "L for λ = (1, 0.5, 0.2) and losses (0.4, 0.9, 1.2):",
               zh = "λ = (1, 0.5, 0.2)，损失 (0.4, 0.9, 1.2) 时的 L："},
        kind = "number",
        answer = function(env) return env.joint_loss({1, 0.5, 0.2}, {0.4, 0.9, 1.2}) end,
        tol = 1e-6,
        hint = {en = "1·0.4 + 0.5·0.9 + 0.2·1.2", zh = "1·0.4 + 0.5·0.9 + 0.2·1.2"},
      },
    },
    { text = {
        en = [[
Train with all three tasks weighted equally, λ = (1, 1, 1): 150 full-batch
steps of AdamW, under a second. Then look at the test set: accuracy per task,
and how the attention of a sentence is spread over the four kinds of words.

With one attention for three tasks, the model learns to split it: about a third
on the marker, a third on the sentiment word, a third on the topic word, and
nothing on the fillers. z then carries all three answers at once (the
embeddings learn to keep them in different directions). The picture shows the
weights on six test sentences.

Exercise: before the next step runs it, predict where the attention goes when
only sentiment counts, λ = (0, 1, 0).]],
        zh = [[
三个任务权重相同，λ = (1, 1, 1)，训练：AdamW 全批量 150 步，不到一秒。然后在测试集上
看每个任务的准确率，以及一句话的注意力如何分布在四类词上。

一个注意力服务三个任务，模型学会了把它分开：大约三分之一在结尾标记上，三分之一在
情感词上，三分之一在主题词上，填充词上几乎为零。于是 z 同时携带三个答案（词向量学会
把它们放在不同的方向上）。图中是六个测试句的权重。

练习：在下一步运行之前先预测：只有情感任务算数，λ = (0, 1, 0) 时，注意力会落在哪里？]],
      },
      code = [==[
balanced = train_model({1, 1, 1})
acc, mass = evaluate(balanced, test_set)
print(string.format("accuracy   type %.2f  sentiment %.2f  topic %.2f", acc[1], acc[2], acc[3]))
for k, name in ipairs(kinds) do print(string.format("attention on %-9s %.2f", name, mass[k])) end
local first = {}
for i = 1, 6 do first[i] = test_set.ids[i] end
_, sample_weights = attn.no_grad(function() return forward(balanced, first) end)
sample_rows = {}
for i = 1, 6 do sample_rows[i] = test_set.text[i] end]==],
      picture = function(env)
        return env.sample_weights, {rows = env.sample_rows,
                                    cols = {"1", "2", "3", "4", "5", "6"},
                                    title = {en = "λ = (1, 1, 1): attention over word positions", zh = "λ = (1, 1, 1)：各词位置上的注意力"}}
      end,
      exercise = {
        ask = {en = "Predict: with λ = (0, 1, 0), most attention goes to",
               zh = "预测：λ = (0, 1, 0) 时注意力最多的是"},
        kind = "choice",
        choices = {en = {"the marker 吗/。", "the sentiment word", "the topic word", "the fillers"},
                   zh = {"结尾标记 吗/。", "情感词", "主题词", "填充词"}},
        answer = function(env)                 -- train it and see (a tenth of a second)
          local _, mass = env.evaluate(env.train_model({0, 1, 0}), env.test_set)
          local best = 1
          for k = 2, 4 do if mass[k] > mass[best] then best = k end end
          return best
        end,
        hint = {en = "only the sentiment loss pulls on the attention",
                zh = "只有情感任务的损失在拉扯注意力"},
      },
    },
    { text = {
        en = [[
Now change the λ_k. With λ = (0, 1, 0) only sentiment counts: nothing asks the
attention to keep the marker or the topic, and it moves entirely onto the
sentiment word. Type and topic accuracies drop to chance (0.5 and 0.33), even
though their heads still read z: what the attention throws away, no head can
get back. The picture is the attention mass per kind of word (columns) for
each setting of λ (rows). Check your prediction in the row λ=0,1,0.]],
        zh = [[
现在改变 λ_k。λ = (0, 1, 0) 时只有情感任务算数：没有任何任务要求注意力保留结尾标记
或主题词，注意力就整个移到了情感词上。句型和主题的准确率掉到随机水平（0.5 和
0.33），尽管它们的输出层仍然读 z：注意力丢掉的信息，任何输出层都找不回来。
图中是每种 λ 设置（行）下，注意力落在各类词（列）上的总量。在 λ=0,1,0 那一行核对你的预测。]],
      },
      code = [==[
settings = {{1, 1, 1}, {1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {0.1, 1, 0.1}, {1, 1, 0}}
mass_rows, setting_names, results = {}, {}, {}
print("lambda          type  sent  topic | marker sent  topic filler")
for s, lambda in ipairs(settings) do
  local a, m = evaluate(train_model(lambda), test_set)
  results[s] = {acc = a, mass = m}
  mass_rows[s] = m
  setting_names[s] = "λ=" .. table.concat(lambda, ",")
  print(string.format("%-14s  %.2f  %.2f  %.2f  | %.2f   %.2f  %.2f  %.2f", setting_names[s],
                      a[1], a[2], a[3], m[1], m[2], m[3], m[4]))
end]==],
      picture = function(env)
        return env.attn.tensor(env.mass_rows), {rows = env.setting_names, cols = env.kinds,
                                                title = {en = "attention mass per kind of word", zh = "每类词得到的注意力总量"}}
      end,
    },
    { text = {
        en = [[
What to take away:
- A shared attention is a shared budget, and the λ_k decide who may spend
  it. A task with λ_k = 0 loses its words (λ = 1,1,0: the topic word is
  dropped and topic accuracy falls to chance).
- A small weight is not a zero weight: with λ = 0.1,1,0.1 the split is almost
  that of 1,1,1. Here splitting costs the sentiment task nothing (z can carry
  three answers), so even a small pull wins its share. λ matters most where
  the tasks truly compete for the same attention.
- Document 004's loss formula multiplies labels by feature vectors inside the
  logarithm; the working loss is the plain sum above of each task's
  cross-entropy, weighted by λ_k.
- 004 also mentions one attention vector per task (w_task1, w_task2, w_task3).
  That removes the competition: each task looks where it needs. Try it: give
  the model three w's and three z's: each task then reaches 1.00 as soon as its
  λ_k is above 0, whatever the others are.
- Multi-head attention (lesson 4) is the same idea inside a Transformer:
  several attentions side by side, so different heads can keep different words.

Try: train_model({1, 0.3, 0}) and evaluate it; or make a sentence hold two
sentiment words that disagree and see where the attention goes.]],
        zh = [[
要点：
- 共享的注意力是共享的预算，λ_k 决定谁能花它。λ_k = 0 的任务会失去它的词
  （λ = 1,1,0：主题词被丢掉，主题准确率掉到随机水平）。
- 权重小不等于权重为零：λ = 0.1,1,0.1 时的分配和 1,1,1 几乎一样。这里分开注意力
  对情感任务没有任何代价（z 能同时携带三个答案），所以再小的拉力也能分到它的一份。
  只有当任务真正争夺同一份注意力时，λ 才最关键。
- 文档 004 的损失公式在对数里把标签和特征向量相乘；真正可用的损失就是上面那个
  各任务交叉熵按 λ_k 加权的和。
- 004 还提到每个任务一个注意力向量（w_task1、w_task2、w_task3）。这样就没有竞争：
  每个任务看自己需要的词。试试看：给模型三个 w、三个 z，只要某个任务的 λ_k 大于 0，
  无论其他任务如何，它都能达到 1.00。
- 多头注意力（第 4 课）就是 Transformer 里的同一个想法：几个注意力并排，
  不同的头可以保留不同的词。

可以试试：train_model({1, 0.3, 0}) 再 evaluate；或者让一句话里出现两个相互矛盾的
情感词，看看注意力落在哪里。]],
      },
    },
  },
}
