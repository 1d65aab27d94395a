-- attn.nn: layers as modules that own their parameters.
--
-- A module is a table with a forward(self, x, ...) function, parameters
-- (tensors that require grad) and child modules. Calling m(x) runs
-- forward. Everything below is a few lines of tensor algebra on top of
-- attn.F; read MultiHeadAttention to see attention itself.

local attn = require "attn.core"
local F = attn.F

local nn = {}

-- ---- the module base --------------------------------------------------------

local Module = {}
Module.__index = Module
nn.Module = Module

-- A class: a metatable whose instances are modules; Class(...) calls init.
local function class(name)
  local cls = {__name = name}
  cls.__index = cls
  cls.__call = function(self, ...) return self:forward(...) end
  cls.__tostring = function(self) return self:describe("") end
  return setmetatable(cls, {__index = Module, __call = function(c, ...)
    local m = setmetatable({_params = {}, _children = {}, _order = {}, training = true}, c)
    m:init(...)
    return m
  end})
end
nn.class = class

--- Register a parameter (or a child module) under a name, in order.
function Module:param(name, t)
  self[name] = t:requires_grad(true)
  self._params[name] = true
  self._order[#self._order + 1] = name
  return t
end

function Module:child(name, m)
  self[name] = m
  self._children[name] = true
  self._order[#self._order + 1] = name
  return m
end

--- {name, tensor} pairs in registration order, children prefixed "name.".
function Module:named_parameters(prefix, out, seen)
  prefix, out, seen = prefix or "", out or {}, seen or {}
  for _, name in ipairs(self._order) do
    if self._params[name] then
      local t = self[name]
      if not seen[t] then                -- a tied weight is listed once
        seen[t] = true
        out[#out + 1] = {prefix .. name, t}
      end
    else
      self[name]:named_parameters(prefix .. name .. ".", out, seen)
    end
  end
  return out
end

function Module:parameters()
  local list = {}
  for i, p in ipairs(self:named_parameters()) do list[i] = p[2] end
  return list
end

function Module:num_parameters()
  local n = 0
  for _, p in ipairs(self:parameters()) do n = n + p:numel() end
  return n
end

--- name -> tensor (the tensors themselves; save them or copy them).
function Module:state_dict()
  local sd = {}
  for _, p in ipairs(self:named_parameters()) do sd[p[1]] = p[2] end
  return sd
end

--- Copy tensors from sd into the parameters. strict (the default) makes a
-- missing or unexpected key an error; a shape mismatch always is. The
-- message lists every problem at once.
function Module:load_state_dict(sd, opts)
  local strict = not opts or opts.strict ~= false
  local problems, used = {}, {}
  local own = self:named_parameters()
  for _, p in ipairs(own) do
    local name, t = p[1], p[2]
    local src = sd[name]
    if src == nil then
      if strict then problems[#problems + 1] = "missing key " .. name end
    else
      used[name] = true
      local want, got = table.concat(t:shape(), ","), table.concat(src:shape(), ",")
      if want ~= got then
        problems[#problems + 1] = string.format("%s has shape [%s], the model wants [%s]",
                                                name, got, want)
      end
    end
  end
  if strict then
    local extra = {}
    for name in pairs(sd) do if not used[name] then extra[#extra + 1] = name end end
    table.sort(extra)
    for _, name in ipairs(extra) do problems[#problems + 1] = "unexpected key " .. name end
  end
  if #problems > 0 then
    error("load_state_dict: " .. table.concat(problems, "; "), 2)
  end
  attn.no_grad(function()
    for _, p in ipairs(own) do
      if sd[p[1]] ~= nil then p[2]:copy(sd[p[1]]) end
    end
  end)
  return self
end

function Module:train(on)
  if on == nil then on = true end
  self.training = on
  for name in pairs(self._children) do self[name]:train(on) end
  return self
end

function Module:eval() return self:train(false) end

--- Move every parameter to a device (new leaf tensors there).
function Module:to(device)
  for _, name in ipairs(self._order) do
    if self._params[name] then
      self[name] = self[name]:detach():to(device):requires_grad(true)
    else
      self[name]:to(device)
    end
  end
  return self
end

--- The module tree with shapes and parameter counts.
function Module:describe(indent)
  local lines = {string.format("%s(%s params)", getmetatable(self).__name,
                               self:num_parameters())}
  for _, name in ipairs(self._order) do
    if self._params[name] then
      lines[#lines + 1] = string.format("%s  %s [%s]", indent, name,
                                        table.concat(self[name]:shape(), "x"))
    else
      lines[#lines + 1] = string.format("%s  %s: %s", indent, name,
                                        self[name]:describe(indent .. "  "))
    end
  end
  return table.concat(lines, "\n")
end

-- Uniform(-bound, bound) initial weights, bound = 1/sqrt(fan_in), as PyTorch.
local function uniform(bound, ...)
  return attn.rand(...) * (2 * bound) - bound
end

-- ---- layers -------------------------------------------------------------------

nn.Linear = class("Linear")
function nn.Linear:init(i, o, opts)
  assert(math.type(i) == "integer" and math.type(o) == "integer", "Linear(in, out): sizes")
  local bound = 1 / math.sqrt(i)
  self:param("weight", uniform(bound, o, i))          -- [out, in], as in PyTorch
  if not opts or opts.bias ~= false then self:param("bias", uniform(bound, o)) end
end
function nn.Linear:forward(x) return F.linear(x, self.weight, self.bias) end

nn.Embedding = class("Embedding")
function nn.Embedding:init(n, d)
  self:param("weight", attn.randn(n, d))
end
function nn.Embedding:forward(ids) return F.embedding(ids, self.weight) end

nn.LayerNorm = class("LayerNorm")
function nn.LayerNorm:init(d, opts)
  self.eps = opts and opts.eps or 1e-5
  self:param("weight", attn.ones(d))
  self:param("bias", attn.zeros(d))
end
function nn.LayerNorm:forward(x) return F.layer_norm(x, self.weight, self.bias, self.eps) end

nn.Dropout = class("Dropout")
function nn.Dropout:init(p) self.p = p or 0.5 end
function nn.Dropout:forward(x) return F.dropout(x, self.p, self.training) end

nn.GELU = class("GELU")
function nn.GELU:init(kind) self.kind = kind end
function nn.GELU:forward(x) return F.gelu(x, self.kind) end

--- Sequential{m1, m2, ...}: each output feeds the next; children "1", "2", ...
nn.Sequential = class("Sequential")
function nn.Sequential:init(list)
  for i, m in ipairs(list) do self:child(tostring(i), m) end
end
function nn.Sequential:forward(x)
  for _, name in ipairs(self._order) do x = self[name](x) end
  return x
end

-- ---- attention ---------------------------------------------------------------

--- MultiHeadAttention{d_model=, n_heads=, causal=false, dropout=0}
-- y, w = mha(x, {weights=, context=, mask=, cache=, hook=})
-- cache: a table that keeps this layer's keys and values between calls, so
-- generating token t attends to the t-1 before it without recomputing them.
-- hook: a function of the weights [B, heads, Tq, Tk] that may return new
-- weights of the same shape; the output is then computed from those. The
-- weights must exist to be handed over, so a hook takes the materialised
-- path (the fused kernel never builds them).
nn.MultiHeadAttention = class("MultiHeadAttention")
function nn.MultiHeadAttention:init(o)
  assert(o.d_model % o.n_heads == 0, "MultiHeadAttention: d_model must divide into n_heads")
  self.d_model, self.n_heads, self.causal = o.d_model, o.n_heads, o.causal or false
  self.p = o.dropout or 0
  for _, name in ipairs({"q_proj", "k_proj", "v_proj", "out_proj"}) do
    self:child(name, nn.Linear(o.d_model, o.d_model))
  end
end

-- [B, T, d] -> [B, heads, T, d/heads]
local function split_heads(x, H)
  local B, T, d = x:size(1), x:size(2), x:size(3)
  return x:reshape(B, T, H, d // H):transpose(2, 3)
end

-- The hook sees the weights; when it returns others, they replace the
-- weights and the output is recomputed from them (w' v).
local function apply_hook(hook, y, w, v)
  local new = hook(w)
  if new == nil then return y, w end
  if not attn.is_tensor(new) then
    error("attention hook: returned a " .. type(new) .. ", expected a tensor of weights or nil", 0)
  end
  local want, got = table.concat(w:shape(), "x"), table.concat(new:shape(), "x")
  if want ~= got then
    error(string.format("attention hook: returned weights of shape [%s], expected [%s]", got,
                        want), 0)
  end
  return new:matmul(v), new
end

function nn.MultiHeadAttention:forward(x, opts)
  opts = opts or {}
  local unbatched = x:dim() == 2
  if unbatched then x = x:unsqueeze(1) end
  local ctx = opts.context or x                        -- cross-attention reads another sequence
  if opts.context and unbatched then ctx = ctx:unsqueeze(1) end
  local H = self.n_heads
  local q = split_heads(self.q_proj(x), H)
  local k = split_heads(self.k_proj(ctx), H)
  local v = split_heads(self.v_proj(ctx), H)
  local cache = opts.cache                             -- generation: keys and values so far
  if cache then
    if cache.k then k, v = attn.cat({cache.k, k}, 3), attn.cat({cache.v, v}, 3) end
    cache.k, cache.v = k, v
  end
  local y, w = F.scaled_dot_product_attention(q, k, v, {causal = self.causal, mask = opts.mask,
                                                        weights = opts.weights or opts.hook ~= nil})
  if opts.hook then y, w = apply_hook(opts.hook, y, w, v) end
  local B, T = y:size(1), y:size(3)
  y = y:transpose(2, 3):reshape(B, T, self.d_model)   -- heads side by side again
  y = F.dropout(self.out_proj(y), self.p, self.training)
  if unbatched then
    y = y[1]
    if w then w = w[1] end
  end
  return y, w
end

--- TransformerBlock{d_model=, n_heads=, d_ff=4*d_model, causal=, dropout=0, norm="pre"|"post"}
nn.TransformerBlock = class("TransformerBlock")
function nn.TransformerBlock:init(o)
  self.pre = (o.norm or "pre") == "pre"
  self.p = o.dropout or 0
  self:child("ln1", nn.LayerNorm(o.d_model))
  self:child("attn", nn.MultiHeadAttention{d_model = o.d_model, n_heads = o.n_heads,
                                            causal = o.causal, dropout = o.dropout})
  self:child("ln2", nn.LayerNorm(o.d_model))
  self:child("mlp", nn.Sequential{nn.Linear(o.d_model, o.d_ff or 4 * o.d_model), nn.GELU(),
                                  nn.Linear(o.d_ff or 4 * o.d_model, o.d_model),
                                  nn.Dropout(self.p)})
end

function nn.TransformerBlock:forward(x, opts)
  local w
  if self.pre then                                     -- GPT-2: x + f(norm(x))
    local a
    a, w = self.attn(self.ln1(x), opts)
    x = x + a
    x = x + self.mlp(self.ln2(x))
  else                                                 -- BERT: norm(x + f(x))
    local a
    a, w = self.attn(x, opts)
    x = self.ln1(x + a)
    x = self.ln2(x + self.mlp(x))
  end
  return x, w
end

return nn
