-- Lesson 9: full size. GPT-2 small and BERT-base counted, built, measured
-- (memory, tokens/s); the shipped pretrained model on the learner's own
-- sentence; a previous-token head and an induction head found from the
-- recorded weights; loading a Hugging Face folder.
--
-- Globals the learner (or a test) may set before running it:
--   lesson_model     a built-in name or a GPT-2 folder instead of the shipped model
--   my_sentence      the sentence of step 4
--   lesson_quick     true: skip building the two full-size models (seconds and 1 GB)

return {
  id = "full-size",
  title = {en = "Full size", zh = "完整尺寸的模型"},
  minutes = 25,
  steps = {
    { text = {
        en = [[
So far our models were small enough to print. Real ones are not: GPT-2 small has
12 layers of 12 heads, 768 numbers per token; BERT-base has the same shape as an
encoder. In this lesson we count their parameters by hand and check the count,
measure what they cost on this machine, then take the small model shipped with
attnlab (pretrained by attnlab itself on poems and prose) and look inside it for
two famous kinds of heads.

If the full-size models are too heavy for this machine (they need about 1 GB),
set lesson_quick = true before the lesson: step 3 then only counts.]],
        zh = [[
到目前为止，我们的模型都小到可以直接打印出来。真实的模型不是这样：GPT-2 small 有 12 层、
每层 12 个头、每个词 768 个数；BERT-base 是同样形状的编码器。这一课先手算它们的参数量
并核对，再测量它们在这台机器上的开销；然后拿出 attnlab 自带的小模型（由 attnlab 自己
在诗歌和散文上预训练），在里面寻找两种著名的注意力头。

如果这台机器跑不动完整尺寸的模型（大约需要 1 GB 内存），在开始前设置
lesson_quick = true：第 3 步就只计数，不构建。]],
      },
    },
    { text = {
        en = [[
Counting. One Transformer block of width d holds

    two LayerNorms          2 · 2d        (a scale and a shift each)
    Q, K, V and output      4 · (d² + d)  (a d x d matrix and a bias each)
    the MLP d -> 4d -> d    (4d² + 4d) + (4d² + d)

which is 12d² + 13d. Add the embeddings: GPT-2 has one row per token of its
50,257-token vocabulary and one per position (1,024), and a final LayerNorm; its
output layer reuses the token embeddings (tied), so it adds nothing. BERT adds
two segment rows, a LayerNorm after the embeddings and a pooler (d² + d).

Exercise: how many parameters does one block of GPT-2 small (d = 768) hold?]],
        zh = [[
计数。宽度为 d 的一个 Transformer 块包含

    两个 LayerNorm         2 · 2d         （各有缩放和平移）
    Q、K、V 和输出投影      4 · (d² + d)   （各是一个 d x d 矩阵加偏置）
    MLP d -> 4d -> d        (4d² + 4d) + (4d² + d)

合计 12d² + 13d。再加上嵌入：GPT-2 的 50,257 个词、1,024 个位置各一行，外加最后一个
LayerNorm；输出层复用词嵌入（权重共享），不增加参数。BERT 多了两行句段嵌入、嵌入后的
LayerNorm 和 pooler（d² + d）。

练习：GPT-2 small（d = 768）的一个块有多少个参数？]],
      },
      code = [==[
function block_params(d)
  return 2 * 2 * d + 4 * (d * d + d) + (4 * d * d + 4 * d) + (4 * d * d + d)
end
function gpt_params(c)
  return c.vocab * c.d_model + c.ctx * c.d_model + c.n_layer * block_params(c.d_model) +
         2 * c.d_model
end
function bert_params(c)
  local d = c.d_model
  return (c.vocab + c.ctx + 2) * d + 2 * d + c.n_layer * block_params(d) + d * d + d
end
gpt2_config = {vocab = 50257, ctx = 1024, n_layer = 12, d_model = 768}
bert_config = {vocab = 30522, ctx = 512, n_layer = 12, d_model = 768}
print(string.format("GPT-2 small by hand: %d parameters", gpt_params(gpt2_config)))
print(string.format("BERT-base by hand:   %d parameters", bert_params(bert_config)))]==],
      exercise = {
        ask = {en = "Parameters of one GPT-2 small block (d = 768):",
               zh = "GPT-2 small 一个块（d = 768）的参数量："},
        kind = "number",
        answer = function(env) return env.block_params(768) end,
        tol = 0,
        hint = {en = "12 · 768² + 13 · 768", zh = "12 · 768² + 13 · 768"},
      },
    },
    { text = {
        en = [[
Now build both for real (random weights: the shapes are what matter here) and
measure: the count m:num_parameters() against ours, the bytes they take
(attn.memory() before and after), and how many tokens per second a forward pass
of 128 tokens processes on this machine. Each model takes several seconds to
build; we drop each one before building the next.

Exercise: every parameter here is a float32 (4 bytes). Stored in float16
(2 bytes), as models are often shipped, how many MiB would GPT-2 small's
parameters take? (1 MiB = 2^20 bytes.)]],
        zh = [[
现在真的把两个模型构建出来（随机权重：这里关心的只是形状）并测量：m:num_parameters()
与我们手算的是否一致，它们占多少字节（前后各调用一次 attn.memory()），以及在这台机器上
前向计算 128 个词时每秒能处理多少个词。每个模型构建需要几秒钟；构建下一个之前先释放
上一个。

练习：这里每个参数是一个 float32（4 字节）。如果像发布模型时常做的那样用 float16（2 字节）
存储，GPT-2 small 的参数占多少 MiB？（1 MiB = 2^20 字节）]],
      },
      code = [==[
function live() collectgarbage(); collectgarbage(); return attn.memory() end
function measure(name, build, counted)
  if lesson_quick then
    print(name .. ": skipped (lesson_quick is set); counted " .. counted)
    return
  end
  local before, t0 = live(), attn.clock()
  local m = build()
  local built, bytes = attn.clock() - t0, live() - before
  local ids = {}
  for i = 1, 128 do ids[i] = (i * 37) % 1000 end
  local secs = attn.no_grad(function() return attn.time(function() m:forward(ids) end, 1) end)
  print(string.format("%-12s %d parameters (by hand %d: %s)  %.0f MiB  built in %.1f s  " ..
                      "%.0f tokens/s", name, m:num_parameters(), counted,
                      m:num_parameters() == counted and "same" or "DIFFERENT",
                      bytes / 2^20, built, 128 / secs))
end
measure("GPT-2 small", attn.models.gpt2_small, gpt_params(gpt2_config))
measure("BERT-base", attn.models.bert_base, bert_params(bert_config))
gpt2_fp16_mib = gpt_params(gpt2_config) * 2 / 2^20]==],
      exercise = {
        ask = {en = "GPT-2 small in float16, MiB:", zh = "float16 存储的 GPT-2 small，MiB："},
        kind = "number",
        answer = function(env) return env.gpt2_fp16_mib end,
        tol = 0.5,
        hint = {en = "124,439,808 · 2 / 2^20", zh = "124,439,808 · 2 / 2^20"},
      },
    },
    { text = {
        en = [[
The shipped model: a small GPT pretrained by attnlab on Chinese poems and
sayings and on English dictionary examples and prose (data/README.md tells
how). It reads any text, Chinese one character per token. Every text it was
trained on began with the token <|endoftext|>, so your sentence gets one in
front too. Set my_sentence to your own sentence and press r to run this step
again; the picture is the last layer, its heads averaged.]],
        zh = [[
自带的模型：attnlab 在中文诗词、格言和英文词典例句、散文上预训练的一个小 GPT（训练
方法见 data/README.md）。它能读任何文本，中文一个字一个词元。它训练时读的每段文本都以
词元 <|endoftext|> 开头，所以你的句子前面也加上一个。把 my_sentence 设成你自己的句子，
按 r 重新运行这一步；图中是最后一层、各头平均后的注意力。]],
      },
      code = [==[
model_name = lesson_model or attn.models.list()[1]
assert(model_name, "no shipped model found: set lesson_model to a GPT-2 folder")
model, tok = attn.models.load(model_name)
local c = model.config
print(string.format("%s: %d layers x %d heads, d = %d, context %d, vocabulary %d, %d parameters",
                    model_name, c.n_layer, c.n_head, c.d_model, c.ctx, c.vocab,
                    model:num_parameters()))
my_sentence = my_sentence or "今天天气怎么样？不太好。"
ids = tok:encode("<|endoftext|>" .. my_sentence)
labels = tok:labels(ids)
logits, rec = attn.no_grad(function() return model:forward(ids, {record = true}) end)
local p = logits[#ids]:softmax(1):table()
local order = {}
for i = 1, #p do order[i] = i end
table.sort(order, function(a, b) return p[a] > p[b] end)
for r = 1, 3 do
  local piece = ("%q"):format(tok:decode({order[r] - 1})):gsub("\\\n", "\\n")
  print(string.format("next: %-10s %.3f", piece, p[order[r]]))
end
print("continued: " .. tok:decode(model:generate(ids, {max_new = 12, temperature = 0})))
last_layer = rec.attention[#rec.attention]:mean(1)]==],
      picture = function(env)
        return env.last_layer, {rows = env.labels, cols = env.labels,
                                title = {en = "last layer, mean of heads", zh = "最后一层，各头平均"}}
      end,
    },
    { text = {
        en = [[
Look down the first column of that map. Many heads put most of their weight on
the very first token, <|endoftext|>, which means nothing at all: an attention
sink (Xiao et al., 2023). A head's weights must add up to 1, so a head that
finds nothing worth reading in this sentence still has to put its weight
somewhere, and the model learns one fixed, harmless place to park it: what a
head reads from a token that is always the same tells the next layer nothing
new, so parking there changes little. (This is also why we put <|endoftext|>
in front: without a fixed first token, the sink lands on whatever word comes
first.)

The first-token score of a head is its mean weight on key 1:

    score(l, h) = mean over t ≥ 2 of w_lh[t, 1]

Exercise: how many of the model's heads give the first token more than half of
their weight?]],
        zh = [[
顺着那张图的第一列往下看。很多头把大部分权重放在最前面的词元 <|endoftext|> 上，而它
本身毫无意义：这叫注意力汇聚点（attention sink，Xiao 等，2023）。一个头的权重加起来
必须等于 1，所以在这句话里找不到值得读的内容时，它也得把权重放在某个地方；模型学会了
一个固定、无害的“停车位”：从一个永远相同的词元那里读到的东西，不会告诉下一层任何新
信息，所以停在那里几乎不改变什么。（这也是为什么我们在句子前加 <|endoftext|>：没有
固定的第一个词元，汇聚点就会落在碰巧排第一的词上。）

一个头的“第一个词”得分，是它在键 1 上的平均权重：

    score(l, h) = t ≥ 2 时 w_lh[t, 1] 的平均

练习：模型里有多少个头把一半以上的权重给了第一个词元？]],
      },
      code = [==[
-- pattern: a [T, T] 0/1 matrix of where a kind of head should look
function head_scores(record, pattern, scored)
  local rows = {}
  for l, w in ipairs(record.attention) do                  -- w: [heads, T, T]
    rows[l] = ((w * pattern):sum(3):sum(2) / scored):table()
  end
  return attn.tensor(rows)                                 -- [layers, heads]
end
local T = #ids
local first = attn.zeros(T, T)
for t = 2, T do first:set(t, 1, 1) end
sink_scores = head_scores(rec, first, T - 1)
sinks = sink_scores:gt(0.5):sum():item()
print(string.format("%d of %d heads give the first token more than half of their weight",
                    sinks, sink_scores:numel()))
layer_names, head_names = {}, {}
for l = 1, sink_scores:size(1) do layer_names[l] = "L" .. l end
for h = 1, sink_scores:size(2) do head_names[h] = "H" .. h end]==],
      picture = function(env)
        return env.sink_scores, {rows = env.layer_names, cols = env.head_names, vmin = 0, vmax = 1,
                                 title = {en = "first-token score per head",
                                          zh = "每个头的“第一个词”得分"}}
      end,
      exercise = {
        ask = {en = "Heads with more than half their weight on the first token:",
               zh = "一半以上权重在第一个词元上的头数："},
        kind = "number",
        answer = function(env) return env.sinks end,
        tol = 0,
        hint = {en = "count the cells of the picture brighter than 0.5",
                zh = "数一数图中亮度超过 0.5 的格子"},
      },
    },
    { text = {
        en = [[
A previous-token head looks, from every token, at the token just before it: the
first sub-diagonal of its map. Its score is the average weight on that diagonal:

    score(l, h) = mean over t ≥ 2 of w_lh[t, t-1]

1 is a perfect previous-token head; a head that spreads evenly over t keys
scores about 1/t. Such heads let the next layer know "what came before me",
which is the first half of the induction trick below. The picture shows the
score of every head (layers down, heads across) on your sentence.

Exercise: which layer holds the head with the highest previous-token score?]],
        zh = [[
“前一个词”头（previous-token head）从每个词出发，看它紧前面的那个词：也就是权重图的第一条
下对角线。它的得分是这条对角线上的平均权重：

    score(l, h) = t ≥ 2 时 w_lh[t, t-1] 的平均

完美的“前一个词”头得 1；在 t 个键上均匀分布的头大约得 1/t。这种头让下一层知道“我前面
是什么”，这正是下面归纳头技巧的前一半。图中是你的句子上每个头的得分（行是层，列是头）。

练习：得分最高的“前一个词”头在第几层？]],
      },
      code = [==[
function best_head(scores)
  local flat = scores:reshape(-1):argmax():item()          -- 1-based over layers x heads
  local H = scores:size(2)
  return (flat - 1) // H + 1, (flat - 1) % H + 1
end
local T = #ids
local prev = attn.zeros(T, T)
for t = 2, T do prev:set(t, t - 1, 1) end
prev_scores = head_scores(rec, prev, T - 1)
prev_layer, prev_head = best_head(prev_scores)
local uniform = 0                        -- the score of a head that looks evenly at t keys
for t = 2, T do uniform = uniform + 1 / t / (T - 1) end
print(string.format("a head spreading evenly would score %.2f", uniform))]==],
      picture = function(env)
        return env.prev_scores, {rows = env.layer_names, cols = env.head_names, vmin = 0, vmax = 1,
                                 title = {en = "previous-token score per head", zh = "每个头的“前一个词”得分"}}
      end,
      exercise = {
        ask = {en = "Layer of the best previous-token head:", zh = "最佳“前一个词”头所在的层："},
        kind = "number",
        answer = function(env) return env.prev_layer end,
        tol = 0,
        hint = {en = "the brightest cell of the picture: its row", zh = "图中最亮的格子所在的行"},
      },
    },
    { text = {
        en = [[
How strong was that head? Compare it with a head that spreads evenly (the line
above the picture; data/README.md measures the shipped model's heads on
random probes too). A previous-token head forms quickly when the task
demands one. Below, a
one-layer GPT is trained for 150 steps (a fraction of a second) to output, at
every position, the token before it; only attention can fetch that token. Its
head's score, by the same head_scores, approaches 1, and its map is the
sub-diagonal.]],
        zh = [[
刚才那个头有多强？和均匀分布的头比一比（图上方那一行；data/README.md 里还有自带模型
在随机探针上的测量结果）。当任务需要时，“前一个词”头会很快形成。下面训练一个单层 GPT，150 步（不到一秒），让它在每个位置输出
前一个词元——只有注意力能把那个词元取过来。用同一个 head_scores 计算，它的头的得分接近 1，
权重图就是那条下对角线。]],
      },
      code = [==[
attn.seed(4)
local V, T, B = 16, 32, 16
copier = attn.models.gpt{vocab = V, ctx = T, n_layer = 1, n_head = 1, d_model = 32}
local opt = attn.optim.AdamW(copier:parameters(), {lr = 3e-3})
for step = 1, 150 do
  local u = attn.rand(B, T):table()
  local x, y = {}, {}
  for b = 1, B do
    x[b] = {}
    for t = 1, T do x[b][t] = math.floor(u[b][t] * V) end
    for t = 1, T do y[#y + 1] = x[b][math.max(1, t - 1)] + 1 end    -- the token before, 1-based
  end
  opt:zero_grad()
  local loss = attn.F.cross_entropy(copier:forward(x):reshape(B * T, V), y)
  loss:backward()
  opt:step()
  if step % 50 == 0 then print(string.format("step %d  loss %.3f", step, loss:item())) end
end
local probe_ids = {}
for t = 1, T do probe_ids[t] = (7 * t) % V end
local _, crec = attn.no_grad(function() return copier:forward(probe_ids, {record = true}) end)
local sub = attn.zeros(T, T)
for t = 2, T do sub:set(t, t - 1, 1) end
print(string.format("previous-token score of its head: %.2f", head_scores(crec, sub, T - 1)[1][1]))
copier_map = crec.attention[1][1]
copier_labels = {}
for t = 1, T do copier_labels[t] = tostring(probe_ids[t]) end]==],
      picture = function(env)
        return env.copier_map, {rows = env.copier_labels, cols = env.copier_labels,
                                title = {en = "a trained previous-token head", zh = "训练出的“前一个词”头"}}
      end,
    },
    { text = {
        en = [[
An induction head completes patterns: having seen "... A B ... A", it looks from
the second A at the B that followed the first A, and the model predicts B. The
clean test is a random sequence of n tokens written twice (after <|endoftext|>,
at position 1). From query position q in the second copy, an induction head
looks at key position q - n + 1: the token after the first copy.

Below: 20 random tokens repeated, the induction score of every head (the mean
weight on that stripe), and the model's loss on each half. A model with
induction heads predicts the second copy far better than the first, which it
cannot predict at all: it is random. Induction heads appear late in training,
in a sudden "phase change" (Olsson et al. 2022). The shipped model went
through it after about 9,000 steps of its pretraining, in a second stage
(data/README.md shows the probe before and after), so its stripe should be
plain to see. GPT-2 small has many more, in its middle layers: run this step
with lesson_model = "gpt2" (see the last step).

Exercise: with n = 20, which key position does an induction head look at from
query position 25?]],
        zh = [[
归纳头（induction head）负责补全模式：见过“… A B … A”之后，它从第二个 A 出发去看第一个
A 后面的 B，于是模型预测出 B。最干净的测试是把 n 个随机词元写两遍（前面是位置 1 的
<|endoftext|>）。从第二遍里的查询位置 q 出发，归纳头会看键位置 q - n + 1：第一遍里
那个词后面的词。

下面：20 个随机词元重复一遍，计算每个头的归纳得分（这条斜带上的平均权重），以及模型
在前后两半上的损失。有归纳头的模型对第二遍的预测远好于第一遍——第一遍是随机的，
根本无法预测。归纳头在训练后期突然出现（“相变”，Olsson 等，2022）。自带的模型在预训练
第二阶段、大约第 9000 步之后经历了这一相变（data/README.md 里有相变前后的探针结果），
所以它的斜带应该清晰可见。GPT-2 small 的中间几层有多得多的归纳头：设置
lesson_model = "gpt2" 再运行这一步（见最后一步）。

练习：n = 20 时，归纳头从查询位置 25 出发看哪个键的位置？]],
      },
      code = [==[
n = 20
function induction_target(query) return query - n + 1 end
-- n distinct tokens of everyday characters in a random order, after
-- <|endoftext|> when the tokenizer has it (one id), as the model was trained
local pool, seen = {}, {}
for _, id in ipairs(tok:encode("春夏秋冬东南西北山水风云花鸟日月天地人心江河湖海金木火土上下")) do
  if not seen[id] then seen[id], pool[#pool + 1] = true, id end
end
attn.seed(9)
local keys = attn.rand(#pool):table()
local order = {}
for i = 1, #pool do order[i] = i end
table.sort(order, function(a, b) return keys[a] < keys[b] end)
local start = tok:encode("<|endoftext|>")
repeated = #start == 1 and {start[1]} or {}
local b = #repeated                                         -- 1 with <|endoftext|>, else 0
for i = 1, n do repeated[b + i], repeated[b + n + i] = pool[order[i]], pool[order[i]] end
local T = b + 2 * n
local rlogits, rrec = attn.no_grad(function() return model:forward(repeated, {record = true}) end)
-- query b + n + i holds the second copy of token i, whose first copy's
-- follower sits at b + i + 1: query - n + 1 again
local stripe = attn.zeros(T, T)
for q = b + n + 1, b + 2 * n - 1 do stripe:set(q, induction_target(q), 1) end
ind_scores = head_scores(rrec, stripe, n - 1)
ind_layer, ind_head = best_head(ind_scores)
ind_map = rrec.attention[ind_layer][ind_head]
print(string.format("best induction head: layer %d, head %d, score %.2f",
                    ind_layer, ind_head, ind_scores[ind_layer][ind_head]))
-- loss of predicting token t + 1 from the tokens up to t, per copy
local logp = rlogits:softmax(2):log():table()
local first, second = 0, 0
for t = b + 1, T - 1 do
  local l = -logp[t][repeated[t + 1] + 1]
  if t < b + n then first = first + l / (n - 1) elseif t > b + n then second = second + l / (n - 1) end
end
print(string.format("loss on the first copy %.2f, on the second copy %.2f", first, second))
if ind_scores[ind_layer][ind_head] < 0.2 then    -- spreading evenly would give about 0.03
  print("no induction head here: no head puts even a fifth of its weight on the stripe")
end
rep_labels = {}
for i = 1, #repeated do rep_labels[i] = tostring(i) end]==],
      picture = function(env)
        return env.ind_map, {rows = env.rep_labels, cols = env.rep_labels,
                             title = string.format("induction head L%d H%d on a repeated sequence",
                                                   env.ind_layer, env.ind_head)}
      end,
      exercise = {
        ask = {en = "Key position looked at from query 25 (n = 20):",
               zh = "n = 20 时，从查询位置 25 看的键的位置："},
        kind = "number",
        answer = function(env) return env.induction_target(25) end,
        tol = 0,
        hint = {en = "query q looks at q - n + 1", zh = "查询 q 看 q - n + 1"},
      },
    },
    { text = {
        en = [[
attnlab has these detectors built in: attn.heads.detect(m, {kind=...}) scores
every head on several random probes ("previous_token", "first_token",
"duplicate_token", "induction") and attn.heads.summary(m) names each head's
best kind. Our one-sentence scores above should agree with them on the best
heads; where they differ, the probes are the fairer judge.]],
        zh = [[
attnlab 内置了这些检测器：attn.heads.detect(m, {kind=...}) 在多条随机探针序列上给每个头打分
（"previous_token"、"first_token"、"duplicate_token"、"induction"），attn.heads.summary(m)
为每个头标出它最像的类型。上面我们只用一句话算出的得分，在最佳的头上应该和它们一致；
不一致的地方，以探针的结果为准。]],
      },
      code = [==[
if attn.heads and attn.heads.detect then
  local detected = attn.heads.detect(model, {kind = "induction"})
  local l, h = best_head(detected)
  print(string.format("attn.heads: best induction head L%d H%d (score %.2f); ours L%d H%d",
                      l, h, detected[l][h], ind_layer, ind_head))
  print(attn.heads.table(detected, "induction"))
else
  print("attn.heads is not in this build")
end]==],
    },
    { text = {
        en = [[
Your own Hugging Face checkpoint. attn.models.load reads a GPT-2 or BERT folder:
config.json, model.safetensors and the tokenizer files (vocab.json + merges.txt,
or vocab.txt). Download one with the Hugging Face tool, for example

    huggingface-cli download gpt2 config.json model.safetensors \
        vocab.json merges.txt --local-dir gpt2

then m, tok = attn.models.load("gpt2") at the prompt, or run this lesson again
with lesson_model = "gpt2": every step above works on it (GPT-2 small has 144
heads to search). The shipped model is itself such a folder, which the step
below loads by its path to show that nothing about it is special.]],
        zh = [[
你自己的 Hugging Face 检查点。attn.models.load 读取 GPT-2 或 BERT 的文件夹：config.json、
model.safetensors 和分词器文件（vocab.json + merges.txt，或 vocab.txt）。用 Hugging Face
的工具下载，例如

    huggingface-cli download gpt2 config.json model.safetensors \
        vocab.json merges.txt --local-dir gpt2

然后在提示符下 m, tok = attn.models.load("gpt2")，或者设置 lesson_model = "gpt2" 再运行
这一课：上面每一步都适用（GPT-2 small 有 144 个头可以搜索）。自带的模型本身就是这样
一个文件夹，下面这一步按路径加载它，说明它没有任何特别之处。]],
      },
      code = [==[
local folder = lesson_model or (attn.config.root .. "/data/models/" .. model_name)
local again, tok2 = attn.models.load(folder)
local same = attn.no_grad(function()
  return attn.allclose(again:forward(ids), model:forward(ids), 1e-5)
end)
print(folder .. ": tokenizer " .. tostring(tok2) .. ", same logits: " .. tostring(same))]==],
    },
  },
}
