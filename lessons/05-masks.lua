-- Lesson 5: masks and directions: causal masks for autoregressive models
-- (seeds/003 §4.1), padding masks, bidirectional vs causal (seeds/002 Q2),
-- and encoder-decoder cross-attention with attn.nn.MultiHeadAttention's
-- context option.

return {
  id = "masks",
  title = {en = "Masks and directions", zh = "掩码与方向"},
  minutes = 20,
  steps = {
    {
      title = {en = "The causal mask", zh = "因果掩码"},
      text = {
        en = [[
A model that writes text one word at a time (an autoregressive model,
y_t = f(x_t, x_t-1, ..., x_1)) must not look at words it has not written
yet. A mask says which scores to keep: keep[i][j] = 1 when key j may be
seen from query i, 0 when not. For "only the past and the present" that is
the lower triangle, j <= i.

Dropped scores are set to -infinity before softmax; exp(-infinity) = 0, so
those keys get exactly no weight and the rest still sum to 1.
scaled_dot_product_attention takes the mask (1 keep / 0 drop), or simply
causal = true.]],
        zh = [[
一个逐词生成文本的模型（自回归模型，y_t = f(x_t, x_t-1, ..., x_1)）不能偷看
还没写出来的词。掩码（mask）规定保留哪些得分：查询 i 能看到键 j 时
keep[i][j] = 1，否则为 0。“只看过去和现在”就是下三角：j <= i。

被丢弃的得分在 softmax 之前设成负无穷；exp(负无穷) = 0，所以这些键的权重恰好
为 0，其余权重之和仍然是 1。scaled_dot_product_attention 可以接收掩码（1 保留，
0 丢弃），也可以直接写 causal = true。]],
      },
      code = [[attn.seed(5)
tokens = {"今天", "天气", "怎么样", "？", "不太好"}
T, d = #tokens, 8
X = attn.randn(T, d)
rows = {}
for i = 1, T do
  rows[i] = {}
  for j = 1, T do rows[i][j] = j <= i and 1 or 0 end
end
keep = attn.tensor(rows)
print("keep:") print(keep)
_, w_causal = attn.F.scaled_dot_product_attention(X, X, X, {mask = keep, weights = true})
_, w_causal2 = attn.F.scaled_dot_product_attention(X, X, X, {causal = true, weights = true})
print("mask and causal = true agree:", attn.allclose(w_causal, w_causal2, 1e-6))]],
      picture = function(env)
        return env.w_causal, {rows = env.tokens, cols = env.tokens, title = {en = "causal", zh = "因果"},
                              annotate = true, vmin = 0, vmax = 1}
      end,
      exercise = {
        ask = {
          en = [[Suppose every score were equal. Under the causal mask, what weight would
word 3 (怎么样) give to word 1 (今天)?]],
          zh = [[假设所有得分都相等。在因果掩码下，第 3 个词（怎么样）给第 1 个词（今天）
的权重是多少？]],
        },
        kind = "number",
        answer = function(env)
          -- a zero query scores 0 against every key: all scores equal
          local _, w = attn.F.scaled_dot_product_attention(attn.zeros(env.T, env.d), env.X,
                                                           env.X, {causal = true, weights = true})
          return w[3][1]
        end,
        hint = {
          en = "Word 3 sees words 1, 2 and 3 only, and equal scores share the weight equally.",
          zh = "第 3 个词只能看到第 1、2、3 个词；得分相等时权重平分。",
        },
      },
    },
    {
      title = {en = "Bidirectional or causal?", zh = "双向还是因果？"},
      text = {
        en = [[
Without a mask, attention is bidirectional: every word sees the words on
both sides. That suits an encoder such as BERT, which reads a whole
sentence that is already there. A decoder such as GPT uses the causal mask:
while generating, the future does not exist yet, and in training the mask
lets it learn to predict every position at once without seeing the answer.

The test: replace the last word and see which outputs change. With the
causal mask, positions 1 to 4 cannot see position 5, so they do not move.
Without it, every position changes.]],
        zh = [[
不加掩码时，注意力是双向的：每个词都能看到左右两边的词。这适合 BERT 这样的
编码器，它读的是一个已经完整存在的句子。GPT 这样的解码器使用因果掩码：生成
时“未来”还不存在；训练时，掩码让它能一次学会预测所有位置，又不会看到答案。

检验方法：把最后一个词换掉，看哪些输出会变。有因果掩码时，位置 1 到 4 看不到
位置 5，所以不变；没有掩码时，每个位置都会变。]],
      },
      code = [[X2 = attn.cat({X:narrow(1, 1, T - 1), attn.randn(1, d)}, 1)  -- a new last word
sdpa = attn.F.scaled_dot_product_attention
change_causal = (sdpa(X, X, X, {causal = true}) - sdpa(X2, X2, X2, {causal = true}))
                :abs():max(2)
change_both = (sdpa(X, X, X) - sdpa(X2, X2, X2)):abs():max(2)
print("largest change per position, causal:       ", change_causal)
print("largest change per position, bidirectional:", change_both)]],
      exercise = {
        ask = {
          en = "When the last word changed, which outputs of causal attention stayed the same?",
          zh = "换掉最后一个词后，因果注意力的哪些输出保持不变？",
        },
        kind = "choice",
        choices = {en = {"positions 1 to 4: all but the last", "none of them", "all of them"},
                   zh = {"位置 1 到 4：除最后一个外都不变", "全都变了", "全都没变"}},
        answer = function(env)
          local same = env.change_causal:lt(1e-6)
          local n = same:sum():item()
          if n == env.T then return 3 end
          if n == 0 then return 2 end
          return (n == env.T - 1 and same[env.T] == 0) and 1 or 2
        end,
        hint = {
          en = "Read the 'causal' line: which positions show a change of 0?",
          zh = "看 causal 那一行：哪些位置的变化是 0？",
        },
      },
    },
    {
      title = {en = "Padding masks", zh = "填充掩码"},
      text = {
        en = [[
Sentences in a batch have different lengths, but a tensor is a rectangle,
so short sentences are filled up with padding ([PAD]) to the longest one.
Pads are not words: no real word should attend to them. A padding mask
keeps only the real keys of each sentence: shape [batch, 1, T], broadcast
over the queries.

Below, sentence 2 is 天气 不太好 plus three pads. With the mask, its two real
words come out exactly as if the sentence had been run alone. Without it,
the pads (zero vectors, so scores of 0) soak up weight and change the
result. Rows of the pad queries themselves are computed but thrown away
later. A decoder combines both masks: keep = causal * padding.]],
        zh = [[
一个批次里的句子长短不一，可张量必须是规整的矩形，所以短句要用填充符（[PAD]）
补到和最长的句子一样长。填充符不是词，真实的词不该注意它们。填充掩码只保留每个
句子里真实的键，形状为 [batch, 1, T]，对所有查询广播。

下面第 2 句是“天气 不太好”加三个填充符。加了掩码，两个真实词的输出和单独计算
这个短句时完全相同；不加掩码，填充符（零向量，得分为 0）会分走权重，结果就变了。
填充位置自己那几行查询也会算出来，但之后会被丢掉。解码器把两种掩码合起来用：
keep = causal * padding。]],
      },
      code = [[short = attn.randn(2, d)                                   -- 天气 不太好
padded = attn.cat({short, attn.zeros(3, d)}, 1)             -- + 3 pads
batch = attn.stack({X, padded})                             -- [2, 5, 8]
lengths = {T, 2}
rows = {}
for b = 1, 2 do
  rows[b] = {{}}
  for j = 1, T do rows[b][1][j] = j <= lengths[b] and 1 or 0 end
end
keep_pad = attn.tensor(rows)                                -- [2, 1, 5]
out_pad, w_pad = sdpa(batch, batch, batch, {mask = keep_pad, weights = true})
out_nomask, w_nomask = sdpa(batch, batch, batch, {weights = true})
alone = sdpa(short, short, short)
print("masked = alone:  ", attn.allclose(out_pad[2]:narrow(1, 1, 2), alone, 1e-5))
print("unmasked = alone:", attn.allclose(out_nomask[2]:narrow(1, 1, 2), alone, 1e-5))
print("weights of 天气 without the mask:", w_nomask[2][1])
padded_tokens = {"天气", "不太好", "PAD", "PAD", "PAD"}]],
      picture = function(env)
        return env.w_pad[2], {rows = env.padded_tokens, cols = env.padded_tokens,
                              title = {en = "sentence 2, padding masked", zh = "句子 2，遮住补齐部分"}, annotate = true,
                              vmin = 0, vmax = 1}
      end,
      exercise = {
        ask = {
          en = [[Without the mask, how much weight in total does 天气 (row 1 of sentence 2)
put on the three pads?]],
          zh = "不加掩码时，“天气”（第 2 句的第 1 行）一共给了三个填充符多少权重？",
        },
        kind = "number",
        answer = function(env) return env.w_nomask[2][1]:narrow(1, 3, 3):sum():item() end,
        hint = {
          en = "Add the last three numbers of the printed row.",
          zh = "把打印出来那一行的最后三个数加起来。",
        },
      },
    },
    {
      title = {en = "Cross-attention: encoder and decoder", zh = "交叉注意力：编码器与解码器"},
      text = {
        en = [[
In an encoder-decoder model (translation, speech to text), the decoder
also attends to the encoder's output: its queries come from the sentence
being written, its keys and values from the sentence being read. That is
cross-attention, mha(target, {context = source}). The weights are
[target length, source length]: not square, and no causal mask, because
the whole source is known from the start.

We plant it by hand. Each word is a point in four "meaning" directions:
today, weather, bad, and a fourth for little words (the, is) that have no
counterpart in the source. Queries and keys are the meanings themselves
(scaled by 10), so each English word finds its Chinese partner; "the" and
"is" find nothing and spread their weight evenly.]],
        zh = [[
在编码器-解码器模型（翻译、语音转文字）里，解码器还要注意编码器的输出：查询来自
正在生成的句子，键和值来自正在读的句子。这就是交叉注意力，写作
mha(target, {context = source})。权重的形状是 [目标长度, 源长度]：不是方阵，
也不需要因果掩码，因为整个源句子一开始就已知。

我们手工设定一个例子。每个词是四个“含义”方向中的一个：今天、天气、不好，以及
留给 the、is 这类虚词的第四个方向——它们在源句子里没有对应的词。查询和键就是
含义本身（乘以 10），于是每个英文词都能找到对应的中文词；the 和 is 找不到，
只好把权重平均分开。]],
      },
      code = [=[source = {"今天", "天气", "不太好"}
target = {"the", "weather", "today", "is", "bad"}
meaning = {["今天"] = 1, ["天气"] = 2, ["不太好"] = 3, today = 1, weather = 2, bad = 3,
           the = 4, is = 4}
function embed(words)
  local rows = {}
  for i, word in ipairs(words) do
    rows[i] = {0, 0, 0, 0}
    rows[i][meaning[word]] = 1
  end
  return attn.tensor(rows)
end
src, tgt = embed(source), embed(target)
cross = attn.nn.MultiHeadAttention{d_model = 4, n_heads = 1}
cross:load_state_dict({
  ["q_proj.weight"] = attn.eye(4) * 10, ["k_proj.weight"] = attn.eye(4),
  ["v_proj.weight"] = attn.eye(4), ["out_proj.weight"] = attn.eye(4),
  ["q_proj.bias"] = attn.zeros(4), ["k_proj.bias"] = attn.zeros(4),
  ["v_proj.bias"] = attn.zeros(4), ["out_proj.bias"] = attn.zeros(4),
})
_, w_cross = cross(tgt, {context = src, weights = true})
w_cross = w_cross[1]                                    -- the only head: [5, 3]
print("weights:", table.concat(w_cross:shape(), " x "))]=],
      picture = function(env)
        return env.w_cross, {rows = env.target, cols = env.source, title = {en = "cross-attention", zh = "交叉注意力"},
                             annotate = true, vmin = 0, vmax = 1}
      end,
      exercise = {
        ask = {
          en = "Which source word does 'today' attend to most?",
          zh = "“today”最关注源句子中的哪个词？",
        },
        kind = "choice",
        choices = {en = {"今天", "天气", "不太好"}, zh = {"今天", "天气", "不太好"}},
        answer = function(env) return env.w_cross[3]:argmax():item() end,
        hint = {
          en = "'today' is row 3 of the map.",
          zh = "“today”是图中的第 3 行。",
        },
      },
    },
    {
      title = {en = "Which mask where", zh = "什么地方用什么掩码"},
      text = {
        en = [[
To sum up, the three attentions of a Transformer and their masks:

  encoder self-attention   bidirectional; padding mask of the source
  decoder self-attention   causal, combined with the target's padding mask
  cross-attention          decoder queries, encoder keys and values;
                           padding mask of the source, no causal mask

GPT keeps only the decoder's self-attention; BERT only the encoder's.
The last picture combines two masks on sentence 2, as a decoder does: no
word sees the future, and none sees a pad (the pads' own rows are thrown
away later).]],
        zh = [[
总结一下 Transformer 中的三种注意力和各自的掩码：

  编码器自注意力：双向；使用源句子的填充掩码
  解码器自注意力：因果掩码，再加上目标句子的填充掩码
  交叉注意力：    查询来自解码器，键和值来自编码器；
                  使用源句子的填充掩码，不用因果掩码

GPT 只保留了解码器的自注意力，BERT 只保留了编码器的自注意力。最后一张图像解码器
那样，在第 2 句上同时使用两种掩码：没有词能看到未来，也没有词看到填充符（填充
位置自己的那几行之后会被丢掉）。]],
      },
      code = [[_, w_both = sdpa(batch, batch, batch,
                   {causal = true, mask = keep_pad, weights = true})
print("sentence 2, causal and padding:") print(w_both[2])]],
      picture = function(env)
        return env.w_both[2], {rows = env.padded_tokens, cols = env.padded_tokens,
                               title = {en = "causal * padding", zh = "因果 * 补齐"}, annotate = true, vmin = 0, vmax = 1}
      end,
    },
  },
}
