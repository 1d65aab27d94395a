-- Lesson 4: multi-head attention (seeds/000 §3.2 step 4, seeds/002 Q2):
-- split into heads, one map per head, concatenation and W_O. Two heads are
-- planted by hand so that they visibly do different things: one looks at
-- the previous word (from positions), one at other copies of the same word
-- (from content).

return {
  id = "multi-head",
  title = {en = "Multi-head attention", zh = "多头注意力"},
  minutes = 20,
  steps = {
    {
      title = {en = "Why more than one head", zh = "为什么要不止一个头"},
      text = {
        en = [[
One softmax row is one way of looking: it spreads a single unit of weight
over the words. But a word relates to its sentence in several ways at
once: which word came just before it, where else it occurs, which word is
its subject... Multi-head attention runs several attentions side by side:

  1. split   Q, K, V of width d_model are cut into H heads of d_model/H
  2. attend  each head computes its own weights and output
  3. concat  the H outputs are put side by side again (width d_model)
  4. mix     the output projection W_O mixes what the heads found

Our sentence: 我 喜欢 猫 ， 你 喜欢 狗 ("I like cats, you like dogs")
without the comma, six words. Each word gets 4 numbers: two for its
meaning (the content: a direction, one per distinct word, so both 喜欢 get
the same one) and two for its position (a point that turns 45° per word).]],
        zh = [[
一行 softmax 只代表一种“看法”：把一份权重分给各个词。可是一个词和句子的关系
往往有好几种：紧挨在它前面的是哪个词、它在别处有没有出现、它的主语是谁……
多头注意力就是把几组注意力并排运行：

  1. 拆分：把宽度为 d_model 的 Q、K、V 切成 H 个头，每个头 d_model/H 个数
  2. 注意：每个头各自计算权重和输出
  3. 拼接：把 H 个输出重新并排拼起来（宽度回到 d_model）
  4. 混合：输出投影 W_O 把各个头找到的信息混合起来

例句是“我 喜欢 猫，你 喜欢 狗”，去掉逗号共六个词。每个词用 4 个数表示：两个
表示词义（内容，每个不同的词一个方向，所以两个“喜欢”方向相同），两个表示位置
（一个点，每往后一个词转 45°）。]],
      },
      code = [[tokens = {"我", "喜欢", "猫", "你", "喜欢", "狗"}
angle = {["我"] = 0, ["你"] = 72, ["喜欢"] = 144, ["猫"] = 216, ["狗"] = 288}
step = math.pi / 4                           -- positions turn 45° per word
rows = {}
for t, word in ipairs(tokens) do
  local a = math.rad(angle[word])
  rows[t] = {math.cos(a), math.sin(a), math.cos(step * t), math.sin(step * t)}
end
X = attn.tensor(rows)                        -- [6, 4]: content 1-2, position 3-4
-- show(t): a 2-d tensor with two decimals (plain print switches to
-- scientific notation when tiny and large numbers meet)
function show(t)
  for _, row in ipairs(t:table()) do
    local cells = {}
    for j, x in ipairs(row) do cells[j] = ("%6.2f"):format(x) end
    print(table.concat(cells, " "))
  end
end
show(X)]],
    },
    {
      title = {en = "Two heads, set by hand", zh = "手工设定两个头"},
      text = {
        en = [[
attn.nn.MultiHeadAttention{d_model = 4, n_heads = 2} has four linear
layers, q_proj, k_proj, v_proj and out_proj, each 4 x 4 with a bias.
Head 1 uses output numbers 1-2 of each projection, head 2 numbers 3-4.
We set the weights ourselves instead of training them:

  head 1  query = word i's position turned back 45°, key = position:
          so q_i . k_j is largest when j = i - 1, the previous word;
  head 2  query = key = the content: q_i . k_j is largest when word j
          is the same word as word i.

Both queries are multiplied by 20 to make the softmax sharp. The values
and W_O are the identity, so the output shows what each head copied.]],
        zh = [[
attn.nn.MultiHeadAttention{d_model = 4, n_heads = 2} 含有四个线性层：
q_proj、k_proj、v_proj 和 out_proj，每个都是 4×4 外加偏置。头 1 使用每个投影
输出的第 1、2 个数，头 2 使用第 3、4 个数。这里不训练，直接手工设定权重：

  头 1：查询 = 把第 i 个词的位置往回转 45°，键 = 位置本身，
        所以 j = i - 1（前一个词）时 q_i · k_j 最大；
  头 2：查询和键都取词义，所以第 j 个词和第 i 个词相同时 q_i · k_j 最大。

两个头的查询都乘以 20，让 softmax 更尖锐。值投影和 W_O 都取单位矩阵，这样
输出直接显示每个头复制了什么。]],
      },
      code = [[mha = attn.nn.MultiHeadAttention{d_model = 4, n_heads = 2}
c, s, beta = math.cos(step), math.sin(step), 20
mha:load_state_dict({
  -- rows 1-2: head 1 (position turned back one step), rows 3-4: head 2 (content)
  ["q_proj.weight"] = attn.tensor{{0, 0, beta * c, beta * s}, {0, 0, -beta * s, beta * c},
                                  {beta, 0, 0, 0}, {0, beta, 0, 0}},
  ["k_proj.weight"] = attn.tensor{{0, 0, 1, 0}, {0, 0, 0, 1}, {1, 0, 0, 0}, {0, 1, 0, 0}},
  ["v_proj.weight"] = attn.eye(4), ["out_proj.weight"] = attn.eye(4),
  ["q_proj.bias"] = attn.zeros(4), ["k_proj.bias"] = attn.zeros(4),
  ["v_proj.bias"] = attn.zeros(4), ["out_proj.bias"] = attn.zeros(4),
})
print(mha)]],
      exercise = {
        ask = {
          en = [[Ours has 80 parameters (printed above). How many would
MultiHeadAttention{d_model = 8, n_heads = 4} have?]],
          zh = [[我们这个模块有 80 个参数（见上面的打印）。
MultiHeadAttention{d_model = 8, n_heads = 4} 会有多少个参数？]],
        },
        kind = "number",
        answer = function()
          return attn.nn.MultiHeadAttention{d_model = 8, n_heads = 4}:num_parameters()
        end,
        hint = {
          en = [[Four linear layers, each a d x d weight plus a bias of d: 4 x (4 x 4 + 4) = 80
for d = 4. The number of heads adds nothing: the heads only split the layers.]],
          zh = [[四个线性层，每个是 d×d 的权重加 d 个偏置：d = 4 时是 4×(4×4 + 4) = 80。
头数不增加参数：分头只是把这些层切开。]],
        },
      },
    },
    {
      title = {en = "Head 1: the previous word", zh = "头 1：前一个词"},
      text = {
        en = [[
mha(X, {weights = true}) returns the output and the weights of every
head, [heads, T, T]. Head 1 puts almost all of each row on the word just
before. The first word has no previous word, so it falls back on itself.
Heads like this are found in real trained models (lesson 9 looks for one):
they let the next layer know what came just before.]],
        zh = [[
mha(X, {weights = true}) 返回输出以及每个头的权重，形状是 [heads, T, T]。
头 1 几乎把每一行的权重都给了前一个词。第一个词前面没有词，只好看自己。
真实训练出来的模型里也能找到这样的头（第 9 课会去找）：它让下一层知道
前面紧挨着的是什么。]],
      },
      code = [[y, w = mha(X, {weights = true})
print("weights:", table.concat(w:shape(), " x "))
print("head 1:") show(w[1])]],
      picture = function(env)
        return env.w[1], {rows = env.tokens, cols = env.tokens, title = {en = "head 1: previous word", zh = "头 1：前一个词"},
                          annotate = true, vmin = 0, vmax = 1}
      end,
    },
    {
      title = {en = "Head 2: the same word", zh = "头 2：相同的词"},
      text = {
        en = [[
Head 2 ignores positions and matches meanings: each word looks at itself,
and the second 喜欢 splits its weight between both copies of 喜欢. Where
head 1 copied the previous word's content, head 2 copies positions: in
row 5 of the output, numbers 3-4 (head 2's share) are the average of the
positions of the two 喜欢.

Same input, same kind of computation, two different relations: that is
what the heads are for.]],
        zh = [[
头 2 不看位置，只比较词义：每个词都看自己，而第二个“喜欢”把权重平分给两个
“喜欢”。头 1 复制的是前一个词的词义，头 2 复制的则是位置：输出第 5 行的第 3、4
个数（属于头 2 的部分）正是两个“喜欢”位置的平均。

输入相同，计算方式相同，却抓住了两种不同的关系——这正是多个头的用处。]],
      },
      code = [[print("head 2:") show(w[2])
print("output (head 1 -> numbers 1-2, head 2 -> numbers 3-4):") show(y)]],
      picture = function(env)
        return env.w[2], {rows = env.tokens, cols = env.tokens, title = {en = "head 2: same word", zh = "头 2：同一个词"},
                          annotate = true, vmin = 0, vmax = 1}
      end,
      exercise = {
        ask = {
          en = "Which head links the second 喜欢 (word 5) to the first one (word 2)?",
          zh = "哪个头把第二个“喜欢”（第 5 个词）和第一个“喜欢”（第 2 个词）联系起来？",
        },
        kind = "choice",
        choices = {en = {"head 1", "head 2", "neither"}, zh = {"头 1", "头 2", "都没有"}},
        answer = function(env)
          local h1, h2 = env.w[1][5][2], env.w[2][5][2]
          if math.max(h1, h2) < 0.1 then return 3 end
          return h1 > h2 and 1 or 2
        end,
        hint = {
          en = "Look at row 5, column 2 in each head's map.",
          zh = "看每个头的图中第 5 行第 2 列。",
        },
      },
    },
    {
      title = {en = "Inside: split, attend, concat, W_O", zh = "拆开看：拆分、注意、拼接、W_O"},
      text = {
        en = [[
Now the same computation by hand, to see there is no magic. The
projections give Q, K, V of shape [6, 4]. Reshaping to [6, 2, 2] cuts
every row into 2 heads of 2 numbers; transposing gives [2, 6, 2], one
[6, 2] matrix per head. scaled_dot_product_attention works on the last two
dimensions, so it attends in both heads at once (and scales by 1/√2, the
head width). Transposing back and reshaping to [6, 4] is the
concatenation; out_proj is W_O. Both the weights and the output match the
module's.]],
        zh = [[
下面手工重做一遍，看看其中没有任何魔法。三个投影得到形状为 [6, 4] 的 Q、K、V；
reshape 成 [6, 2, 2] 就把每一行切成 2 个头、每头 2 个数；再转置成 [2, 6, 2]，
每个头一个 [6, 2] 矩阵。scaled_dot_product_attention 只作用于最后两维，所以
两个头同时计算（缩放因子是 1/√2，即每个头的宽度）。转置回来再 reshape 成
[6, 4] 就是拼接；out_proj 就是 W_O。权重和输出都与模块的结果一致。]],
      },
      code = [[Q = mha.q_proj(X)
K = mha.k_proj(X)
V = mha.v_proj(X)
function split(t) return t:reshape(6, 2, 2):transpose(1, 2) end   -- [6,4] -> [2,6,2]
heads_out, heads_w = attn.F.scaled_dot_product_attention(split(Q), split(K), split(V),
                                                         {weights = true})
concat = heads_out:transpose(1, 2):reshape(6, 4)                   -- [2,6,2] -> [6,4]
y_by_hand = mha.out_proj(concat)
print("weights match:", attn.allclose(heads_w, w, 1e-5))
print("output matches:", attn.allclose(y_by_hand, y, 1e-5))]],
      exercise = {
        ask = {
          en = [[With d_model = 768 and 12 heads (GPT-2 small), how many numbers does each
head's query vector have?]],
          zh = "若 d_model = 768、12 个头（GPT-2 small 的配置），每个头的查询向量有几个数？",
        },
        kind = "number",
        answer = function() return 768 // 12 end,
        hint = {en = "d_model / heads", zh = "d_model 除以头数"},
      },
    },
    {
      title = {en = "Averaging heads hides them", zh = "把头平均，就看不清了"},
      text = {
        en = [[
People often show "the" attention of a layer as the average over its
heads. Here the average is a blur of two clean patterns: half of every
row on the previous word, half on the same word. When you explore a real
model, look at the heads one by one (attn.viz.show does, with a grid of
all heads on g).

Finally, a head set by nobody: a freshly made MultiHeadAttention with
random weights. Its maps have no structure yet; training is what carves
patterns like ours into them.]],
        zh = [[
人们常把一层所有头的平均当作这一层“的”注意力。在这里，平均之后两种清晰的模式
混成了一片：每行一半给前一个词，一半给相同的词。探索真实模型时，请逐个头去看
（attn.viz.show 就是这样，按 g 还能看到所有头的网格）。

最后看一个谁也没设定过的头：新建一个随机初始化的 MultiHeadAttention。它的图
还没有任何结构；正是训练把类似上面的模式“刻”了进去。]],
      },
      code = [[average = w:mean(1)
attn.seed(4)
fresh = attn.nn.MultiHeadAttention{d_model = 4, n_heads = 2}
_, w_fresh = fresh(X, {weights = true})
print("average of the two heads:") show(average)
print("a random head:") show(w_fresh[1])]],
      picture = function(env)
        return env.average, {rows = env.tokens, cols = env.tokens, title = {en = "average of heads", zh = "各头平均"},
                             annotate = true, vmin = 0, vmax = 1}
      end,
    },
  },
}
