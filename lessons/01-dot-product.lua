-- Lesson 1: dot-product attention on the voice-assistant sentence
-- 今天 / 天气 / 怎么样 / 不太好 (seeds/000 §3.2 and §4.3).
--
-- The embeddings are set by hand so that every number can be checked on
-- paper: one-hot inputs, a 3 x 4 weight matrix and a bias give encodings
-- with small integer entries, hence integer scores.

return {
  id = "dot-product",
  title = {en = "Dot-product attention, by hand", zh = "手算点积注意力"},
  minutes = 15,
  steps = {
    {
      title = {en = "Four words, four steps", zh = "四个词，四个步骤"},
      text = {
        en = [[
You ask a voice assistant 今天天气怎么样 ("how is the weather today?") and it
answers 不太好 ("not so good"). Take the four words as one sequence:

    x = (今天 today, 天气 weather, 怎么样 how-is-it, 不太好 not-so-good)

Attention turns each word into a mixture of the words it finds relevant,
in four steps:
  1. encode   every word becomes a vector y_t
  2. score    compare every pair: A_ij = similarity(y_i, y_j)
  3. weight   softmax turns each row of scores into weights that sum to 1
  4. sum      z_t = sum over i of a_ti * y_i, a new vector for word t

This lesson does all four by hand, with numbers small enough for paper.
Variables you meet here stay in your session: after the lesson, type
their names at the prompt and poke at them.]],
        zh = [[
你问语音助手“今天天气怎么样”，它回答“不太好”。把这四个词看成一个序列：

    x = (今天, 天气, 怎么样, 不太好)

注意力机制让每个词变成“它认为相关的那些词”的混合，共分四步：
  1. 编码：每个词变成一个向量 y_t
  2. 打分：两两比较，A_ij = similarity(y_i, y_j)
  3. 加权：softmax 把每一行得分变成和为 1 的权重
  4. 求和：z_t = Σ_i a_ti · y_i，得到第 t 个词的新向量

这一课四步都手算，数字小到可以在纸上验证。课上定义的变量会留在你的会话里，
学完后可以在提示符下直接输入变量名，继续摆弄。]],
      },
      code = [[tokens = {"今天", "天气", "怎么样", "不太好"}
print(#tokens .. " tokens: " .. table.concat(tokens, " / "))]],
    },
    {
      title = {en = "Encode", zh = "编码"},
      text = {
        en = [[
The document encodes each word with a linear map, y_t = W x_t + b.
We write each input x_t as a one-hot vector (a 1 in position t), so
W x_t is simply column t of W: a linear map of one-hot inputs is an
embedding table. The bias b adds the same vector to every word.

W is 3 x 4 (three features out, four one-hot inputs in), so every y_t
has 3 numbers. attn.F.linear(x, W, b) computes x W^T + b for all rows of
x at once: row t of y is the encoding of word t.]],
        zh = [[
原文用线性变换给每个词编码：y_t = W x_t + b。我们把输入 x_t 写成独热向量
（第 t 位是 1，其余是 0），于是 W x_t 正好是 W 的第 t 列——对独热输入做线性
变换，其实就是查一张词向量表。偏置 b 给每个词加上同一个向量。

W 是 3×4 的矩阵（输出 3 个特征，输入 4 维独热向量），所以每个 y_t 有 3 个数。
attn.F.linear(x, W, b) 对 x 的所有行一次算出 x Wᵀ + b：y 的第 t 行就是第 t
个词的编码。]],
      },
      code = [[x = attn.eye(4)                 -- one-hot inputs: row t is word t
W = attn.tensor{{1, 1, 0, 0},
                {0, 1, 0, 0},
                {0, 1, 1, 2}}       -- [3, 4]: column t encodes word t
b = attn.tensor{0, 1, 0}
y = attn.F.linear(x, W, b)      -- y_t = W x_t + b, one row per word
print(y)]],
      exercise = {
        ask = {
          en = [[Suppose column 4 of W, the one for 不太好, were {1, 0, 1} instead.
What would the encoding y of 不太好 be? Type it as a Lua list, e.g. {1, 2, 3}.]],
          zh = [[假设 W 的第 4 列（“不太好”那一列）换成 {1, 0, 1}，“不太好”的编码 y
会是什么？请写成 Lua 列表，例如 {1, 2, 3}。]],
        },
        kind = "tensor",
        answer = function(env)
          local W2 = env.W:clone()
          W2:set(1, 4, 1)
          W2:set(2, 4, 0)
          W2:set(3, 4, 1)
          return attn.F.linear(env.x[4], W2, env.b)
        end,
        hint = {
          en = "With a one-hot x_4, W x_4 is column 4 of W; then add b: {1, 0, 1} + {0, 1, 0}.",
          zh = "x_4 是独热向量，所以 W x_4 就是 W 的第 4 列；再加上 b：{1, 0, 1} + {0, 1, 0}。",
        },
      },
    },
    {
      title = {en = "Score", zh = "打分"},
      text = {
        en = [[
Now compare every word with every other one. The simplest similarity is
the dot product: A_ij = y_i . y_j, the sum of the products of matching
entries. All sixteen scores at once are one matrix product, A = Y Y^T.

(The document writes A_ij = x_i . y_j, mixing the raw input of one word
with the encoding of the other. That is a valid score too, but the usual
choice, and ours, compares encodings with encodings.)

Row i holds how well word i matches each word. Look at row 1 (今天):
it scores 3 with 天气 but only 2 with itself.]],
        zh = [[
接下来把每个词和其他每个词比较。最简单的相似度是点积：A_ij = y_i · y_j，
即对应位置相乘再相加。十六个得分可以用一次矩阵乘法一起算出：A = Y Yᵀ。

（原文写的是 A_ij = x_i · y_j，把一个词的原始输入和另一个词的编码混在一起。
这样打分也可以，但常见的做法——也是我们的做法——是编码和编码比较。）

第 i 行表示第 i 个词和各个词的匹配程度。看第 1 行（今天）：它和“天气”的
得分是 3，和自己反而只有 2。]],
      },
      code = [[A = y:matmul(y:T())            -- [4, 4]: A[i][j] = y_i . y_j
print(A)]],
    },
    {
      title = {en = "Weigh with softmax", zh = "用 softmax 算权重"},
      text = {
        en = [[
Scores can be any size and sign; weights should be positive and sum to 1.
Softmax does exactly that, row by row:

    a_ij = exp(A_ij) / (exp(A_i1) + exp(A_i2) + exp(A_i3) + exp(A_i4))

A score one larger than another gets e = 2.718... times the weight.
A:softmax(2) applies it along dimension 2, i.e. within each row. The code
prints only row 1: the exercise asks for another row.]],
        zh = [[
得分可大可小，可正可负；权重却应该是正数，而且和为 1。softmax 逐行做的就是
这件事：

    a_ij = exp(A_ij) / (exp(A_i1) + exp(A_i2) + exp(A_i3) + exp(A_i4))

得分每高 1，权重就是对方的 e ≈ 2.718 倍。A:softmax(2) 沿第 2 维（也就是每一
行之内）做 softmax。代码只打印第 1 行，另一行留给下面的练习。]],
      },
      code = [[weights = A:softmax(2)
print("row 1 (今天):", weights[1])
print("row sums:", weights:sum(2))]],
      exercise = {
        ask = {
          en = [[Now by hand: the scores of row 3 (怎么样) are A[3] = {1, 3, 2, 3}.
Compute its four softmax weights and type them as a list {a, b, c, d}.
(You may type expressions, e.g. math.exp(1) / 50.)]],
          zh = [[现在手算：第 3 行（怎么样）的得分是 A[3] = {1, 3, 2, 3}。算出这一行的
四个 softmax 权重，写成列表 {a, b, c, d}。（可以直接写表达式，例如 math.exp(1) / 50。）]],
        },
        kind = "tensor",
        tol = 2e-3,
        answer = function(env) return env.A[3]:softmax(1) end,
        hint = {
          en = [[exp(1) = 2.718, exp(2) = 7.389, exp(3) = 20.09; their row sum is
2.718 + 20.09 + 7.389 + 20.09 = 50.28. Divide each by it.]],
          zh = [[exp(1) = 2.718，exp(2) = 7.389，exp(3) = 20.09；这一行的和是
2.718 + 20.09 + 7.389 + 20.09 = 50.28，每一项都除以它。]],
        },
      },
    },
    {
      title = {en = "Sum with the weights", zh = "加权求和"},
      text = {
        en = [[
Each word's new vector is the weighted average of all encodings:
z_t = sum over i of a_ti y_i. For all words at once, z = weights Y.

The document writes this step twice: first a_t = softmax(A) . y, then
z_t = sum a_ti y_i. Read literally, the first already multiplies by y, so
the second would weight a second time. Only one is needed: the weights
a_t are row t of softmax(A), and z_t is their weighted sum of the y_i.]],
        zh = [[
每个词的新向量是所有编码的加权平均：z_t = Σ_i a_ti · y_i。对所有词一起算，
就是 z = weights · Y。

原文把这一步写了两遍：先写 a_t = softmax(A) · y，再写 z_t = Σ a_ti y_i。
照字面理解，第一个式子已经乘过 y 了，第二个式子等于又加权了一次。其实只需要
一步：权重 a_t 是 softmax(A) 的第 t 行，z_t 就是用这些权重对 y_i 求的加权和。]],
      },
      code = [[z = weights:matmul(y)           -- [4, 3]: row t is z_t
print(z)
-- the same for word 3, written as the sum
z3 = weights[3][1] * y[1] + weights[3][2] * y[2] + weights[3][3] * y[3]
     + weights[3][4] * y[4]
print("z_3 as a sum:", z3)]],
    },
    {
      title = {en = "The picture", zh = "画成热力图"},
      text = {
        en = [[
The weights as a heatmap: row = the word that looks (the query), column =
the word it looks at. Bright cells are large weights.

Look at row 1: 今天 looks at 天气 more than at itself. Why? 天气's vector
{1, 2, 1} is the longest of the four, and a dot product grows with length,
so 天气 wins rows 1 to 3 (row 3 shares it with 不太好). The next step asks
whether that is what we want.]],
        zh = [[
把权重画成热力图：行是“发出注意的词”（查询），列是“被注意的词”。格子越亮，
权重越大。

看第 1 行：“今天”看“天气”比看自己还多。为什么？“天气”的向量 {1, 2, 1} 是四个
里最长的，而点积会随向量长度变大，所以前三行都是“天气”得分最高（第 3 行与“不太好”
并列）。下一步讨论这是不是我们想要的。]],
      },
      picture = function(env)
        return env.weights, {rows = env.tokens, cols = env.tokens,
                             title = "softmax(Y Y^T)", annotate = true}
      end,
    },
    {
      title = {en = "Dot product or cosine?", zh = "点积还是余弦？"},
      text = {
        en = [[
Cosine similarity divides the dot product by both lengths:
cos(y_i, y_j) = y_i . y_j / (|y_i| |y_j|). It keeps the direction and
forgets the length, so a word is always most similar to itself (cos = 1).

attn.F.attention(q, k, v, {score = "cosine"}) computes attention with
cosine scores; it returns the output, the weights and the raw scores.
Compare row 1 (今天) under both scores.

Note how flat the cosine weights are: cosines lie in [-1, 1], so softmax
can never make a weight more than e^2 = 7.4 times another. Models that use
cosine multiply it by a learned scale (one over a "temperature"); lesson 3
plays with temperatures.]],
        zh = [[
余弦相似度把点积除以两个向量的长度：cos(y_i, y_j) = y_i · y_j / (|y_i| |y_j|)。
它只看方向、不看长度，所以一个词和自己最相似（cos = 1）。

attn.F.attention(q, k, v, {score = "cosine"}) 用余弦得分计算注意力，返回输出、
权重和原始得分。比较一下两种得分下第 1 行（今天）的权重。

注意余弦权重有多“平”：余弦值在 [-1, 1] 之间，softmax 之后任意两个权重之比
不会超过 e² ≈ 7.4。用余弦打分的模型通常会再乘上一个可学习的放大系数（也就是
除以一个“温度”），第 3 课会讲到温度。]],
      },
      code = [[_, weights_cos, cos = attn.F.attention(y, y, y, {score = "cosine"})
print("cosine scores:")
print(cos)
print("row 1 (今天), dot:   ", weights[1])
print("row 1 (今天), cosine:", weights_cos[1])]],
      picture = function(env)
        return env.weights_cos, {rows = env.tokens, cols = env.tokens,
                                 title = "softmax(cosine)", annotate = true}
      end,
      exercise = {
        ask = {
          en = "With cosine scores, which word does 今天 (row 1) give the largest weight?",
          zh = "用余弦打分时，“今天”（第 1 行）给哪个词的权重最大？",
        },
        kind = "choice",
        choices = {en = {"今天 (itself)", "天气", "怎么样", "不太好"},
                   zh = {"今天（它自己）", "天气", "怎么样", "不太好"}},
        answer = function(env) return env.weights_cos[1]:argmax():item() end,
        hint = {
          en = "A vector's cosine with itself is 1, the largest a cosine can be.",
          zh = "向量和自身的余弦是 1，这是余弦能取到的最大值。",
        },
      },
    },
    {
      title = {en = "Layer after layer", zh = "一层接一层"},
      text = {
        en = [[
The document notes that z can be fed in again, layer after layer. Try it:
use z as the new encodings and attend once more. With nothing but
averaging, the rows grow more alike each time (every z_t is a mixture of
the same vectors). Real layers add learned projections, a residual path
and a feed-forward network, so information is not simply smoothed away:
lesson 2 starts on the projections.

Things to try at the prompt after the lesson: compare weights with
weights_cos; change y (say y = attn.tensor{{1,1,0},{1,1,1},{0,1,1},{0,1,2}})
and recompute A = y:matmul(y:T()) and A:softmax(2) yourself.]],
        zh = [[
原文提到，z 可以作为输入再算一遍，一层接一层。试试看：把 z 当作新的编码，再做
一次注意力。如果只有求平均，每过一层各行就更相似一些（每个 z_t 都是同一组向量
的混合）。真实的网络层还有可学习的投影、残差连接和前馈网络，信息不会被简单地
抹平——第 2 课就从投影讲起。

学完后可以在提示符下试试：比较 weights 和 weights_cos；换一组 y（比如
y = attn.tensor{{1,1,0},{1,1,1},{0,1,1},{0,1,2}}），自己重新算
A = y:matmul(y:T()) 和 A:softmax(2)。]],
      },
      code = [[z2 = z:matmul(z:T()):softmax(2):matmul(z)
print("layer 1:")
print(z)
print("layer 2:")
print(z2)]],
    },
  },
}
