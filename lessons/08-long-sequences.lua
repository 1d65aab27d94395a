-- Lesson 8: long sequences. The T x T cost of attention measured in time
-- (attn.time) and memory (attn.memory) as T grows; the fused kernel, chunked
-- (segmented) attention, local windows and linear attention as the ways
-- around it (documents 000 Q3/Q5, 001 §7.3, 004 Q2); the GPU when present.

return {
  id = "long-sequences",
  title = {en = "Long sequences", zh = "长序列"},
  minutes = 20,
  steps = {
    { text = {
        en = [[
Every query looks at every key: for a sequence of T tokens the scores Q Kᵀ are
a T x T matrix. Twice the text, four times the scores. The documents mention
the remedies in passing (000 Q3 and Q5: chunked computation; 004 Q2: segmented
attention for long texts; 001 §7.3: attention with linear complexity). Here we
measure the problem and each remedy on this machine.

Two tools: attn.time(fn, n) runs fn n times and returns the median seconds;
attn.memory() returns the bytes of tensor data alive right now. The helper
live() below first lets Lua's collector free what is no longer used, so the
count is exact.]],
        zh = [[
每个查询都要看每个键：长度为 T 的序列，得分 Q Kᵀ 是一个 T x T 的矩阵。文本长一倍，
得分变成四倍。文档里顺带提到过补救办法（000 的 Q3 和 Q5：分块计算；
004 的 Q2：长文本的分段注意力；001 §7.3：线性复杂度的注意力）。这一课在这台机器上
把问题和每种办法都实测一遍。

两个工具：attn.time(fn, n) 把 fn 运行 n 次，返回耗时的中位数（秒）；attn.memory()
返回此刻存活的张量数据字节数。下面的 live() 先让 Lua 的垃圾回收器释放不再使用的
张量，所以计数是准确的。]],
      },
      code = [==[
F = attn.F
d = 64                                   -- one head's width, as in GPT-2
function live()
  collectgarbage(); collectgarbage()
  return attn.memory()
end
function qkv(T)
  return attn.randn(T, d), attn.randn(T, d), attn.randn(T, d)
end
attn.seed(3)
print("threads:", attn.threads(), " tensor bytes alive now:", live())]==],
    },
    { text = {
        en = [[
The full form: out, w = scaled_dot_product_attention(q, k, v, {weights=true})
builds the T x T weights, as every lesson so far did to draw them. For each T
we keep w alone alive and count its bytes, then time the whole call.

Exercise: bytes_per_weight is what one weight costs, measured. How many bytes
would the weights of one head take at T = 4096?]],
        zh = [[
完整的写法：out, w = scaled_dot_product_attention(q, k, v, {weights=true}) 会生成
T x T 的权重——前面几课为了画图一直这样做。对每个 T，我们只让 w 存活并统计它的
字节数，再给整个调用计时。

练习：bytes_per_weight 是实测的每个权重占用的字节数。T = 4096 时，一个头的权重要
占多少字节？]],
      },
      code = [==[
sizes = {256, 512, 1024, 2048, 4096}
full_bytes, full_time = {}, {}
print("    T   weights (MiB)   time (ms)")
for _, T in ipairs(sizes) do
  local q, k, v = qkv(T)
  local before = live()
  local out, w = F.scaled_dot_product_attention(q, k, v, {weights = true})
  out = nil                              -- keep only the weights alive
  full_bytes[T] = live() - before
  w = nil
  full_time[T] = attn.time(function()
    F.scaled_dot_product_attention(q, k, v, {weights = true})
  end, 3)
  print(string.format("%5d   %12.2f   %9.2f", T, full_bytes[T] / 2^20, full_time[T] * 1e3))
end
bytes_per_weight = full_bytes[1024] / (1024 * 1024)
print("bytes per weight:", bytes_per_weight)]==],
      exercise = {
        ask = {en = "Bytes of a 4096 x 4096 weight matrix:", zh = "4096 x 4096 权重矩阵的字节数："},
        kind = "number",
        answer = function(env) return env.bytes_per_weight * 4096 * 4096 end,
        tol = 0.5,
        hint = {en = "4096² weights, each a float32", zh = "4096² 个权重，每个都是 float32"},
      },
    },
    { text = {
        en = [[
Read the table as ratios: each time T doubles, the memory of the weights grows
by exactly 4 (T² floats) and the time by close to 4 (the two products Q Kᵀ and
A V each cost T² d multiply-adds; small T hides it behind fixed costs). A
12-layer model with 12 heads keeps 144 such matrices per sequence for its
backward pass: at T = 4096 that is 9 GiB.

Exercise: how many MiB of attention weights does such a model (12 layers x 12
heads) keep for one sequence of T = 1024? Use the table.]],
        zh = [[
按比例读这张表：T 每翻一倍，权重的内存正好变成 4 倍（T² 个浮点数），时间也接近
4 倍（Q Kᵀ 和 A V 两次乘法各需 T² d 次乘加；T 小时被固定开销掩盖了）。一个 12 层、
每层 12 个头的模型，反向传播时每条序列要保留 144 个这样的矩阵：T = 4096 时就是 9 GiB。

练习：这样的模型（12 层 x 12 个头）处理一条 T = 1024 的序列，要保留多少 MiB 的注意力权重？
请用上面的表。]],
      },
      code = [==[
for i = 2, #sizes do
  local a, b = sizes[i - 1], sizes[i]
  print(string.format("T %4d -> %4d   memory x%.2f   time x%.2f", a, b,
                      full_bytes[b] / full_bytes[a], full_time[b] / full_time[a]))
end]==],
      exercise = {
        ask = {en = "MiB of weights, 144 heads, T = 1024:",
               zh = "144 个头、T = 1024 时权重的 MiB 数："},
        kind = "number",
        answer = function(env) return 144 * env.full_bytes[1024] / 2 ^ 20 end,
        tol = 0.5,
        hint = {en = "144 times the weights' MiB at T = 1024 in the table",
                zh = "表中 T = 1024 时权重的 MiB 数乘以 144"},
      },
    },
    { text = {
        en = [[
Remedy 1, the fused kernel: when nobody asks for the weights, attnlab computes
attention in tiles of queries and keys with an online softmax, and the T x T
matrix never exists (the idea of FlashAttention). Same result, memory of the
output only (T x d), and faster because the scores stay in the cache. But the
work is still T² d: the time still grows by ~4 per doubling.]],
        zh = [[
办法一，融合内核：没人要权重的时候，attnlab 把查询和键分成小块，用在线 softmax
计算注意力，T x T 矩阵从来不会出现（FlashAttention 的思路）。结果一样，内存只有
输出那么大（T x d），而且因为得分留在缓存里所以更快。但计算量仍是 T² d：时间
每翻一倍仍然增长约 4 倍。]],
      },
      code = [==[
fused_time = {}
print("    T   result kept (MiB)   time (ms)   same output")
for _, T in ipairs(sizes) do
  local q, k, v = qkv(T)
  local before = live()
  local out = F.scaled_dot_product_attention(q, k, v)          -- no weights: fused
  local kept = live() - before
  local same = T <= 1024 and
    attn.allclose(out, F.scaled_dot_product_attention(q, k, v, {materialise = true}), 1e-4)
  fused_time[T] = attn.time(function() F.scaled_dot_product_attention(q, k, v) end, 3)
  print(string.format("%5d   %17.2f   %9.2f   %s", T, kept / 2^20, fused_time[T] * 1e3,
                      T <= 1024 and tostring(same) or "-"))
end]==],
    },
    { text = {
        en = [[
Remedy 2, chunked (segmented) attention, as 004 Q2 proposes: cut the sequence
into blocks of C tokens and let each block attend only within itself. A reshape
turns [T, d] into [T/C, C, d], and batched attention does the rest: T/C
matrices of C x C, so memory and time grow like T·C, linearly in T.

The price: a token never sees past its block. The picture, for T = 16 and
C = 4, shows the block-diagonal weights; the check below confirms that the
reshape gives exactly full attention with a block-diagonal mask.

Exercise: when T doubles (C fixed), what happens to the chunked weights' memory?]],
        zh = [[
办法二，分块（分段）注意力，正如 004 的 Q2 所说：把序列切成每块 C 个词，每块只在
自己内部做注意力。一次 reshape 把 [T, d] 变成 [T/C, C, d]，批量注意力完成剩下的事：
T/C 个 C x C 的矩阵，所以内存和时间像 T·C 一样随 T 线性增长。

代价是：一个词永远看不到自己块以外的内容。图中是 T = 16、C = 4 时的块对角权重；
下面的检查确认 reshape 的结果与“全注意力 + 块对角掩码”完全相同。

练习：T 翻倍（C 不变）时，分块权重的内存会怎样？]],
      },
      code = [==[
C = 128
function chunked(q, k, v, c)
  local T = q:size(1)
  assert(T % c == 0, "chunked: T must be a multiple of the chunk size")
  local n = T // c
  local out, w = F.scaled_dot_product_attention(q:reshape(n, c, d), k:reshape(n, c, d),
                                                v:reshape(n, c, d), {weights = true})
  return out:reshape(T, d), w                                    -- w: [T/C, C, C]
end
chunk_bytes, chunk_time = {}, {}
for _, T in ipairs(sizes) do
  local q, k, v = qkv(T)
  local before = live()
  local out, w = chunked(q, k, v, C)
  out = nil
  chunk_bytes[T] = live() - before
  w = nil
  chunk_time[T] = attn.time(function() chunked(q, k, v, C) end, 3)
  print(string.format("T %5d   chunk weights %6.2f MiB   %7.2f ms", T, chunk_bytes[T] / 2^20,
                      chunk_time[T] * 1e3))
end
-- the same thing as a mask: keep key j for query i when they share a block
local q, k, v = qkv(16)
local keep = {}
for i = 1, 16 do
  keep[i] = {}
  for j = 1, 16 do keep[i][j] = (i - 1) // 4 == (j - 1) // 4 and 1 or 0 end
end
small_out, small_w = F.scaled_dot_product_attention(q, k, v, {mask = attn.tensor(keep),
                                                              weights = true})
print("reshape = block-diagonal mask:", attn.allclose(chunked(q, k, v, 4), small_out, 1e-5))
positions = {}
for i = 1, 16 do positions[i] = tostring(i) end]==],
      picture = function(env)
        return env.small_w, {rows = env.positions, cols = env.positions,
                             title = {en = "chunked attention, T = 16, C = 4", zh = "分块注意力，T = 16，C = 4"}}
      end,
      exercise = {
        ask = {en = "Chunked weights' memory when T doubles:", zh = "T 翻倍时分块权重的内存："},
        kind = "choice",
        choices = {en = {"stays the same", "doubles", "grows four times"},
                   zh = {"不变", "翻倍", "变成四倍"}},
        answer = function(env)
          local r = env.chunk_bytes[2048] / env.chunk_bytes[1024]
          local best, factors = 1, {1, 2, 4}
          for i, f in ipairs(factors) do
            if math.abs(r - f) < math.abs(r - factors[best]) then best = i end
          end
          return best
        end,
        hint = {en = "T/C blocks of C x C weights", zh = "T/C 个 C x C 的权重块"},
      },
    },
    { text = {
        en = [[
Remedy 3, a local window: each query sees the keys within W positions of
itself, on both sides. Unlike chunks, neighbours across a boundary still see
each other, and stacking L layers widens the view to L·W (as in Longformer).
attnlab's window= option builds the band as a mask, to show it; a kernel built
for it computes only the band, T·(2W + 1) scores.]],
        zh = [[
办法三，局部窗口：每个查询只看自己前后 W 个位置以内的键。和分块不同，跨边界的
相邻词仍然能互相看到；叠 L 层之后视野扩大到 L·W（Longformer 的做法）。attnlab 的
window= 选项用掩码构造这条带子，便于观察；专门的内核只计算带内的 T·(2W + 1) 个得分。]],
      },
      code = [==[
local q, k, v = qkv(16)
_, window_w = F.scaled_dot_product_attention(q, k, v, {window = 2, weights = true})
print("keys seen by query 8:", window_w[8]:gt(0):sum():item())]==],
      picture = function(env)
        return env.window_w, {rows = env.positions, cols = env.positions,
                              title = {en = "local attention, window 2", zh = "局部注意力，窗口 2"}}
      end,
    },
    { text = {
        en = [[
Remedy 4, linear attention (001 §7.3; Katharopoulos et al. 2020). Replace
exp(q·k) by a product of features φ(q)·φ(k), with φ(x) = elu(x) + 1 > 0. Then

    out_i = φ(q_i) S / (φ(q_i) z),   S = Σ_j φ(k_j)ᵀ v_j,   z = Σ_j φ(k_j)

S is d x d and z has d entries, whatever T is: the cost is T·d², linear in T,
and no token is cut off from any other. It is a different attention, not the
same one computed faster: the weights are smoother than a softmax's, and the
output differs, as the last column shows.]],
        zh = [[
办法四，线性注意力（001 §7.3；Katharopoulos 等，2020）。把 exp(q·k) 换成特征的
乘积 φ(q)·φ(k)，φ(x) = elu(x) + 1 > 0。于是

    out_i = φ(q_i) S / (φ(q_i) z)，  S = Σ_j φ(k_j)ᵀ v_j，  z = Σ_j φ(k_j)

无论 T 多大，S 都是 d x d，z 有 d 个元素：计算量是 T·d²，随 T 线性增长，而且没有
哪个词被隔断。它是另一种注意力，不是把同一个东西算得更快：它的权重比 softmax 更平滑，
输出也不同，见最后一列。]],
      },
      code = [==[
linear_time = {}
print("    T   linear (ms)   softmax fused (ms)   mean |difference|")
for _, T in ipairs(sizes) do
  local q, k, v = qkv(T)
  linear_time[T] = attn.time(function() F.linear_attention(q, k, v) end, 3)
  local diff = (F.linear_attention(q, k, v) - F.scaled_dot_product_attention(q, k, v))
               :abs():mean():item()
  print(string.format("%5d   %11.2f   %18.2f   %.3f", T, linear_time[T] * 1e3,
                      fused_time[T] * 1e3, diff))
end]==],
    },
    { text = {
        en = [[
The GPU. A graphics card does the same T² work with thousands of cores, so the
curve keeps its shape but moves down. If this machine has one, the step below
times the fused attention on it beside the CPU; otherwise it says so (nothing
else in the lesson needs a GPU).]],
        zh = [[
GPU。显卡用成千上万个核心做同样的 T² 计算，所以曲线形状不变，只是整体下移。如果这台
机器有 GPU，下面这一步会把 GPU 上融合注意力的耗时和 CPU 并排列出；没有的话会直接
说明（这一课的其他部分都不需要 GPU）。]],
      },
      code = [==[
if attn.cuda.available() then
  print("GPU:", attn.cuda.device_name())
  for _, T in ipairs(sizes) do
    local q, k, v = qkv(T)
    local ok, gpu = pcall(function()
      local qc, kc, vc = q:to("cuda"), k:to("cuda"), v:to("cuda")
      return attn.time(function() F.scaled_dot_product_attention(qc, kc, vc):to("cpu") end, 3)
    end)
    print(string.format("T %5d   cpu %8.2f ms   gpu %s", T, fused_time[T] * 1e3,
                        ok and string.format("%8.2f ms", gpu * 1e3) or tostring(gpu)))
  end
else
  print("no GPU here:", select(2, attn.cuda.device_name()) or "none found")
end]==],
    },
    { text = {
        en = [[
Summary, for one head at T = 4096 on this machine (your numbers are above):

    full (weights kept)   memory T²      time T²     sees everything
    fused kernel          memory T·d     time T²     sees everything, same result
    chunks of C           memory T·C     time T·C    only its own block
    window W              memory T·W     time T·W    W neighbours per layer
    linear                memory d²      time T·d²   everything, different kernel

Try: chunked with C = 512, or time full_time[4096] / fused_time[4096]; then
open lesson 9 to see what these costs mean for a full-size model.]],
        zh = [[
小结：单个头、T = 4096 时（本机的实测数字在上面）：

    完整（保留权重）   内存 T²      时间 T²     看到全部
    融合内核           内存 T·d     时间 T²     看到全部，结果相同
    分块，每块 C       内存 T·C     时间 T·C    只看自己的块
    窗口 W             内存 T·W     时间 T·W    每层看 W 个邻居
    线性               内存 d²      时间 T·d²   看到全部，但核函数不同

可以试试：把 C 改成 512 再运行分块；或者算 full_time[4096] / fused_time[4096]；
然后打开第 9 课，看看这些代价对一个完整尺寸的模型意味着什么。]],
      },
    },
  },
}
