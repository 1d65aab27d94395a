-- Lesson 6: attention for retrieval. The query 「AI助手在注意力管理中的作用」
-- against the ten short documents of data/retrieval/docs.tsv: words,
-- word-to-word similarity, word-level attention, document relevance, ranking
-- (document 003, sections 4.2 and 4.3, with its two slips fixed).

return {
  id = "retrieval",
  title = {en = "Attention for retrieval", zh = "用注意力做检索"},
  minutes = 20,
  steps = {
    { text = {
        en = [[
A search box gets the query 「AI助手在注意力管理中的作用」 ("the role of AI
assistants in attention management"). Which of our documents should come first?

Document 003 (sections 4.2-4.3) answers with attention: every word of the query
looks at every word of a document, the scores become weights by a softmax, and
the weighted matches add up to a relevance score per document. Then we sort.

We build exactly that, in five pieces: the documents, the words, a similarity
between two words, word-level attention, and document relevance. No model is
trained: the similarity is simple enough to check by hand, so you can see every
number the attention works with.]],
        zh = [[
搜索框收到查询「AI助手在注意力管理中的作用」。我们的文档里，哪一篇应该排在最前面？

文档 003（第 4.2–4.3 节）用注意力来回答：查询里的每个词去“看”文档里的每个词，
得分经过 softmax 变成权重，加权后的匹配程度累加成每篇文档的相关度，最后排序。

我们一步步实现它：文档、分词、两个词之间的相似度、词级注意力、文档相关度。
这里不训练任何模型：相似度简单到可以手算，所以注意力用到的每个数字你都能核对。]],
      },
    },
    { text = {
        en = [[
The collection: ten short news-like documents written for attnlab, mostly in
Chinese with some English words (AI, Transformer, softmax), as real Chinese text
often is. Some are about assistants and attention; others about rain, noodles or
basketball, so a good ranking has something to push down.]],
        zh = [[
文档集合：为 attnlab 编写的十篇新闻式短文，以中文为主，夹杂一些英文词
（AI、Transformer、softmax），和真实的中文文本一样。有的讲助手和注意力，
有的讲暴雨、煮面或篮球——好的排序要能把它们压到后面。]],
      },
      code = [==[
docs = {}
for line in io.lines(attn.config.root .. "/data/retrieval/docs.tsv") do
  local id, en, zh, text = line:match("^(%d+)\t([^\t]*)\t([^\t]*)\t(.*)$")
  if id then docs[#docs + 1] = {id = tonumber(id), en = en, zh = zh, text = text} end
end
for _, d in ipairs(docs) do print(d.id, d.zh, d.en) end]==],
    },
    { text = {
        en = [[
Words. Chinese has no spaces, so we cut text with the oldest trick there is,
forward maximum matching: at each position take the longest word of a word list
(data/retrieval/words.txt) that fits, else one character. A run of Latin letters
or digits ("AI", "softmax") is one unit, lower-cased; punctuation separates.

The query becomes AI助手 / 在 / 注意力 / 管理 / 中 / 的 / 作用. Try
segment("注意力机制很重要") yourself after the step.]],
        zh = [[
分词。中文没有空格，我们用最经典的办法——正向最大匹配：在每个位置，取词表
（data/retrieval/words.txt）里能匹配上的最长的词，匹配不上就取一个字。连续的
拉丁字母或数字（“AI”“softmax”）算一个单位并转成小写；标点用来分隔。

查询被切成 AI助手 / 在 / 注意力 / 管理 / 中 / 的 / 作用。这一步之后可以自己试试
segment("注意力机制很重要")。]],
      },
      code = [==[
-- units(s): Latin runs (lower-cased) and single characters, punctuation dropped
function units(s)
  local out, run = {}, ""
  local function flush() if run ~= "" then out[#out + 1] = run:lower(); run = "" end end
  for _, cp in utf8.codes(s) do
    local ch = utf8.char(cp)
    if ch:match("^%w$") then run = run .. ch
    else
      flush()
      local punct = cp < 128 or (cp >= 0x3000 and cp <= 0x303F) or cp >= 0xFF00
      if not punct then out[#out + 1] = ch end
    end
  end
  flush()
  return out
end

lexicon, longest = {}, 1
for w in io.lines(attn.config.root .. "/data/retrieval/words.txt") do
  if w ~= "" and not w:match("^#") then
    local u = units(w)
    lexicon[table.concat(u)] = true
    longest = math.max(longest, #u)
  end
end

-- forward maximum matching; a word is kept as its list of units
function segment(s)
  local u, words, i = units(s), {}, 1
  while i <= #u do
    local n = math.min(longest, #u - i + 1)
    while n > 1 and not lexicon[table.concat(u, "", i, i + n - 1)] do n = n - 1 end
    words[#words + 1] = {table.unpack(u, i, i + n - 1)}
    i = i + n
  end
  return words
end
function word_text(w) return table.concat(w) end

query = segment("AI助手在注意力管理中的作用")
for _, d in ipairs(docs) do d.words = segment(d.text) end
qwords = {}
for i, w in ipairs(query) do qwords[i] = word_text(w) end
print(table.concat(qwords, " / "))]==],
    },
    { text = {
        en = [[
Similarity e_ij between query word i and document word j. We give each word a
vector that counts its characters (its units), scaled to length 1, and take dot
products: that is the cosine of the two character bags. Identical words score
1, words with no character in common score 0, and related words land in between:
注意力 and 注意 share two of their characters.

All the similarities of a query against a document are one matrix product,
E = Q Kᵀ, exactly as attention scores are: Q holds the query's word vectors as
rows, K the document's.

Exercise: compute cos(注意力, 注意) by hand. The bags are {注, 意, 力} and {注, 意}:
the dot product counts the shared characters, the lengths are √3 and √2.]],
        zh = [[
查询词 i 与文档词 j 的相似度 e_ij。给每个词一个向量，统计它包含的字（单位），
再把长度归一化为 1，然后做点积——这就是两个“字袋”之间的余弦相似度。相同的词得 1，
没有共同字的词得 0，相关的词介于两者之间：注意力 和 注意 有两个字相同。

查询与一篇文档之间的全部相似度就是一次矩阵乘法 E = Q Kᵀ，和注意力得分完全一样：
Q 的每一行是查询词的向量，K 的每一行是文档词的向量。

练习：手算 cos(注意力, 注意)。两个字袋是 {注, 意, 力} 和 {注, 意}：点积数的是共同的字，
长度分别是 √3 和 √2。]],
      },
      code = [==[
-- one column per unit seen anywhere in the query or the documents
unit_index, n_units = {}, 0
local function index_units(words)
  for _, w in ipairs(words) do
    for _, u in ipairs(w) do
      if not unit_index[u] then n_units = n_units + 1; unit_index[u] = n_units end
    end
  end
end
index_units(query)
for _, d in ipairs(docs) do index_units(d.words) end

-- rows: one unit-length character-bag vector per word  [#words, n_units]
function word_vectors(words)
  local rows = {}
  for r, w in ipairs(words) do
    local row = {}
    for c = 1, n_units do row[c] = 0 end
    for _, u in ipairs(w) do row[unit_index[u]] = row[unit_index[u]] + 1 end
    rows[r] = row
  end
  local m = attn.tensor(rows)
  return m / (m * m):sum(2, true):sqrt()
end

function similarity(a, b)
  return word_vectors({units(a)}):matmul(word_vectors({units(b)}):T()):item()
end
Q = word_vectors(query)
print("cos(AI助手, 语音助手) =", similarity("AI助手", "语音助手"))]==],
      exercise = {
        ask = {en = "cos(注意力, 注意) = ?", zh = "cos(注意力, 注意) = ？"},
        kind = "number",
        answer = function(env) return env.similarity("注意力", "注意") end,
        tol = 1e-3,
        hint = {en = "2 shared characters / (√3 · √2)", zh = "共同的字 2 个，除以 √3 · √2"},
      },
    },
    { text = {
        en = [[
Word-level attention. For query word i, the scores e_ij over the words j of one
document become weights by a softmax with a temperature τ:

    α_ij = softmax_j(e_ij / τ)

so Σ_j α_ij = 1: each query word spreads one unit of attention over the
document. The picture shows it for document 1: rows are query words, columns
the document's words. AI助手, 注意力, 管理 and 作用 each find their partner;
的 and 在 find theirs too — which is why we weigh query words in a moment.

Exercise: a document of three words 注意 / 管理 / 天气 and τ = 0.1. The scores of
注意力 against them are 0.8165, 0 and 0. What weight α goes to 注意?]],
        zh = [[
词级注意力。对查询词 i，它与一篇文档中每个词 j 的得分 e_ij 经过带温度 τ 的
softmax 变成权重：

    α_ij = softmax_j(e_ij / τ)

于是 Σ_j α_ij = 1：每个查询词把一份注意力分配到文档的各个词上。图中是文档 1：
行是查询词，列是文档的词。AI助手、注意力、管理、作用 都找到了对应的词；
的 和 在 也找到了——所以稍后我们要给查询词加权。

练习：一篇只有三个词的文档 注意 / 管理 / 天气，τ = 0.1。注意力 对它们的得分是
0.8165、0、0。分给 注意 的权重 α 是多少？]],
      },
      code = [==[
tau = 0.1
-- E [query words, doc words], alpha = softmax over the document's words
function word_attention(doc, t)
  local E = Q:matmul(word_vectors(doc.words):T())
  return (E / t):softmax(2), E
end
alpha, E = word_attention(docs[1], tau)
doc1_labels = {}
for j, w in ipairs(docs[1].words) do doc1_labels[j] = word_text(w) end
print("row sums:", alpha:sum(2))]==],
      picture = function(env)
        return env.alpha, {rows = env.qwords, cols = env.doc1_labels,
                           title = {en = "query words -> document 1 (tau 0.1)", zh = "查询词 -> 文档 1（tau 0.1）"}}
      end,
      exercise = {
        ask = {en = "α(注意力 → 注意) in the three-word document, τ = 0.1:",
               zh = "三词文档中 α(注意力 → 注意)，τ = 0.1："},
        kind = "number",
        answer = function(env)
          local s = env.similarity("注意力", "注意")
          return (env.attn.tensor({s, 0, 0}) / 0.1):softmax(1)[1]
        end,
        tol = 1e-3,
        hint = {en = "e^(8.165) / (e^(8.165) + e^0 + e^0)",
                zh = "e^(8.165) / (e^(8.165) + e^0 + e^0)"},
      },
    },
    { text = {
        en = [[
What a query word found. The attended match

    m_i = Σ_j α_ij e_ij

is the similarity of the words query word i looked at, weighted by how much it
looked. With a small τ the softmax is nearly an argmax and m_i is close to the
best single match; with a large τ the attention spreads over the whole document
and m_i sinks towards the average similarity, which is almost 0. Watch m for
document 5 (语音助手, a voice assistant): AI助手 matches it only in part.]],
        zh = [[
查询词找到了什么。加权匹配度

    m_i = Σ_j α_ij e_ij

是查询词 i 所看的那些词的相似度，按看的多少加权。τ 小时 softmax 接近 argmax，
m_i 接近最佳的单个匹配；τ 大时注意力摊到整篇文档，m_i 降向平均相似度，接近 0。
看看文档 5（语音助手）：AI助手 只和它部分匹配。]],
      },
      code = [==[
function matches(doc, t)
  local a, e = word_attention(doc, t)
  return (a * e):sum(2)                  -- [query words]
end
for _, t in ipairs({0.05, 0.1, 0.5, 2}) do
  local m = matches(docs[5], t):table()
  local parts = {}
  for i, w in ipairs(qwords) do parts[i] = string.format("%s %.2f", w, m[i]) end
  print(string.format("tau %-5g %s", t, table.concat(parts, "  ")))
end]==],
    },
    { text = {
        en = [[
Not every query word matters as much. 的 occurs in almost every document, so
finding it says nothing; 作用 occurs in one. We weigh query word i by its
inverse document frequency

    β_i = log((N + 1) / (df_i + 1))

(N documents, df_i of them contain the word) and normalise: w_i = β_i / Σ β.
Ten documents are too few for the counts to tell that 在 and 中 are mere
grammar (中 occurs in only two of them), so we also give the stop words
在, 中, 的 a weight of 0, as search engines do.

A slip to know: document 003 writes α_ij = softmax(e_ij / σ(β_i)), putting the
importance of a word into the softmax's temperature. That changes how sharply
word i looks, not how much word i counts: every row of α still sums to 1. The
importance belongs outside, as the w_i of the sum in the next step.

Exercise: with these weights, predict which document the next step ranks
first (its number, from the list of step 2).]],
        zh = [[
并不是每个查询词都同样重要。的 几乎出现在每篇文档里，找到它说明不了什么；
作用 只出现在一篇里。我们用逆文档频率给查询词 i 加权：

    β_i = log((N + 1) / (df_i + 1))

（N 篇文档，其中 df_i 篇含有这个词），再归一化：w_i = β_i / Σ β。
十篇文档太少，光靠计数看不出 在 和 中 只是虚词（中 只出现在两篇里），所以我们像搜索
引擎一样，把停用词 在、中、的 的权重设为 0。

要认识的一个笔误：文档 003 写作 α_ij = softmax(e_ij / σ(β_i))，把词的重要性放进了
softmax 的温度里。这只改变词 i “看”得有多集中，不改变词 i 占多少分量：α 的每一行
仍然加起来等于 1。重要性应该放在外面，作为下一步求和里的 w_i。

练习：根据这些权重，预测下一步排在第一的文档（编号见第 2 步的列表）。]],
      },
      code = [==[
df = {}
for i, w in ipairs(qwords) do
  df[i] = 0
  for _, d in ipairs(docs) do
    for _, dw in ipairs(d.words) do
      if word_text(dw) == w then df[i] = df[i] + 1; break end
    end
  end
end
stop_words = {["在"] = true, ["中"] = true, ["的"] = true}
beta = {}
for i, w in ipairs(qwords) do
  beta[i] = stop_words[w] and 0 or math.log((#docs + 1) / (df[i] + 1))
end
w_query = attn.tensor(beta) / attn.tensor(beta):sum()
for i, w in ipairs(qwords) do
  print(string.format("%-6s df %d  beta %.3f  w %.3f", w, df[i], beta[i], w_query[i]))
end]==],
      exercise = {
        ask = {en = "Predict the number of the top document:", zh = "预测排第一的文档编号："},
        kind = "number",
        answer = function(env)               -- r_d = Σ_i w_i m_i(d), the best d
          local best, best_r = nil, -1
          for _, d in ipairs(env.docs) do
            local r = (env.w_query * env.matches(d, env.tau)):sum():item()
            if r > best_r then best, best_r = d.id, r end
          end
          return best
        end,
        tol = 0,
        hint = {en = "which document holds AI助手, 管理 and 作用, the heaviest words?",
                zh = "哪篇文档同时含有权重最大的 AI助手、管理 和 作用？"},
      },
    },
    { text = {
        en = [[
Document relevance and ranking:

    r_d = Σ_i w_i m_i(d)

one number per document: the importance-weighted matches of the query words.
(Document 003 writes r_j = Σ_i α_ij r_i, using j both for a word of a document
and for the document itself; this is the sum it means.) The picture shows
m_i(d) for every document and query word, the ranking prints below: was your
prediction right?]],
        zh = [[
文档相关度与排序：

    r_d = Σ_i w_i m_i(d)

每篇文档一个数：查询词匹配度按重要性加权求和。（文档 003 写作 r_j = Σ_i α_ij r_i，
j 既表示文档里的词，又表示文档本身；它想表达的就是这个求和。）图中是每篇文档、
每个查询词的 m_i(d)，下面打印排序结果：你的预测对了吗？]],
      },
      code = [==[
function rank(t)
  local scores, rows = {}, {}
  for k, d in ipairs(docs) do
    local m = matches(d, t)
    rows[k] = m
    scores[k] = {id = d.id, r = (w_query * m):sum():item()}
  end
  table.sort(scores, function(a, b) return a.r > b.r end)
  return scores, attn.stack(rows)
end
ranking, M = rank(tau)
doc_labels = {}
for k, d in ipairs(docs) do doc_labels[k] = tostring(d.id) end
for place, s in ipairs(ranking) do
  print(string.format("%2d. doc %-2d r = %.3f  %s", place, s.id, s.r, docs[s.id].zh))
end]==],
      picture = function(env)
        return env.M, {rows = env.doc_labels, cols = env.qwords,
                       title = {en = "m_i(d): attended match per document and query word", zh = "m_i(d)：每篇文档、每个查询词的注意力匹配"}}
      end,
    },
    { text = {
        en = [[
Soft versus exact matching. With a very small τ the attention becomes hard: each
query word looks only at its best match. Exact keyword search goes further and
counts a word only when it is identical. Compare the rankings: document 5 (voice
assistants) and document 4 (time management) owe their places to partial
matches (语音助手 ~ AI助手, 时间管理 ~ 管理), which exact matching throws away.
Character bags also make mistakes: 作用 and 用户 share a character, so 作用
finds a half match in almost every document. Learned vectors fix that.

Things to try: rank(1) (a hot softmax), your own query with
query = segment("..."); Q = word_vectors(query) and the code of the previous
steps, or add a word to data/retrieval/words.txt and see the segmentation move.
Real systems replace the character bags by vectors a model learned (lesson 9
shows a trained model); the attention and the ranking stay the same.]],
        zh = [[
软匹配与精确匹配。τ 非常小时注意力变“硬”：每个查询词只看它最匹配的那个词。
精确关键词检索更进一步：只有完全相同的词才算数。比较两种排序：文档 5（语音助手）
和文档 4（时间管理）的名次靠的是部分匹配（语音助手 ~ AI助手，时间管理 ~ 管理），
精确匹配会把这些全部丢掉。字袋也会出错：作用 和 用户 有一个字相同，所以 作用 在几乎
每篇文档里都能找到一半的匹配。学到的词向量能解决这个问题。

可以试试：rank(1)（很“热”的 softmax）；换你自己的查询：
query = segment("...")；Q = word_vectors(query)，再运行前面几步的代码；
或者在 data/retrieval/words.txt 里加一个词，看分词怎么变。实际系统用模型学到的向量
代替字袋（第 9 课会看一个训练好的模型），而注意力和排序的做法不变。]],
      },
      code = [==[
exact = {}
for k, d in ipairs(docs) do
  local found = 0
  for i, w in ipairs(qwords) do
    for _, dw in ipairs(d.words) do
      if word_text(dw) == w then found = found + w_query[i]; break end
    end
  end
  exact[k] = {id = d.id, r = found}
end
table.sort(exact, function(a, b) return a.r > b.r end)
local soft = rank(0.02)
print("place  soft (tau 0.02)  exact words")
for place = 1, #docs do
  print(string.format("%5d  doc %-2d %.3f     doc %-2d %.3f", place, soft[place].id,
                      soft[place].r, exact[place].id, exact[place].r))
end]==],
    },
  },
}
