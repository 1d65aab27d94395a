-- attn.help: help(x) for the REPL.
--
-- One table maps a name ("attn.zeros", "Tensor:softmax", "attn.F.linear",
-- "Module:forward") to its signature, a one-paragraph text and an example.
-- help(fn) finds the name by identity (walking the attn table and the tensor
-- methods); help("attn.zeros") or help("softmax") finds it by name; help()
-- prints an overview by section; help(tensor) describes the tensor and lists
-- its methods. Only things that exist in this build are shown: the docs for
-- later parts of API.md wait here until their code lands.
--
-- M.help(x) prints and returns the text; M.text(x) only returns it.

local M = {}

local SECTIONS = {
  "Tensors", "Autograd", "Functional", "Modules", "Models", "Files and tokenizers",
  "Training", "Visualisation", "Exploring", "Devices, lessons, helpers",
}

local docs, order = {}, {}

local function doc(section, name, sig, text, example)
  docs[name] = {section = section, name = name, sig = sig, text = text, example = example}
  order[#order + 1] = name
end

-- ---- Tensors ------------------------------------------------------------------
local S = "Tensors"
doc(S, "attn.tensor", "attn.tensor(tbl, {device=}) -> Tensor",
  "a new float32 tensor from nested tables of numbers (every row the same length), " ..
  "a number, or a copy of another tensor. the options table may name the device.",
  "attn.tensor({{1,2},{3,4}})")
doc(S, "attn.zeros", "attn.zeros(d1, d2, ...) -> Tensor",
  "a new tensor of the given sizes filled with zeros. sizes may also come as one table; " ..
  "a last table argument may hold {device=}.", "attn.zeros(2, 3)")
doc(S, "attn.ones", "attn.ones(d1, d2, ...) -> Tensor",
  "a new tensor of the given sizes filled with ones.", "attn.ones(2, 3)")
doc(S, "attn.full", "attn.full({d1, d2, ...}, value) -> Tensor",
  "a new tensor of the shape given as a table, every element set to value.",
  "attn.full({2,3}, 7)")
doc(S, "attn.eye", "attn.eye(n, m?) -> Tensor",
  "the n x n identity matrix (n x m when m is given): ones on the diagonal, zeros elsewhere.",
  "attn.eye(4)")
doc(S, "attn.arange", "attn.arange(n) / attn.arange(a, b, step?) -> Tensor",
  "a 1-d tensor of evenly spaced values, as in numpy: arange(n) is 0, 1, ..., n-1; " ..
  "arange(a, b, step) is a, a+step, ... stopping before b. step may be negative or " ..
  "fractional (default 1). these are values, not indices, so they start at 0.",
  "attn.arange(0, 1, 0.25)  --> 0 0.25 0.5 0.75")
doc(S, "attn.rand", "attn.rand(d1, d2, ...) -> Tensor",
  "uniform random numbers in [0, 1). the stream is set by attn.seed and is the same on " ..
  "every device.", "attn.seed(42); attn.rand(2, 3)")
doc(S, "attn.randn", "attn.randn(d1, d2, ...) -> Tensor",
  "standard normal random numbers (mean 0, standard deviation 1).", "attn.randn(4, 4)")
doc(S, "attn.seed", "attn.seed(n?) -> n",
  "sets the random stream to seed n, so rand and randn repeat the same numbers; without " ..
  "an argument it returns the current seed.", "attn.seed(42)")
doc(S, "Tensor:shape", "t:shape() -> {d1, d2, ...}",
  "the sizes of t as a new Lua list.", "attn.zeros(2,3):shape()  --> {2, 3}")
doc(S, "Tensor:size", "t:size(i?) -> n",
  "the size of dimension i (1-based; -1 is the last). without i, the same as t:shape().",
  "attn.zeros(2,3):size(2)  --> 3")
doc(S, "Tensor:dim", "t:dim() -> n", "the number of dimensions.", "attn.zeros(2,3):dim()  --> 2")
doc(S, "Tensor:numel", "t:numel() -> n", "the number of elements (the product of the sizes).",
  "attn.zeros(2,3):numel()  --> 6")
doc(S, "Tensor:device", "t:device() -> \"cpu\" | \"cuda\"", "where the data of t lives.",
  "t:device()")
doc(S, "Tensor:is_contiguous", "t:is_contiguous() -> boolean",
  "true when the elements of t lie in memory in row-major order with no gaps; views such " ..
  "as transpose usually are not.", "x:T():is_contiguous()  --> false")
doc(S, "Tensor:get", "t:get(i, j, ...) -> number",
  "the element at the given 1-based indices, one per dimension (negative counts from the " ..
  "end).", "t:get(1, 1)")
doc(S, "Tensor:set", "t:set(i, j, ..., value) -> t",
  "writes value (stored as float32) at the given 1-based indices; views share the write.",
  "t:set(1, 2, 5)")
doc(S, "Tensor:item", "t:item() -> number",
  "the value of a one-element tensor, such as the result of t:sum().", "x:sum():item()")
doc(S, "Tensor:table", "t:table() -> nested tables",
  "the values of t as nested Lua tables (the inverse of attn.tensor).",
  "attn.eye(2):table()  --> {{1,0},{0,1}}")
doc(S, "Tensor:select", "t:select(dim, i) -> Tensor",
  "a view of slice i (1-based) along dim, with that dimension removed. t[i] is " ..
  "t:select(1, i) (a number when t is 1-d). writes through the view change t.",
  "x:select(2, 1)  -- first column")
doc(S, "Tensor:narrow", "t:narrow(dim, start, len) -> Tensor",
  "a view of len consecutive slices along dim starting at start (1-based).",
  "x:narrow(2, 2, 3)  -- columns 2..4")
doc(S, "Tensor:reshape", "t:reshape(d1, d2, ...) -> Tensor",
  "the same elements in row-major order under a new shape with the same numel; one size " ..
  "may be -1 and is inferred. a view when the layout allows, else a copy.",
  "attn.arange(6):reshape(2, -1)")
doc(S, "Tensor:view", "t:view(d1, d2, ...) -> Tensor", "another name for t:reshape.",
  "x:view(-1)")
doc(S, "Tensor:unsqueeze", "t:unsqueeze(dim) -> Tensor",
  "a view with a new dimension of size 1 inserted at position dim (1..t:dim()+1).",
  "attn.ones(3):unsqueeze(1):shape()  --> {1, 3}")
doc(S, "Tensor:squeeze", "t:squeeze(dim?) -> Tensor",
  "a view without size-1 dimensions: all of them, or only dim when given.",
  "attn.ones(1, 3, 1):squeeze():shape()  --> {3}")
doc(S, "Tensor:expand", "t:expand(d1, d2, ...) -> Tensor",
  "a broadcast view to a larger shape: size-1 dimensions repeat without copying.",
  "attn.ones(1, 3):expand(4, 3)")
doc(S, "Tensor:transpose", "t:transpose(a, b) -> Tensor",
  "a view with dimensions a and b (1-based) swapped; no data moves.", "x:transpose(1, 2)")
doc(S, "Tensor:T", "t:T() -> Tensor",
  "the matrix transpose: a view with the last two dimensions swapped (a 1-d tensor is " ..
  "returned as is).", "q:matmul(k:T())")
doc(S, "Tensor:contiguous", "t:contiguous() -> Tensor",
  "t laid out in row-major order: a fresh copy when t is a strided view.",
  "x:T():contiguous()")
doc(S, "Tensor:clone", "t:clone() -> Tensor",
  "a copy of t with its own storage; writes to one do not show in the other.", "y = x:clone()")
doc(S, "Tensor:to", "t:to(\"cpu\" | \"cuda\") -> Tensor",
  "t on the given device (a copy when it moves). asking for cuda without a GPU is an error.",
  "x:to(\"cuda\")")
doc(S, "Tensor:fill", "t:fill(v) -> t", "sets every element of t (and of what it views) to v.",
  "attn.zeros(2, 2):fill(3)")
doc(S, "Tensor:copy", "t:copy(src) -> t",
  "writes src (a tensor, nested table or number, broadcast to t's shape) into t.",
  "x:narrow(1, 1, 1):copy({{1, 2, 3}})")
doc(S, "Tensor:close", "t:close()",
  "frees the data of t now instead of at the next collection; t is unusable after. " ..
  "a `local t <close> = ...` variable does this at the end of its block.",
  "local t <close> = attn.randn(1000, 1000)")
doc(S, "attn.cat", "attn.cat({a, b, ...}, dim?) -> Tensor",
  "joins tensors along dimension dim (default 1); the other sizes must match.",
  "attn.cat({x, y}, 2)")
doc(S, "attn.stack", "attn.stack({a, b, ...}, dim?) -> Tensor",
  "joins tensors of one shape along a new dimension (default 1, the front).",
  "attn.stack({x, y}):shape()  --> {2, ...}")
doc(S, "Tensor:add", "t:add(x) -> Tensor",
  "t + x elementwise with numpy broadcasting; x is a tensor, a number or nested tables. " ..
  "a + b, a - b, a * b, a / b, -a and a ^ p are the operator forms.", "x:add(1)  -- x + 1")
doc(S, "Tensor:sub", "t:sub(x) -> Tensor", "t - x elementwise, broadcast.", "x:sub(y)  -- x - y")
doc(S, "Tensor:mul", "t:mul(x) -> Tensor", "t * x elementwise (not a matrix product; see " ..
  "matmul), broadcast.", "x:mul(2)  -- x * 2")
doc(S, "Tensor:div", "t:div(x) -> Tensor", "t / x elementwise, broadcast.", "x:div(y)  -- x / y")
doc(S, "Tensor:maximum", "t:maximum(x) -> Tensor",
  "the larger of t and x at each position, broadcast.", "x:maximum(0)  -- relu")
doc(S, "Tensor:minimum", "t:minimum(x) -> Tensor",
  "the smaller of t and x at each position, broadcast.", "x:minimum(1)")
doc(S, "Tensor:eq", "t:eq(x) -> Tensor",
  "1 where t == x, else 0 (elementwise, broadcast). see also ne, lt, le, gt, ge.",
  "(pred:eq(gold)):mean():item()  -- accuracy")
doc(S, "Tensor:ne", "t:ne(x) -> Tensor", "1 where t ~= x, else 0.", "x:ne(0)")
doc(S, "Tensor:lt", "t:lt(x) -> Tensor", "1 where t < x, else 0.", "x:lt(0)")
doc(S, "Tensor:le", "t:le(x) -> Tensor", "1 where t <= x, else 0.", "x:le(0)")
doc(S, "Tensor:gt", "t:gt(x) -> Tensor", "1 where t > x, else 0.", "x:gt(0):sum()")
doc(S, "Tensor:ge", "t:ge(x) -> Tensor", "1 where t >= x, else 0.", "x:ge(0)")
doc(S, "Tensor:neg", "t:neg() -> Tensor", "-t, elementwise.", "x:neg()")
doc(S, "Tensor:matmul", "a:matmul(b) -> Tensor",
  "the matrix product. [M,K] x [K,N] -> [M,N]; leading dimensions are batches and " ..
  "broadcast ([B,M,K] x [K,N] -> [B,M,N]); a 1-d operand acts as a row or column " ..
  "vector that is dropped from the result, as in numpy. inner sizes must agree.",
  "q:matmul(k:T())")
doc(S, "attn.matmul", "attn.matmul(a, b) -> Tensor", "the same as a:matmul(b).",
  "attn.matmul(x, w:T())")
doc(S, "Tensor:sum", "t:sum(dim?, keepdim?) -> Tensor",
  "the sum over dimension dim (removed unless keepdim), or over everything as a " ..
  "one-element tensor; :item() gives the number.", "x:sum(2)   x:sum():item()")
doc(S, "Tensor:mean", "t:mean(dim?, keepdim?) -> Tensor",
  "the mean over dim, or over everything as a one-element tensor.", "x:mean(1)")
doc(S, "Tensor:max", "t:max(dim?, keepdim?) -> Tensor[, Tensor]",
  "the largest value over everything (a one-element tensor), or over dim; with dim a " ..
  "second result holds the 1-based positions.", "local v, i = x:max(2)")
doc(S, "Tensor:min", "t:min(dim?, keepdim?) -> Tensor[, Tensor]",
  "the smallest value, like max.", "x:min()")
doc(S, "Tensor:argmax", "t:argmax(dim?, keepdim?) -> Tensor",
  "the 1-based position of the largest value along dim, or in row-major order over " ..
  "everything (a one-element tensor).", "logits:argmax(2)")
doc(S, "Tensor:argmin", "t:argmin(dim?, keepdim?) -> Tensor",
  "the 1-based position of the smallest value, like argmax.", "x:argmin()")
doc(S, "Tensor:exp", "t:exp() -> Tensor", "e^x elementwise.", "x:exp()")
doc(S, "Tensor:log", "t:log() -> Tensor", "the natural logarithm elementwise (log 0 = -inf).",
  "p:log()")
doc(S, "Tensor:sqrt", "t:sqrt() -> Tensor", "the square root elementwise.", "x:sqrt()")
doc(S, "Tensor:pow", "t:pow(p) -> Tensor", "x^p elementwise; t ^ p is the same.", "x:pow(2)")
doc(S, "Tensor:square", "t:square() -> Tensor", "x*x elementwise.", "x:square()")
doc(S, "Tensor:abs", "t:abs() -> Tensor", "|x| elementwise.", "x:abs()")
doc(S, "Tensor:sign", "t:sign() -> Tensor", "-1, 0 or 1 by the sign of each element.",
  "x:sign()")
doc(S, "Tensor:sin", "t:sin() -> Tensor", "the sine elementwise (radians).", "x:sin()")
doc(S, "Tensor:cos", "t:cos() -> Tensor", "the cosine elementwise (radians).", "x:cos()")
doc(S, "Tensor:tanh", "t:tanh() -> Tensor", "the hyperbolic tangent elementwise.", "x:tanh()")
doc(S, "Tensor:sigmoid", "t:sigmoid() -> Tensor", "1 / (1 + e^-x) elementwise.", "x:sigmoid()")
doc(S, "Tensor:relu", "t:relu() -> Tensor", "max(x, 0) elementwise.", "x:relu()")
doc(S, "Tensor:gelu", "t:gelu(kind?) -> Tensor",
  "the gaussian error linear unit x * Phi(x) in its exact erf form; gelu(\"tanh\") is " ..
  "gpt-2's tanh approximation.", "x:gelu()")
doc(S, "Tensor:softmax", "t:softmax(dim) -> Tensor",
  "exp(x) / sum(exp(x)) along dim, so each slice sums to 1; the max is subtracted first, " ..
  "so large inputs do not overflow and -inf gets weight 0.", "scores:softmax(2)")
doc(S, "Tensor:norm", "t:norm() -> Tensor",
  "the 2-norm of all elements, sqrt(sum x^2) (the Frobenius norm of a matrix), as a " ..
  "one-element tensor.", "x:norm():item()")
doc(S, "attn.allclose", "attn.allclose(a, b, tol?) -> boolean",
  "true when every |a - b| <= tol * (1 + |b|) (tol 1e-5 by default), a and b " ..
  "broadcast against each other; nan is never close, an infinity only to itself.",
  "attn.allclose(x:matmul(y), expected, 1e-4)")
doc(S, "attn.Tensor", "attn.Tensor",
  "the metatable of every tensor (its __name is \"attn.Tensor\"); attn.Tensor.methods " ..
  "holds the methods, so a function added there becomes a method of every tensor.",
  "attn.Tensor.methods.double = function(t) return t * 2 end")
doc(S, "attn.is_tensor", "attn.is_tensor(x) -> boolean", "true when x is a tensor.",
  "attn.is_tensor(attn.ones(1))  --> true")

-- ---- Autograd -----------------------------------------------------------------
S = "Autograd"
doc(S, "Tensor:requires_grad", "t:requires_grad(flag) -> t",
  "marks t as a parameter: operations on it are recorded so backward can fill t.grad.",
  "w = attn.randn(4, 4):requires_grad(true)")
doc(S, "Tensor:backward", "t:backward(grad?)",
  "back-propagates from the one-element tensor t, adding d t / d w into w.grad for every " ..
  "w that requires grad. For a t of any other shape, pass grad = d(something)/d t. " ..
  "Tensors the graph saved must not be written in place before this (it says so).",
  "loss:backward(); print(w.grad)")
doc(S, "Tensor:zero_grad", "t:zero_grad() -> t",
  "sets t.grad to zeros in place (gradients add up over backward calls otherwise).",
  "w:zero_grad()")
doc(S, "Tensor:masked_fill", "t:masked_fill(keep, value) -> Tensor",
  "t where keep is non-zero, value where keep is 0; keep broadcasts against t, so one " ..
  "[T, T] causal mask serves [B, heads, T, T] scores. Gradients flow to the kept elements.",
  "scores:masked_fill(mask, -math.huge)")
doc(S, "Tensor:needs_grad", "t:needs_grad() -> boolean",
  "whether t takes part in a gradient graph: a leaf marked with requires_grad, or a " ..
  "result computed from one.", "(w * 2):needs_grad()  --> true")
doc(S, "Tensor:is_leaf", "t:is_leaf() -> boolean",
  "true for a tensor you made (a leaf), false for one computed by a recorded op.",
  "w:is_leaf()  --> true")
doc(S, "Tensor:grad_fn", "t:grad_fn() -> string or nil",
  "the name of the op that computed t (\"matmul\", \"softmax\", ...), nil for a leaf: " ..
  "follow how a loss was built.", "loss:grad_fn()  --> \"sum\"")
doc(S, "Tensor:detach", "t:detach() -> Tensor",
  "the same values, cut from the graph: nothing flows back through it.", "y = x:detach()")
doc(S, "attn.no_grad", "attn.no_grad(fn) -> ...",
  "runs fn without recording operations (evaluation, weight updates) and returns what " ..
  "it returns.", "attn.no_grad(function() return m(x) end)")

-- ---- Functional -----------------------------------------------------------------
S = "Functional"
doc(S, "attn.F.flash_attention", "attn.F.flash_attention(q, k, v, {causal=, scale=}) -> Tensor",
  "the fused attention kernel: tiles of queries and keys with an online softmax, so the " ..
  "[Tq, Tk] weights are never stored (memory grows with T, not T^2). q, k, v need the same " ..
  "leading dims. scaled_dot_product_attention uses it whenever weights and a mask are not asked for.",
  "out = attn.F.flash_attention(q, k, v, {causal=true})")
doc(S, "attn.F.linear", "attn.F.linear(x, W, b?) -> Tensor",
  "x W^T + b with W of shape [out, in] as in pytorch; x is [..., in].",
  "attn.F.linear(x, w, b)")
doc(S, "attn.F.embedding", "attn.F.embedding(ids, W) -> Tensor",
  "the rows of W [vocab, d] for the given token ids.",
  "attn.F.embedding({5, 9}, wte)")
doc(S, "attn.F.layer_norm", "attn.F.layer_norm(x, w, b, eps?) -> Tensor",
  "normalises the last dimension to mean 0 and variance 1 (eps, added to the variance, " ..
  "has a small default), then scales by w and shifts by b.", "attn.F.layer_norm(x, g, b)")
doc(S, "attn.F.softmax", "attn.F.softmax(x, dim) -> Tensor", "x:softmax(dim) as a function.",
  "attn.F.softmax(scores, -1)")
doc(S, "attn.F.gelu", "attn.F.gelu(x) -> Tensor", "x:gelu() as a function (exact erf form).",
  "attn.F.gelu(h)")
doc(S, "attn.F.dropout", "attn.F.dropout(x, p) -> Tensor",
  "zeroes each element with probability p and scales the rest by 1/(1-p), so the " ..
  "expected value is unchanged.",
  "attn.F.dropout(h, 0.1)")
doc(S, "attn.F.cross_entropy", "attn.F.cross_entropy(logits, targets) -> Tensor",
  "the mean negative log-likelihood of the 1-based class targets under softmax(logits); " ..
  "logits [N, C], targets a list or tensor of N classes in 1..C.",
  "attn.F.cross_entropy(logits, {3, 1})")
doc(S, "attn.F.binary_cross_entropy", "attn.F.binary_cross_entropy(p, y) -> Tensor",
  "the mean of -(y log p + (1-y) log(1-p)) for probabilities p and 0/1 labels y.",
  "attn.F.binary_cross_entropy(p, y)")
doc(S, "attn.F.scaled_dot_product_attention",
  "attn.F.scaled_dot_product_attention(q, k, v, {causal=, mask=, window=, scale=, weights=}) -> out, w?",
  "softmax(q k^T * scale + mask) v with q [..., Tq, D], k [..., Tk, D], v [..., Tk, Dv]; " ..
  "scale defaults to 1/sqrt(D); mask is 1 keep / 0 drop, broadcast to [..., Tq, Tk]; " ..
  "causal hides later keys (aligned to the end when Tq < Tk); window=W keeps only keys " ..
  "within W positions (local attention). w, the [..., Tq, Tk] weights, only with " ..
  "weights=true; without weights or a mask the fused kernel runs.",
  "out, w = attn.F.scaled_dot_product_attention(q, k, v, {causal=true, weights=true})")
doc(S, "attn.F.attention",
  "attn.F.attention(q, k, v, {score=, norm=, temperature=, params=}) -> out, w, scores",
  "the teaching form of attention: score is \"dot\", \"scaled_dot\", \"cosine\", " ..
  "\"additive\" or \"bilinear\"; norm is \"softmax\", \"hard\" or \"sparsemax\"; returns " ..
  "the output, the weights and the raw scores.",
  "out, w, s = attn.F.attention(q, k, v, {score=\"cosine\"})")
doc(S, "attn.F.linear_attention", "attn.F.linear_attention(q, k, v, {causal=false}) -> Tensor",
  "attention in time linear in T: exp(q.k) is replaced by phi(q).phi(k) with phi(x) = " ..
  "elu(x) + 1, so sum_j phi(k_j)^T v_j is computed once (or as a running sum when causal) " ..
  "and no [T, T] matrix exists. The long-sequence lesson compares it with softmax attention.",
  "out = attn.F.linear_attention(q, k, v, {causal=true})")

-- ---- Modules ----------------------------------------------------------------------
S = "Modules"
doc(S, "attn.nn.Linear", "attn.nn.Linear(i, o, {bias=true}) -> Module",
  "a layer y = x W^T + b with weight [o, i] and bias [o].", "attn.nn.Linear(64, 10)")
doc(S, "attn.nn.Embedding", "attn.nn.Embedding(n, d) -> Module",
  "a table of n vectors of size d looked up by token id.", "attn.nn.Embedding(50257, 768)")
doc(S, "attn.nn.LayerNorm", "attn.nn.LayerNorm(d) -> Module",
  "layer normalisation over the last dimension of size d with learned weight and bias.",
  "attn.nn.LayerNorm(64)")
doc(S, "attn.nn.Dropout", "attn.nn.Dropout(p) -> Module",
  "dropout with probability p in training mode; the identity in eval mode.",
  "attn.nn.Dropout(0.1)")
doc(S, "attn.nn.GELU", "attn.nn.GELU() -> Module", "the gelu activation as a module.",
  "attn.nn.GELU()")
doc(S, "attn.nn.Sequential", "attn.nn.Sequential{m1, m2, ...} -> Module",
  "applies the modules in order, each to the output of the previous one.",
  "attn.nn.Sequential{attn.nn.Linear(4, 8), attn.nn.GELU(), attn.nn.Linear(8, 4)}")
doc(S, "attn.nn.MultiHeadAttention",
  "attn.nn.MultiHeadAttention{d_model=, n_heads=, causal=false} -> Module",
  "multi-head attention with q_proj, k_proj, v_proj and out_proj ([d, d] weights and [d] " ..
  "biases). y, w = mha(x, {weights=true, context=, mask=}); x is [B, T, d] or [T, d]; " ..
  "context gives keys and values from another sequence (cross-attention); w is " ..
  "[B, heads, Tq, Tk].", "mha = attn.nn.MultiHeadAttention{d_model=64, n_heads=4}")
doc(S, "attn.nn.TransformerBlock",
  "attn.nn.TransformerBlock{d_model=, n_heads=, d_ff=, causal=, dropout=} -> Module",
  "one transformer block: multi-head attention and a gelu feed-forward of width d_ff, " ..
  "each with layer norm and a residual connection.",
  "attn.nn.TransformerBlock{d_model=64, n_heads=4, d_ff=256}")
doc(S, "Module:param", "m:param(name, tensor) -> tensor",
  "inside a module's init: registers tensor as a parameter called name (it requires grad " ..
  "and appears in parameters() and state_dict() in registration order).",
  "self:param(\"weight\", attn.randn(o, i))")
doc(S, "Module:child", "m:child(name, module) -> module",
  "inside init: registers a sub-module; its parameters get the prefix \"name.\".",
  "self:child(\"q_proj\", attn.nn.Linear(d, d))")
doc(S, "Module:describe", "m:describe(indent) -> string",
  "the module tree with parameter shapes and counts (what tostring(m) prints).", "print(m)")
doc(S, "attn.nn.class", "attn.nn.class(name) -> class",
  "makes a new module class: define class:init(...) and class:forward(x); class(...) builds " ..
  "one. This is how every layer in lua/attn/nn.lua is written.",
  "local Double = attn.nn.class(\"Double\"); function Double:init() end; " ..
  "function Double:forward(x) return x * 2 end")
doc(S, "Module:forward", "m(x) / m:forward(x) -> Tensor", "runs the module on x.", "y = m(x)")
doc(S, "Module:parameters", "m:parameters() -> {Tensor, ...}",
  "every trainable tensor of m and its children, for an optimizer.",
  "attn.optim.AdamW(m:parameters())")
doc(S, "Module:named_parameters", "m:named_parameters() -> {name = Tensor}",
  "the parameters under dotted names such as \"q_proj.weight\".",
  "for k, p in pairs(m:named_parameters()) do print(k, p:shape()) end")
doc(S, "Module:num_parameters", "m:num_parameters() -> n",
  "the number of trainable numbers in m.", "m:num_parameters()")
doc(S, "Module:state_dict", "m:state_dict() -> {name = Tensor}",
  "the parameters and buffers by name, for saving.", "attn.save(\"m.safetensors\", m:state_dict())")
doc(S, "Module:load_state_dict", "m:load_state_dict(t, {strict=true})",
  "copies tensors from t into the parameters of the same names; strict makes missing or " ..
  "extra names an error.", "m:load_state_dict(attn.load(\"m.safetensors\"))")
doc(S, "Module:train", "m:train() -> m", "training mode: dropout is active.", "m:train()")
doc(S, "Module:eval", "m:eval() -> m", "evaluation mode: dropout is off.", "m:eval()")
doc(S, "Module:to", "m:to(device) -> m", "moves every parameter to \"cpu\" or \"cuda\".",
  "m:to(\"cuda\")")

-- ---- Models --------------------------------------------------------------------------
S = "Models"
doc(S, "attn.models.gpt", "attn.models.gpt{vocab=, ctx=, n_layer=, n_head=, d_model=, dropout=0}",
  "a gpt-style decoder (causal attention) with fresh weights.",
  "m = attn.models.gpt{vocab=65, ctx=64, n_layer=2, n_head=4, d_model=64}")
doc(S, "attn.models.gpt2_small", "attn.models.gpt2_small() -> Model",
  "the full-size gpt-2 shape (124M parameters) with fresh weights.", "attn.models.gpt2_small()")
doc(S, "attn.models.bert", "attn.models.bert{...} -> Model",
  "a bert-style encoder (bidirectional attention) with fresh weights.",
  "attn.models.bert{vocab=100, ctx=32, n_layer=2, n_head=2, d_model=32}")
doc(S, "attn.models.bert_base", "attn.models.bert_base() -> Model",
  "the bert-base shape (110M parameters) with fresh weights.", "attn.models.bert_base()")
doc(S, "attn.models.sample", "attn.models.sample(logits, temperature, top_k?) -> id",
  "draws one token id from a [vocab] logits vector: softmax of logits / temperature over " ..
  "the top_k largest (all when nil); temperature 0 takes the largest.",
  "attn.models.sample(logits[#ids], 0.8, 40)")
doc(S, "attn.models.load", "attn.models.load(dir | name) -> m, tok",
  "a hugging face gpt-2 or bert folder (config.json, model.safetensors and tokenizer " ..
  "files) as a model and its tokenizer; a built-in model's name (attn.models.list()) " ..
  "works too.", "m, tok = attn.models.load(\"gpt2\")")
doc(S, "attn.models.builtin", "attn.models.builtin(name) -> m, tok",
  "a small pretrained model shipped in data/models/ and its tokenizer. \"mini\" is a " ..
  "4-layer gpt (4 heads, d_model 128, context 128) trained by attnlab on classical " ..
  "chinese poems and the king james bible; its bpe keeps each chinese character whole. " ..
  "an unknown name is an error that lists the available ones.",
  "m, tok = attn.models.builtin(attn.models.list()[1])")
doc(S, "attn.models.list", "attn.models.list() -> {name, ...}",
  "the names of the built-in models present (data/models/index.txt), the default first.",
  "attn.models.list()")
doc(S, "Model:forward", "m:forward(ids, {record=true}) -> logits, rec (bert: hidden, pooled, rec)",
  "runs the model on token ids (the vocabulary's own numbers; a list, or a list of lists " ..
  "for a batch). With record, rec.attention[layer] holds the weights: [heads, T, T] for " ..
  "one list, [B, heads, T, T] for a batch. bert takes {token_types=, mask=} too.",
  "logits, rec = m:forward(tok:encode(\"hello\"), {record=true})")
doc(S, "Model:generate", "m:generate(prompt_ids, {max_new=20, temperature=1, top_k=nil}) -> ids",
  "continues the prompt by sampling (gpt models only).",
  "tok:decode(m:generate(tok:encode(\"Once\"), {max_new=20}))")
doc(S, "Model:save", "m:save(dir)", "writes config.json and model.safetensors into dir.",
  "m:save(\"my-model\")")
doc(S, "Model:hook",
  "m:hook(\"attention\", function(layer, weights, info) ... end, {layers=}) -> handle",
  "calls the function with each layer's attention weights during every forward (and " ..
  "generate): [heads, Tq, Tk] for one sequence, [B, heads, Tq, Tk] for a batch. returning a " ..
  "tensor of the same shape replaces them and the layer's output is computed from it " ..
  "(ablations, patching); nil leaves them. only hooked layers (all, or those in layers=) " ..
  "leave the fused kernel. handle:remove() stops it.",
  "h = m:hook(\"attention\", function(l, w) print(l, w:shape()) end); h:remove()")
doc(S, "Model:remove_hooks", "m:remove_hooks()", "removes every attention hook of the model.",
  "m:remove_hooks()")

-- ---- Files and tokenizers --------------------------------------------------------------
S = "Files and tokenizers"
doc(S, "attn.save", "attn.save(path, {name = Tensor, ...})",
  "writes the named tensors to a .safetensors file.", "attn.save(\"x.safetensors\", {w = w})")
doc(S, "attn.load", "attn.load(path) -> {name = Tensor}",
  "reads the tensors of a .safetensors file.", "t = attn.load(\"x.safetensors\")")
doc(S, "attn.tokenizer.bpe", "attn.tokenizer.bpe{vocab=\"vocab.json\", merges=\"merges.txt\"}",
  "gpt-2's byte-level bpe tokenizer.", "tok = attn.tokenizer.bpe{vocab=v, merges=m}")
doc(S, "attn.tokenizer.wordpiece", "attn.tokenizer.wordpiece{vocab=\"vocab.txt\", lowercase=true}",
  "bert's wordpiece tokenizer.", "tok = attn.tokenizer.wordpiece{vocab=\"vocab.txt\"}")
doc(S, "attn.tokenizer.chars", "attn.tokenizer.chars({text=, vocab=, unk=}?) -> Tokenizer",
  "one token per utf-8 character (chinese too): ids are code points, or positions in a " ..
  "vocabulary built from text= or given as vocab=.", "attn.tokenizer.chars():tokens(\"今天\")")
doc(S, "Tokenizer:encode", "tok:encode(s) -> ids",
  "the token ids of string s (the vocabulary's own numbers).", "tok:encode(\"hello\")")
doc(S, "Tokenizer:decode", "tok:decode(ids) -> s", "the string for a list of token ids.",
  "tok:decode({31373})")
doc(S, "Tokenizer:tokens", "tok:tokens(s) -> {string, ...}", "the token strings of s.",
  "tok:tokens(\"unbelievable\")")
doc(S, "Tokenizer:vocab_size", "tok:vocab_size() -> n",
  "the size of the vocabulary: for bpe the largest id + 1 (ids are the file's own, so this " ..
  "is also the embedding table's row count).", "tok:vocab_size()")
doc(S, "Tokenizer:labels", "tok:labels(ids or s) -> {string, ...}",
  "readable token labels for pictures: byte-level pieces shown as text, a character split " ..
  "over several pieces shown whole in each, control characters escaped, so chinese never " ..
  "shows as a replacement box.", "tok:labels(\"今天天气\")")

-- ---- Training -------------------------------------------------------------------------
S = "Training"
doc(S, "attn.optim.AdamW",
  "attn.optim.AdamW(params, {lr=3e-4, betas={0.9,0.999}, eps=1e-8, weight_decay=0.01}) " ..
  "-> Optimizer",
  "adam with decoupled weight decay (loshchilov & hutter): p shrinks by lr*weight_decay, then " ..
  "moves by lr * m / (sqrt(v) + eps) with bias-corrected running means m of g and v of g^2. " ..
  "params is a list of leaf tensors (m:parameters()); opt.lr and the other options are " ..
  "fields you may change between steps; opt.state[i] holds params[i]'s moments.",
  "opt = attn.optim.AdamW(m:parameters(), {lr=1e-3})")
doc(S, "attn.optim.SGD",
  "attn.optim.SGD(params, {lr=, momentum=0, weight_decay=0, nesterov=false}) -> Optimizer",
  "stochastic gradient descent: p = p - lr * g, with g + weight_decay * p as the gradient " ..
  "and, with momentum, a running buffer = momentum * buffer + g used in place of g " ..
  "(nesterov: g + momentum * buffer). lr is required; opt.lr may be changed between steps.",
  "attn.optim.SGD(m:parameters(), {lr=0.1, momentum=0.9})")
doc(S, "Optimizer:step", "opt:step()",
  "updates every parameter that has a gradient (p.grad); parameters without one are " ..
  "skipped. runs under attn.no_grad.", "loss:backward(); opt:step()")
doc(S, "Optimizer:zero_grad", "opt:zero_grad()",
  "sets every parameter's gradient to zeros: gradients add up over backward calls, so " ..
  "call it before each backward.", "opt:zero_grad()")
doc(S, "attn.optim.schedule",
  "attn.optim.schedule(opt, {warmup=0, total=, kind=\"linear\"|\"cosine\"|\"constant\", " ..
  "min_lr=0}) -> sched",
  "a learning-rate schedule: opt.lr ramps up linearly over warmup steps to the optimizer's lr, " ..
  "then falls linearly or along a half cosine to min_lr at step total (constant: stays). " ..
  "it sets opt.lr at once; call sched:step() after each opt:step(). sched:lr(t?) is the rate " ..
  "after t steps (default: now).",
  "sched = attn.optim.schedule(opt, {warmup=10, total=100, kind=\"cosine\"})")
doc(S, "attn.optim.clip_grad_norm", "attn.optim.clip_grad_norm(params, max_norm) -> norm",
  "the norm of all gradients together (as one vector); when it is above max_norm every " ..
  "gradient is scaled down so that it is max_norm. returns the norm before clipping.",
  "loss:backward(); attn.optim.clip_grad_norm(m:parameters(), 1.0); opt:step()")
doc(S, "attn.train.fit",
  "attn.train.fit(m, {train=, dev=, epochs=1, batch=32, opt=, sched=, loss=, on_step=, " ..
  "patience=, clip=, params=, progress=, out=}) -> history",
  "the training loop. m: a module, or a function with params= (a list of tensors). data: a " ..
  "list of examples {x=, y=}, columns {x=X, y=Y} (n along dim 1), or a function returning " ..
  "the next batch {x=, y=} or nil at the end of an epoch (steps= caps an epoch). loss(pred, " ..
  "y) returns a one-element tensor. a progress bar (loss, steps/s, eta) on a terminal, plain " ..
  "lines elsewhere (progress=\"bar\"|\"lines\"|false to choose; log_every=n adds a line " ..
  "every n steps). with patience=n it stops when the dev loss has not improved for n epochs " ..
  "and puts back the best parameters. on_step(info) may return false to stop. returns " ..
  "{train_loss=, dev_loss= (per epoch), step_loss=, steps=, seconds=, best_epoch=, " ..
  "stopped_early=}.",
  "attn.train.fit(f, {train=data, params={w, b}, opt=opt, loss=mse, epochs=10, batch=8})")
doc(S, "attn.metrics.classification_report",
  "attn.metrics.classification_report(pred, gold, {labels=, digits=2}) -> report",
  "precision, recall, f1 and support per class, accuracy, and the macro and weighted " ..
  "averages, printed as scikit-learn does. pred and gold: lists or tensors of 1-based " ..
  "classes (pred may be [n, c] scores: their argmax is used). the fields: classes[c], " ..
  "accuracy, macro, weighted, confusion.",
  "print(attn.metrics.classification_report(pred, gold, {labels={\"neg\", \"pos\"}}))")
doc(S, "attn.metrics.accuracy", "attn.metrics.accuracy(pred, gold) -> fraction",
  "the fraction of predictions equal to the gold classes (lists or tensors of 1-based " ..
  "classes; pred may be [n, c] scores).", "attn.metrics.accuracy(logits, {2, 1, 3})")
doc(S, "attn.metrics.confusion_matrix",
  "attn.metrics.confusion_matrix(pred, gold, {labels=}) -> m",
  "counts as a lua table of rows: m[gold][pred] examples of class gold predicted as pred. " ..
  "print(m) shows it with the labels; attn.tensor(m) makes a tensor (for a heatmap).",
  "print(attn.metrics.confusion_matrix(pred, gold, {labels={\"neg\", \"pos\"}}))")

-- ---- Visualisation --------------------------------------------------------------------
S = "Visualisation"
doc(S, "attn.viz.heatmap",
  "attn.viz.heatmap(w, {rows=, cols=, title=, file=, colormap=, annotate=, vmin=, vmax=})",
  "draws a 2-d tensor: to a png with file, else in a window where there is a display, " ..
  "else as colour blocks in the terminal. returns a handle.",
  "attn.viz.heatmap(w, {rows=toks, cols=toks, file=\"a.png\"})")
doc(S, "attn.viz.show", "attn.viz.show(rec, {tokens=})",
  "browses the recorded attention of every layer and head (arrows, a: average of heads, " ..
  "m: max of heads, r: rollout up to the layer, p: pin the map, d: difference to the " ..
  "pinned map, g: grid, click or shift+click: pick query rows, s: save png, q: close).",
  "attn.viz.show(rec, {tokens=toks})")
doc(S, "attn.viz.term", "attn.viz.term(w, {rows=, cols=})",
  "prints a 2-d tensor as colour blocks in the terminal.", "attn.viz.term(w)")
doc(S, "attn.viz.plot", "attn.viz.plot(values, {title=, file=})",
  "a line plot of a list of numbers (a loss curve).", "attn.viz.plot(losses, {file=\"loss.png\"})")
doc(S, "attn.viz.diff", "attn.viz.diff(w1, w2, opts?)",
  "the heatmap of w1 - w2 on the diverging colormap, centred on 0 and symmetric: red where " ..
  "w1 attends more, blue where w2 does. Other options as heatmap.",
  "attn.viz.diff(w_before, w_after, {rows=toks, cols=toks})")
doc(S, "attn.viz.wait", "attn.viz.wait()", "blocks until every window is closed (for scripts).",
  "attn.viz.wait()")
doc(S, "attn.viz.rollout", "attn.viz.rollout(rec, {residual=0.5, upto=, heads=\"mean\"}) -> Tensor",
  "attention rollout (abnar & zuidema 2020): per layer the heads are averaged, the residual " ..
  "path counted as attention to oneself (A' = 0.5 A + 0.5 I), rows renormalised, and the " ..
  "layers multiplied (R = A'_L ... A'_1): how much each token at the top draws on each " ..
  "input token.", "attn.viz.heatmap(attn.viz.rollout(rec))")
doc(S, "attn.viz.export", "attn.viz.export(w, path, {rows=, cols=}) -> path",
  "writes a 2-d tensor as csv: a header of column labels, then one line per row led by its " ..
  "label; 9 significant digits, so float32 values read back exactly. written atomically.",
  "attn.viz.export(w, \"w.csv\", {rows=toks, cols=toks})")
doc(S, "attn.viz.grid", "attn.viz.grid(rec, {file=, title=, colormap=, vmin=, vmax=})",
  "writes every layer x head of a record as thumbnails in one png (a row per layer, a " ..
  "column per head, one colour range): the browser's g page as a file.",
  "attn.viz.grid(rec, {file=\"all.png\"})")
doc(S, "attn.viz.reduce_heads", "attn.viz.reduce_heads(w, \"mean\"|\"max\") -> Tensor",
  "one [Tq, Tk] map from a layer's [heads, Tq, Tk] weights: the average of the heads (rows " ..
  "still sum to 1) or the largest weight over heads at each cell.",
  "attn.viz.reduce_heads(rec.attention[2], \"max\")")
doc(S, "attn.viz.queries", "attn.viz.queries(w, {i, j, ...}, labels?) -> Tensor, labels",
  "the rows of the chosen query tokens, in the order given (and their labels).",
  "attn.viz.heatmap(attn.viz.queries(w, {3, 5}))")
doc(S, "attn.viz.group", "attn.viz.group(w, groups) -> Tensor",
  "the map over groups of tokens (words, characters): groups lists each group's token " ..
  "positions. attention to a group is the sum over its pieces (columns); a group's own " ..
  "row is the average of its pieces' rows, so rows still sum to 1.",
  "attn.viz.group(w, {{1}, {2, 3}, {4}})")

-- ---- Exploring ------------------------------------------------------------------------
S = "Exploring"
doc(S, "attn.look",
  "attn.look(text, {model=, png=, grid=, csv=, layer=, head=, heads=, level=, rollout=, " ..
  "queries=, " ..
  "ablate=, scale=, hard=, mask=, generate=, pair=}) -> result",
  "a model's attention on your sentence: tokenises with the model's tokenizer, runs it with " ..
  "recording and opens the layer/head browser (a window; the chosen map and where each " ..
  "token looks most in the terminal when headless; png/csv files when asked: the chosen " ..
  "map, or one per layer as name-layerN.png, or with grid=true one png of every layer " ..
  "and head). model: a built-in name, a hugging face " ..
  "gpt-2/bert folder, or a model object with tokenizer=. level \"char\" merges byte pieces " ..
  "into characters, \"word\" into words (## pieces for bert; spaces, punctuation and each " ..
  "chinese character end a word): attention to a word is summed over its pieces, a word's " ..
  "row is the average of its pieces' rows. bert: text {a, b}, pair= or \"a [SEP] b\" gives " ..
  "[CLS] a [SEP] " ..
  "b [SEP] with token types. generate=N continues a gpt prompt greedily (temperature=) and " ..
  "shows the generated tokens too. interventions, only for this call (hooks removed even on " ..
  "error): ablate={{layer=,head=}} zeroes a head's weights, scale={{layer=,head=,factor=}}, " ..
  "hard=true or {layers} puts all weight on each row's largest, mask={{key=,query=,layer=," ..
  "head=}} drops a key and renormalises; next-token probabilities (gpt) or the classifier " ..
  "(bert, classifier=) are shown before and after, with the difference of the maps.",
  "attn.look(\"今天天气怎么样？\", {level=\"char\", ablate={{layer=1, head=2}}})")
doc(S, "attn.heads.detect",
  "attn.heads.detect(m, {kind=, n=, count=4, seed=1, ids=, pattern=, probes=, show=}) -> Tensor",
  "scores every head [layers, heads] as a \"previous_token\", \"first_token\", " ..
  "\"duplicate_token\" or \"induction\" head: the share of its attention on the target " ..
  "keys, averaged over probe sequences drawn from the vocabulary by a seeded generator " ..
  "(a random half of n distinct tokens, repeated for duplicate and induction). 1 is a " ..
  "perfect head of the kind; a uniform head scores about 1/T. pattern= a [T, T] 0/1 " ..
  "tensor with probes= id lists scores your own pattern. show=true prints and draws it.",
  "attn.heads.detect(m, {kind=\"induction\", show=true})")
doc(S, "attn.heads.summary",
  "attn.heads.summary(m, {threshold=0.4}) -> {{layer=,head=,kind=,score=}}",
  "prints each head's best-matching kind (\"-\" when no kind reaches the threshold) and " ..
  "returns the list.", "attn.heads.summary(m)")
doc(S, "attn.heads.table", "attn.heads.table(scores, title?) -> text",
  "detector scores as a small table, layers down, heads across.",
  "print(attn.heads.table(attn.heads.detect(m, {kind=\"first_token\"})))")
doc(S, "attn.heads.show", "attn.heads.show(scores, {title=, file=})",
  "prints the table and draws the scores as a heatmap on a 0..1 scale.",
  "attn.heads.show(attn.heads.detect(m, {kind=\"induction\"}))")

-- ---- Devices, lessons, helpers ------------------------------------------------------------
S = "Devices, lessons, helpers"
doc(S, "attn.cuda.available", "attn.cuda.available() -> boolean",
  "true when a cuda gpu can be used.", "attn.cuda.available()")
doc(S, "attn.cuda.device_name", "attn.cuda.device_name() -> name | nil, reason",
  "the gpu's name, or nil and the reason there is none.", "attn.cuda.device_name()")
doc(S, "attn.set_default_device", "attn.set_default_device(\"cpu\" | \"cuda\")",
  "where new tensors are made when no device is given.", "attn.set_default_device(\"cuda\")")
doc(S, "attn.default_device", "attn.default_device() -> \"cpu\" | \"cuda\"",
  "where new tensors are made now.", "attn.default_device()")
doc(S, "attn.threads", "attn.threads(n?) -> n",
  "sets (with n) and returns the number of cpu threads used by the kernels.", "attn.threads(4)")
doc(S, "attn.memory", "attn.memory() -> bytes",
  "the bytes of tensor data alive now, over all devices.", "attn.memory() / 2^20")
doc(S, "attn.clock", "attn.clock() -> seconds",
  "a monotonic clock in seconds (for timing).", "local t0 = attn.clock()")
doc(S, "attn.time", "attn.time(fn, n?) -> median, min, max",
  "runs fn n times (default 5) after one warm-up call and returns the median seconds, " ..
  "then the fastest and slowest.", "attn.time(function() x:matmul(x) end, 10)")
-- lessons (the lessons engineer's entries)
doc(S, "attn.lesson.list", "attn.lesson.list() -> {{id=, number=, title=, minutes=}, ...}",
  "the lessons in the lessons folder, in order; title is in your locale's language and " ..
  "titles holds both. prints as a table. same as attnlab --list-lessons.",
  "attn.lesson.list()")
doc(S, "attn.lesson.run",
  "attn.lesson.run(id, {lang=\"en\"|\"zh\", auto=false, answers=}) -> report",
  "runs lesson id (its number, its name or NN-name) step by step in this repl: text, code " ..
  "that runs in your globals (so its variables stay), pictures and exercises. keys between " ..
  "steps: Enter next, b back, r re-run, q leave. an exercise takes a number, a table such as " ..
  "{{1,2},{3,4}}, a choice number or any Lua expression; a wrong answer shows a hint, an " ..
  "empty line the solution. auto runs to the end without keys; answers gives one entry per " ..
  "exercise (a value, or {attempts={wrong, right}}). the report is {steps=, exercises=, " ..
  "correct=, errors=, quit=}. lang defaults to LC_ALL / LC_MESSAGES / LANG (zh* is Chinese).",
  "attn.lesson.run(1, {lang=\"zh\"})")
doc(S, "attn.lesson.export", "attn.lesson.export(id, {lang=, dir=\".\"}) -> path",
  "runs the lesson and writes a handout for teachers: dir/NN-name.<lang>.md with the text, " ..
  "the code and its output, the exercises with hints, the solutions at the end, and each " ..
  "picture as a png beside it. the lesson's code runs in an environment of its own, so " ..
  "your variables are left alone.",
  "attn.lesson.export(1, {lang=\"zh\", dir=\"handouts\"})")
doc(S, "attn.lesson.load", "attn.lesson.load(id) -> lesson",
  "the lesson table of lesson id, checked (id, title, minutes, steps), with number and " ..
  "file added: for reading a lesson or writing a new one.",
  "#attn.lesson.load(1).steps")
doc(S, "help", "help(x?) -> text",
  "help on a function, a name (\"zeros\", \"attn.F.linear\", \"Tensor:softmax\"), a " ..
  "section (\"Tensors\") or a tensor; help() gives the overview. also attn.help.",
  "help(attn.zeros)   help(\"softmax\")")
doc(S, "attn.version", "attn.version -> string", "the version of attnlab.", "print(attn.version)")

M.docs = docs
M.sections = SECTIONS

-- ---- finding things -------------------------------------------------------------------

local function get_attn()
  local a = rawget(_G, "attn")
  if type(a) ~= "table" then
    local ok, r = pcall(require, "attn")
    a = ok and type(r) == "table" and r or nil
  end
  return a
end

local function is_tensor(x)
  local mt = type(x) == "userdata" and getmetatable(x)
  return type(mt) == "table" and mt.__name == "attn.Tensor"
end

-- The tensor methods: the __index table, or the metatable's `methods` field
-- when __index is a function (numeric indexing needs one).
function M.tensor_methods()
  local attn = get_attn()
  local mt
  if attn and type(attn.Tensor) == "table" then mt = attn.Tensor end
  if not mt and attn and attn.ones then
    local ok, t = pcall(attn.ones, 1)
    if ok then mt = getmetatable(t) end
  end
  if type(mt) ~= "table" then return {} end
  if type(mt.__index) == "table" then return mt.__index end
  if type(mt.methods) == "table" then return mt.methods end
  return {}
end

local OBJECTS = { -- "Kind:" prefixes and the table whose presence makes them exist
  Module = {"nn"}, Model = {"models"}, Tokenizer = {"tokenizer"}, Optimizer = {"optim"},
}

-- Does the thing named exist in this build?
function M.exists(name)
  if name == "help" then return true end
  local attn = get_attn()
  if not attn then return false end
  local kind, meth = name:match("^(%u%w*):([%w_]+)$")
  if kind == "Tensor" then return M.tensor_methods()[meth] ~= nil end
  if kind then
    local where = OBJECTS[kind]
    return where ~= nil and attn[where[1]] ~= nil
  end
  local v = attn
  local rest = name:match("^attn%.(.+)$")
  if not rest then return false end
  for part in rest:gmatch("[^.]+") do
    if type(v) ~= "table" then return false end
    v = v[part]
  end
  return v ~= nil
end

-- value -> list of names, by walking attn. One function may have several
-- names (attn.matmul and Tensor:matmul are one C function); aliases such as
-- attn.Tensor.methods.sum are kept too but documented names come first.
local function identity_map()
  local map = {}
  local function put(v, name)
    local l = map[v]
    if not l then
      l = {}
      map[v] = l
    end
    for _, n in ipairs(l) do if n == name then return end end
    l[#l + 1] = name
  end
  for k, f in pairs(M.tensor_methods()) do put(f, "Tensor:" .. k) end
  put(M.help, "help")
  local attn = get_attn()
  -- Module classes: a class's init is its constructor, the rest are the
  -- methods every module shares (documented as Module:name).
  local nn = attn and rawget(attn, "nn")
  if type(nn) == "table" and type(nn.Module) == "table" then
    for k, f in pairs(nn.Module) do
      if type(f) == "function" then put(f, "Module:" .. k) end
    end
    for cname, cls in pairs(nn) do
      if type(cls) == "table" and rawget(cls, "__name") then
        for k, f in pairs(cls) do
          if type(f) == "function" and not k:match("^__") then
            put(f, k == "init" and "attn.nn." .. cname or "Module:" .. k)
          end
        end
      end
    end
  end
  -- Model classes (GPT, BERT): init is attn.models.gpt / .bert.
  local models = attn and rawget(attn, "models")
  if type(models) == "table" then
    for cname, cls in pairs(models) do
      if type(cls) == "table" and rawget(cls, "__name") then
        for k, f in pairs(cls) do
          if type(f) == "function" and not k:match("^__") then
            put(f, k == "init" and "attn.models." .. cname:lower() or "Model:" .. k)
          end
        end
      end
    end
  end
  if attn then
    local seen = {}
    local function walk(t, prefix, depth)
      if seen[t] or depth > 4 then return end
      seen[t] = true
      for k, v in pairs(t) do
        if type(k) == "string" and not k:match("^__") then
          local name = prefix .. "." .. k
          if type(v) == "function" or type(v) == "table" then put(v, name) end
          if type(v) == "table" then walk(v, name, depth + 1) end
        end
      end
    end
    walk(attn, "attn", 1)
  end
  for _, l in pairs(map) do
    table.sort(l, function(a, b)
      local da, db = docs[a] ~= nil, docs[b] ~= nil
      if da ~= db then return da end
      return a < b
    end)
  end
  return map
end

-- Every name of v (documented ones first), or nil.
function M.names_of(v)
  return identity_map()[v]
end

-- The first (preferably documented) name of v, or nil.
function M.name_of(v)
  local l = identity_map()[v]
  return l and l[1]
end

-- ---- formatting ---------------------------------------------------------------------

local function wrap(text, indent, width)
  local out, line = {}, indent
  for word in text:gmatch("%S+") do
    if #line + #word + 1 > width and #line > #indent then
      out[#out + 1] = line
      line = indent
    end
    line = line .. (#line > #indent and " " or "") .. word
  end
  if #line > #indent then out[#out + 1] = line end
  return table.concat(out, "\n")
end

local function render(d)
  local parts = {d.sig, wrap(d.text, "  ", 78)}
  if d.example then parts[#parts + 1] = "  example: " .. d.example end
  return table.concat(parts, "\n")
end

local function overview()
  local out = {"attnlab help: help(x) for a function, help(\"name\") to look one up.",
               "indices and dims are 1-based; tensors are float32."}
  for _, sec in ipairs(SECTIONS) do
    local names = {}
    for _, name in ipairs(order) do
      if docs[name].section == sec and M.exists(name) then names[#names + 1] = name end
    end
    if #names > 0 then
      out[#out + 1] = ""
      out[#out + 1] = sec:lower() .. ":"
      out[#out + 1] = wrap(table.concat(names, "  "), "  ", 78)
    end
  end
  return table.concat(out, "\n")
end

local function section_text(sec)
  local out = {sec:lower() .. ":"}
  for _, name in ipairs(order) do
    local d = docs[name]
    if d.section == sec and M.exists(name) then out[#out + 1] = "  " .. d.sig end
  end
  if #out == 1 then out[#out + 1] = "  (nothing from this section in this build yet)" end
  return table.concat(out, "\n")
end

local function describe_tensor(t)
  local okc, shape = pcall(function() return t:shape() end)
  if not okc then return "a closed tensor (its data has been freed)" end
  local dev = t:device()
  local names = {}
  for k in pairs(M.tensor_methods()) do names[#names + 1] = k end
  table.sort(names)
  return table.concat({
    ("a tensor of shape [%s] (%d elements, float32) on %s."):format(
      table.concat(shape, "x"), t:numel(), dev),
    "operators: + - * / ^ and unary minus (elementwise, broadcast), #t, t[i].",
    "methods:",
    wrap(table.concat(names, " "), "  ", 78),
    "help(\"Tensor:NAME\") describes one.",
  }, "\n")
end

-- Names matching a query: exact, then the last component ("softmax" ->
-- Tensor:softmax and attn.F.softmax), case-insensitive.
local function lookup(q)
  local norm = q:gsub("^t:", "Tensor:"):gsub("^Tensor%.", "Tensor:")
  if docs[norm] then return {norm} end
  if docs["attn." .. norm] then return {"attn." .. norm} end
  local hits, lq = {}, norm:lower()
  for _, name in ipairs(order) do
    local last = name:match("[.:]([^.:]+)$") or name
    if last:lower() == lq then hits[#hits + 1] = name end
  end
  return hits
end

function M.text(x)
  if x == nil then return overview() end
  if is_tensor(x) then return describe_tensor(x) end
  if type(x) == "string" then
    for _, sec in ipairs(SECTIONS) do
      if sec:lower() == x:lower() then return section_text(sec) end
    end
    local shown = {}
    for _, name in ipairs(lookup(x)) do
      if M.exists(name) then shown[#shown + 1] = render(docs[name]) end
    end
    if #shown > 0 then return table.concat(shown, "\n\n") end
    return ("no help for '%s': no such function in this build. help() lists what " ..
            "there is."):format(x)
  end
  if type(x) == "function" or type(x) == "table" then
    local names = M.names_of(x)
    if names then
      local shown = {}
      for _, name in ipairs(names) do
        if docs[name] then shown[#shown + 1] = render(docs[name]) end
      end
      if #shown > 0 then return table.concat(shown, "\n\n") end
      return names[1] .. ": not documented yet."
    end
    return ("no help for this %s: it is not part of attn."):format(type(x))
  end
  return ("no help for a %s value (%s)."):format(type(x), tostring(x))
end

-- The sink; tests replace it to keep TAP output clean.
function M.write(s)
  io.write(s, "\n")
end

function M.help(x)
  local s = M.text(x)
  M.write(s)
  return s
end

return M
