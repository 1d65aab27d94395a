-- Lesson 2: queries, keys and values; the 1/sqrt(d) scaling, measured; the
-- output projection; and the two slips of seeds/001 §4.3 (X A for A X, and
-- softmax applied twice).

return {
  id = "qkv",
  title = {en = "Queries, keys, values and the 1/√d scale", zh = "查询、键、值与 1/√d 缩放"},
  minutes = 20,
  steps = {
    {
      title = {en = "Three roles for one word", zh = "一个词的三种角色"},
      text = {
        en = [[
In lesson 1 each word used one vector y for everything: to ask, to be
found, and to be averaged. A word plays three different roles, and
Transformers give each role its own learned projection of the input X:

    Q = X W_Q   the query: what this word is looking for
    K = X W_K   the key: what this word offers, matched against queries
    V = X W_V   the value: what this word hands over when it is chosen

X has one row per word ([n, d_model]); each W is [d_model, d_k]. Here the
four words get random 8-number embeddings and random projections, the way
a model starts before training.]],
        zh = [[
第 1 课里每个词只有一个向量 y，既用来提问，又用来被找到，还用来被平均。其实
一个词扮演三种不同的角色，Transformer 为每种角色各学一个输入 X 的投影：

    Q = X W_Q   查询（query）：这个词在找什么
    K = X W_K   键（key）：这个词凭什么被别人找到
    V = X W_V   值（value）：这个词被选中时交出去的内容

X 每行对应一个词（形状 [n, d_model]），每个 W 的形状是 [d_model, d_k]。这里
给四个词随机的 8 维词向量和随机的投影矩阵，就像训练开始前的模型。]],
      },
      code = [[attn.seed(1)
tokens = {"今天", "天气", "怎么样", "不太好"}
d_model, d_k = 8, 8
X = attn.randn(4, d_model)                          -- one row per word
W_Q = attn.randn(d_model, d_k) / math.sqrt(d_model)
W_K = attn.randn(d_model, d_k) / math.sqrt(d_model)
W_V = attn.randn(d_model, d_k) / math.sqrt(d_model)
Q, K, V = X:matmul(W_Q), X:matmul(W_K), X:matmul(W_V)
print("Q:") print(Q)]],
    },
    {
      title = {en = "Scores, weights, output", zh = "得分、权重、输出"},
      text = {
        en = [[
Scores compare queries with keys: S = Q K^T / √d_k, then A = softmax(S)
row by row, then the output is A V. This is the scaled dot-product
attention of "Attention Is All You Need"; attn.F.scaled_dot_product_attention
does the same in one call (and, without weights=true, in a fused kernel
that never stores A). The two agree.

Note that S is not symmetric any more: word i's query against word j's key
is not word j's query against word i's key.]],
        zh = [[
得分用查询去比较键：S = Q Kᵀ / √d_k，然后逐行 A = softmax(S)，输出是 A V。
这就是《Attention Is All You Need》中的缩放点积注意力；
attn.F.scaled_dot_product_attention 一次调用就能完成同样的计算（不要求返回权重
即不写 weights=true 时，走的是融合内核，根本不存储 A）。两者结果一致。

注意 S 不再对称了：词 i 的查询对词 j 的键，不等于词 j 的查询对词 i 的键。]],
      },
      code = [[raw = Q:matmul(K:T())                    -- [4, 4] dot products q_i . k_j
S = raw / math.sqrt(d_k)
A = S:softmax(2)
out = A:matmul(V)
out2, A2 = attn.F.scaled_dot_product_attention(Q, K, V, {weights = true})
print("raw scores Q K^T:") print(raw)
print("same as the library:", attn.allclose(out, out2, 1e-5), attn.allclose(A, A2, 1e-5))]],
      picture = function(env)
        return env.A, {rows = env.tokens, cols = env.tokens, title = "softmax(Q K^T / sqrt(d_k))",
                       annotate = true, vmin = 0, vmax = 1}
      end,
      exercise = {
        ask = {
          en = [[The raw score of query 1 against key 2 is printed above (row 1, column 2).
What is the scaled score S[1][2]?]],
          zh = [[上面打印了查询 1 对键 2 的原始得分（第 1 行第 2 列）。
缩放后的得分 S[1][2] 是多少？]],
        },
        kind = "number",
        answer = function(env) return env.S:get(1, 2) end,
        hint = {
          en = "Divide it by √d_k = √8 ≈ 2.828 (you may type raw:get(1, 2) / math.sqrt(8)).",
          zh = "把它除以 √d_k = √8 ≈ 2.828（也可以直接输入 raw:get(1, 2) / math.sqrt(8)）。",
        },
      },
    },
    {
      title = {en = "Why divide by √d? Measure it", zh = "为什么除以 √d？测一测"},
      text = {
        en = [[
If the entries of q and k are independent with mean 0 and variance 1, then
q . k is a sum of d such products, so its variance is d and its standard
deviation √d. Scores of 30 or 40 make softmax put almost all weight on one
key (it "saturates"), and a saturated softmax passes almost no gradient
back: the model stops learning where to look.

The code draws 500 random queries against 16 random keys for each d, and
measures: the spread of the scores, the average largest weight without
and with the 1/√d scale, and the size of the gradient that reaches the
scores. Without scaling, as d grows, the largest weight creeps towards 1
and the gradient shrinks; with the scale, both stay put.]],
        zh = [[
如果 q 和 k 的每个分量相互独立、均值为 0、方差为 1，那么 q · k 是 d 个这样的
乘积之和，方差是 d，标准差是 √d。得分一旦到了 30、40，softmax 就会把几乎全部
权重压到一个键上（称为“饱和”）；而饱和的 softmax 几乎传不回梯度，模型也就学
不会该看哪里了。

下面的代码对每个 d 取 500 个随机查询，各自对 16 个随机键打分，测量：得分的离散
程度、不缩放和按 1/√d 缩放时平均的最大权重，以及传回得分的梯度大小。不缩放时，
随着 d 变大，最大权重逼近 1，梯度越来越小；缩放后两者都基本不变。]],
      },
      code = [[attn.seed(2)
dims = {4, 16, 64, 256, 1024}
-- how much gradient reaches the scores when we ask to move weight 1
function grad_size(scores)
  local s = scores:detach():requires_grad(true)
  s:softmax(-1):select(-1, 1):sum():backward()
  return s.grad:abs():mean():item()
end
print("    d   std(q.k)   max weight: raw   scaled    gradient: raw     scaled")
for _, d in ipairs(dims) do
  local q, k = attn.randn(500, 1, d), attn.randn(500, 16, d)
  local s = q:matmul(k:transpose(2, 3)):reshape(500, 16)   -- 500 rows of 16 scores
  local scaled = s / math.sqrt(d)
  print(("%5d   %8.2f   %15.3f   %6.3f   %14.2e   %8.2e"):format(d,
        s:pow(2):mean():sqrt():item(),
        s:softmax(-1):max(-1):mean():item(), scaled:softmax(-1):max(-1):mean():item(),
        grad_size(s), grad_size(scaled)))
end]],
      exercise = {
        ask = {
          en = [[Theory says std(q . k) = √d. What does it predict for d = 256?
(Compare with the measured column.)]],
          zh = "理论上 std(q · k) = √d。d = 256 时理论值是多少？（和测量值那一列比一比。）",
        },
        kind = "number",
        answer = function(env) return math.sqrt(env.dims[4]) end,
        hint = {en = "√256 = ?", zh = "√256 等于多少？"},
      },
    },
    {
      title = {en = "The output projection W_O", zh = "输出投影 W_O"},
      text = {
        en = [[
The weighted values A V are mapped once more, Y = (A V) W_O, back to
d_model numbers per word. (The document writes Y = X_A W_O.) With one head
W_O looks redundant; it earns its place with several heads (lesson 4),
where it mixes what the heads found. Y has the shape of X, so a layer's
output can be added to its input (the residual path) and fed to the next
layer.]],
        zh = [[
加权后的值 A V 还要再做一次映射：Y = (A V) W_O，变回每个词 d_model 个数
（原文写作 Y = X_A W_O）。只有一个头时 W_O 看起来多余；到了多头（第 4 课），
它负责把各个头找到的信息混合起来。Y 和 X 形状相同，所以一层的输出可以加回
它的输入（残差连接），再送进下一层。]],
      },
      code = [[W_O = attn.randn(d_k, d_model) / math.sqrt(d_k)
Y = out:matmul(W_O)
print("X:", table.concat(X:shape(), "x"), " Y:", table.concat(Y:shape(), "x"))]],
    },
    {
      title = {en = "A slip in the document: X·A or A·X?", zh = "原文的笔误：X·A 还是 A·X？"},
      text = {
        en = [[
The document computes the weighted sum as X_A = X A. Check the shapes:
X is [n, d] = [4, 8] and A is [n, n] = [4, 4]. X A does not even multiply
(inner sizes 8 and 4). A X does, giving [4, 8]: row i of A X is
sum over j of A_ij X_j, word i's weighted average of the words' rows.
That is what attention means.

When n = d the wrong product multiplies without complaint, which is how
such slips survive. The code makes a square example and compares both
products with the weighted sum written out for word 1.
(The document also has no W_V: it averages X itself. With values, the
product is A V, as in the previous steps.)]],
        zh = [[
原文把加权和写成 X_A = X A。核对一下形状：X 是 [n, d] = [4, 8]，A 是
[n, n] = [4, 4]。X A 根本乘不了（内侧维度 8 和 4 不相等）；A X 可以，结果是
[4, 8]：A X 的第 i 行等于 Σ_j A_ij X_j，即第 i 个词对各词向量的加权平均——
这才是注意力的含义。

当 n = d 时，错误的乘法也能顺利算出结果，这类笔误就是这样混过去的。下面的代码
构造一个方阵的例子，把两种乘法都和“第 1 个词的加权和”逐项展开的结果比较。
（原文也没有 W_V，直接对 X 求平均；有了值向量，乘积就是前面的 A V。）]],
      },
      code = [[print(pcall(function() return X:matmul(A) end))     -- [4, 8] x [4, 4]
print("A X is", table.concat(A:matmul(X):shape(), "x"))
X4 = attn.randn(4, 4)                                -- square: n = d = 4
A4 = X4:matmul(X4:T()):softmax(2)
by_hand = A4[1][1] * X4[1] + A4[1][2] * X4[2] + A4[1][3] * X4[3] + A4[1][4] * X4[4]
print("word 1 by hand:", by_hand)
print("row 1 of A X:  ", A4:matmul(X4)[1])
print("row 1 of X A:  ", X4:matmul(A4)[1])]],
      exercise = {
        ask = {
          en = "Which product gives each word the weighted average of the words' rows?",
          zh = "哪一种乘法给出的是“每个词对各词向量的加权平均”？",
        },
        kind = "choice",
        choices = {en = {"X·A", "A·X", "both: they are equal"},
                   zh = {"X·A", "A·X", "两者都是：它们相等"}},
        answer = function(env)
          local AX = env.A4:matmul(env.X4)[1]
          local XA = env.X4:matmul(env.A4)[1]
          local ax_ok = attn.allclose(AX, env.by_hand, 1e-5)
          local xa_ok = attn.allclose(XA, env.by_hand, 1e-5)
          if ax_ok and xa_ok then return 3 end
          return ax_ok and 2 or 1
        end,
        hint = {
          en = "Compare the rows printed above with 'word 1 by hand'.",
          zh = "把上面打印的两行和“word 1 by hand”那一行比一比。",
        },
      },
    },
    {
      title = {en = "Another slip: softmax twice", zh = "另一处笔误：两次 softmax"},
      text = {
        en = [[
The document also writes S = softmax(Q K^T + b) and then A = softmax(S):
softmax applied twice. The first softmax leaves numbers between 0 and 1,
so the second one sees scores that differ by at most 1: no weight can be
more than e ≈ 2.72 times another, and the map goes nearly flat, whatever
the queries and keys say. Attention applies softmax once, to the scores.

(The bias b: one number added to a whole row of scores changes nothing,
since softmax ignores shifts; one number per key acts as a prior that
favours some keys for every query.)]],
        zh = [[
原文还写了 S = softmax(Q Kᵀ + b)，然后 A = softmax(S)：softmax 用了两次。
第一次 softmax 之后所有数都在 0 和 1 之间，第二次看到的得分相差最多 1：任何
权重都不会超过另一个的 e ≈ 2.72 倍，无论查询和键说了什么，整张图都几乎是平的。
注意力只对得分做一次 softmax。

（关于偏置 b：给一整行得分加上同一个数，结果不变，因为 softmax 对平移不敏感；
每个键各加一个数，则相当于一个先验，对所有查询都偏向某些键。）]],
      },
      code = [[A_once = S:softmax(2)
A_twice = A_once:softmax(2)                -- the document's double softmax
print("once:")  print(A_once)
print("twice:") print(A_twice)
print(("largest weight once: %.4f   twice: %.4f"):format(A_once:max():item(),
                                                       A_twice:max():item()))
print("a shift of every score by 5 changes nothing:",
      attn.allclose((S + 5):softmax(2), A_once, 1e-6))]],
      picture = function(env)
        return env.A_twice, {rows = env.tokens, cols = env.tokens, title = "softmax(softmax(S))",
                             annotate = true, vmin = 0, vmax = 1}
      end,
      exercise = {
        ask = {
          en = [[With n = 4 keys, the largest weight a double softmax can ever give is
reached when the first softmax puts 1 on one key and 0 on the other three:
e / (e + 3). Compute it.]],
          zh = [[有 n = 4 个键时，两次 softmax 能给出的最大权重出现在第一次 softmax 把 1
全给一个键、其余三个都是 0 的时候：e / (e + 3)。算一算它是多少。]],
        },
        kind = "number",
        answer = function(env)
          local n = env.K:size(1)
          return math.exp(1) / (math.exp(1) + (n - 1))
        end,
        hint = {
          en = "e ≈ 2.718, so the denominator is about 5.718 (math.exp(1) gives e).",
          zh = "e ≈ 2.718，所以分母约为 5.718（math.exp(1) 就是 e）。",
        },
      },
    },
  },
}
