-- Lesson 3: soft vs hard attention (seeds/001 §2.1), temperature,
-- sparsemax, and why hard attention gets no gradient, shown with autograd.
--
-- One query against five keys whose dot-product scores are set by hand:
-- with a 1-number query q = {{1}} and keys k_j = {s_j}, q . k_j = s_j.

return {
  id = "soft-hard",
  title = {en = "Soft, hard and sparse attention", zh = "软注意力、硬注意力与稀疏注意力"},
  minutes = 15,
  steps = {
    {
      title = {en = "Soft and hard", zh = "软与硬"},
      text = {
        en = [[
The documents name two ways to turn scores into weights:
  soft attention  weights = softmax(scores): every key gets some weight,
                  and the output is a blend of all values;
  hard attention  weights = one-hot at argmax(scores): one key gets
                  everything, and the output is a copy of its value.

One query, five keys with scores 1.0, 0.8, 0.3, 0.1, -0.5, and values
10, 20, 30, 40, 50 so you can read off the blend. attn.F.attention takes
norm = "softmax" | "hard" | "sparsemax".]],
        zh = [[
几篇原文提到两种把得分变成权重的方法：
  软注意力：权重 = softmax(得分)，每个键都分到一些权重，输出是所有值的混合；
  硬注意力：权重 = argmax(得分) 处为 1 的独热向量，一个键拿走全部权重，输出
            就是它的值的拷贝。

一个查询，五个键，得分依次是 1.0、0.8、0.3、0.1、-0.5；值依次是 10、20、30、
40、50，方便直接看出混合的比例。attn.F.attention 的 norm 参数可以取
"softmax"、"hard" 或 "sparsemax"。]],
      },
      code = [[s = {1.0, 0.8, 0.3, 0.1, -0.5}
q = attn.tensor{{1}}                                  -- [1, 1]
k = attn.tensor{{s[1]}, {s[2]}, {s[3]}, {s[4]}, {s[5]}} -- [5, 1]: q . k_j = s_j
v = attn.tensor{{10}, {20}, {30}, {40}, {50}}           -- [5, 1]
out_soft, w_soft = attn.F.attention(q, k, v, {score = "dot", norm = "softmax"})
out_hard, w_hard = attn.F.attention(q, k, v, {score = "dot", norm = "hard"})
print("soft weights:", w_soft[1], ("output: %.3f"):format(out_soft:item()))
print("hard weights:", w_hard[1], ("output: %.3f"):format(out_hard:item()))]],
    },
    {
      title = {en = "Temperature", zh = "温度"},
      text = {
        en = [[
Dividing the scores by a temperature T before softmax sets how peaked the
weights are: softmax(s / T). Small T sharpens towards hard attention (as T
goes to 0, softmax becomes argmax); large T flattens towards the uniform
1/5 for every key. T = 1 is plain softmax.

Each row of the picture is one temperature, from 0.1 (top) to 10. T = 2 is
left out: the exercise asks for it.]],
        zh = [[
在 softmax 之前把得分除以一个温度 T，即 softmax(s / T)，就能控制权重的尖锐
程度：T 越小越尖，逼近硬注意力（T 趋于 0 时 softmax 就变成 argmax）；T 越大越平，
逼近每个键都是 1/5 的均匀分布。T = 1 就是普通的 softmax。

图中每一行是一个温度，从上到下依次是 0.1 到 10。T = 2 没有列出来，留给练习。]],
      },
      code = [=[temps = {0.1, 0.5, 1, 5, 10}
rows, labels = {}, {}
for i, t in ipairs(temps) do
  local _, w = attn.F.attention(q, k, v, {score = "dot", temperature = t})
  rows[i], labels[i] = w[1], "T=" .. t
  local shown = {}
  for j, x in ipairs(w[1]:table()) do shown[j] = ("%.3f"):format(x) end
  print(("T = %-4g weights %s   output %.2f"):format(t, table.concat(shown, " "),
        w:matmul(v):item()))
end
by_temp = attn.stack(rows)                            -- [5 temperatures, 5 keys]]=],
      picture = function(env)
        return env.by_temp, {rows = env.labels, cols = {"k1", "k2", "k3", "k4", "k5"},
                             title = "softmax(s / T)", annotate = true, vmin = 0, vmax = 1}
      end,
      exercise = {
        ask = {
          en = [[By hand: at temperature T = 2, what weight does key 1 get?
(The scores are 1.0, 0.8, 0.3, 0.1, -0.5.)]],
          zh = [[手算：温度 T = 2 时，键 1 的权重是多少？
（得分是 1.0、0.8、0.3、0.1、-0.5。）]],
        },
        kind = "number",
        answer = function(env)
          local num, den = math.exp(env.s[1] / 2), 0
          for _, x in ipairs(env.s) do den = den + math.exp(x / 2) end
          return num / den
        end,
        hint = {
          en = "Halve every score first: 0.5, 0.4, 0.15, 0.05, -0.25; then softmax: " ..
               "exp(0.5) / (exp(0.5) + exp(0.4) + ...).",
          zh = "先把每个得分减半：0.5、0.4、0.15、0.05、-0.25，再做 softmax：" ..
               "exp(0.5) / (exp(0.5) + exp(0.4) + ...)。",
        },
      },
    },
    {
      title = {en = "Sparsemax: exact zeros, still smooth", zh = "sparsemax：真正的零，依然平滑"},
      text = {
        en = [[
Softmax never gives exactly 0: every key, however bad, gets a sliver.
Sparsemax (Martins & Astudillo, 2016) returns the valid weight vector (no
negative weight, summing to 1) closest to the scores themselves. That
closest point often lies on an edge of the set of valid vectors, where some
weights are exactly 0: low-scoring keys drop out and the rest share the weight,
w_j = max(s_j - τ, 0), with τ chosen so the weights sum to 1.

For our scores τ = 0.4: keys 1 and 2 get 0.6 and 0.4, the other three 0.
Unlike hard attention, the weights still move smoothly with the scores.]],
        zh = [[
softmax 永远不会给出恰好为 0 的权重：再差的键也能分到一点点。sparsemax
（Martins 和 Astudillo，2016）返回离得分本身最近的合法权重向量（非负、和为 1）。
这个最近点常常落在合法向量集合的边上，那里有些权重恰好为 0：得分低的键被淘汰，
其余的键分享权重，w_j = max(s_j - τ, 0)，其中 τ 的取值让权重之和为 1。

对我们这组得分，τ = 0.4：键 1 和键 2 分别得到 0.6 和 0.4，另外三个都是 0。
和硬注意力不同的是，权重仍然随得分平滑变化。]],
      },
      code = [[out_sparse, w_sparse = attn.F.attention(q, k, v, {score = "dot", norm = "sparsemax"})
print("softmax:  ", w_soft[1])
print("sparsemax:", w_sparse[1], ("output: %.3f"):format(out_sparse:item()))
print("hard:     ", w_hard[1])
three = attn.stack({w_soft[1], w_sparse[1], w_hard[1]})]],
      picture = function(env)
        return env.three, {rows = {"softmax", "sparsemax", "hard"},
                           cols = {"k1", "k2", "k3", "k4", "k5"}, title = {en = "three normalisations", zh = "三种归一化"},
                           annotate = true, vmin = 0, vmax = 1}
      end,
      exercise = {
        ask = {
          en = [[If key 3's score rose from 0.3 to 0.9 (scores 1.0, 0.8, 0.9, 0.1, -0.5),
how many keys would get a weight that is not zero from sparsemax?]],
          zh = [[如果键 3 的得分从 0.3 升到 0.9（得分变成 1.0、0.8、0.9、0.1、-0.5），
sparsemax 会给几个键非零的权重？]],
        },
        kind = "number",
        answer = function(env)
          local k3 = env.k:clone()
          k3:set(3, 1, 0.9)
          local _, w = attn.F.attention(env.q, k3, env.v, {score = "dot", norm = "sparsemax"})
          return w:gt(0):sum():item()
        end,
        hint = {
          en = [[Try keeping the top k scores: τ = (their sum - 1) / k must stay below
each of them. For the top three, τ = (1.0 + 0.9 + 0.8 - 1) / 3 ≈ 0.57.]],
          zh = [[试着保留得分最高的 k 个键：τ = (它们的和 - 1) / k 必须比其中每一个都小。
取前三个时，τ = (1.0 + 0.9 + 0.8 - 1) / 3 ≈ 0.57。]],
        },
      },
    },
    {
      title = {en = "Why hard attention gets no gradient", zh = "为什么硬注意力没有梯度"},
      text = {
        en = [[
Training moves the scores along the gradient of a loss. Let the loss be
(output - 25)^2 and ask autograd how it changes with each key's score.

With softmax every score gets a gradient. With sparsemax, the keys in its
support get one, the zeroed keys none. With hard attention the output is a
copy of one value, and argmax does not change at all when a score moves a
little, so the gradient with respect to every score is 0: the library
says the loss does not depend on the keys at all. (At the exact point
where two scores tie, argmax jumps and has no derivative either.)]],
        zh = [[
训练时要沿着损失的梯度调整得分。设损失为 (输出 - 25)²，让自动求导告诉我们它
随每个键的得分如何变化。

用 softmax 时每个得分都有梯度；用 sparsemax 时，支撑集里的键有梯度，被置零的
键没有；用硬注意力时，输出只是某一个值的拷贝，而得分稍微变动时 argmax 根本不
变，所以对每个得分的梯度都是 0——库会直接告诉你，损失和键完全无关。（在两个
得分恰好相等的那一点，argmax 会跳变，同样没有导数。）]],
      },
      code = [[function score_grad(norm)
  local keys = k:detach():requires_grad(true)
  local out = attn.F.attention(q, keys, v, {score = "dot", norm = norm})
  local loss = (out - 25):pow(2):sum()
  local ok, err = pcall(function() loss:backward() end)
  if not ok then return "no gradient: " .. tostring(err):match("backward: ([^(]*)") end
  return keys.grad:reshape(5)
end
print("softmax:  ", score_grad("softmax"))
print("sparsemax:", score_grad("sparsemax"))
print("hard:     ", score_grad("hard"))]],
    },
    {
      title = {en = "Nudge a score and watch", zh = "推一推得分，看看会怎样"},
      text = {
        en = [[
The same fact without calculus: raise key 2's score from 0.8 in small
steps and record the outputs. The soft output glides; the hard output
sits at 10 and then jumps to 20 the moment key 2 overtakes key 1. A
gradient is a slope, and a staircase has slope 0 on its steps and none at
its edges.

This is why models use soft (or sparse) attention, and why hard attention
needs other training tricks (sampling with REINFORCE, or the
straight-through estimator).]],
        zh = [[
不用微积分也能看出同一件事：把键 2 的得分从 0.8 一点点调高，记录输出。软注意
力的输出平滑地变化；硬注意力的输出一直停在 10，直到键 2 超过键 1 的那一刻跳到
20。梯度就是斜率，而台阶在平台上斜率为 0，在台阶边缘根本没有斜率。

所以模型都用软注意力（或稀疏注意力）；硬注意力要靠别的训练技巧（用 REINFORCE
采样，或直通估计器 straight-through）。]],
      },
      code = [[nudges = {0.8, 0.9, 0.95, 0.99, 1.01, 1.05, 1.2}
outs_hard = {}
for i, s2 in ipairs(nudges) do
  local k2 = attn.tensor{{s[1]}, {s2}, {s[3]}, {s[4]}, {s[5]}}
  local soft = attn.F.attention(q, k2, v, {score = "dot"}):item()
  outs_hard[i] = attn.F.attention(q, k2, v, {score = "dot", norm = "hard"}):item()
  print(("score of key 2 = %.2f   soft output %.3f   hard output %g"):format(s2, soft,
        outs_hard[i]))
end]],
      exercise = {
        ask = {
          en = "Key 2's score went from 0.80 to 0.95. How did the hard output change?",
          zh = "键 2 的得分从 0.80 调到 0.95，硬注意力的输出怎样变化？",
        },
        kind = "choice",
        choices = {en = {"not at all", "a little", "it jumped"},
                   zh = {"完全没变", "变了一点", "发生了跳变"}},
        answer = function(env)
          local a, b = env.outs_hard[1], env.outs_hard[3]
          if a == b then return 1 end
          return math.abs(a - b) < 1 and 2 or 3
        end,
        hint = {
          en = "Look at the rows for 0.80 and 0.95 in the table above.",
          zh = "看上表中 0.80 和 0.95 两行。",
        },
      },
    },
  },
}
