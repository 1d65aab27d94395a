-- hooks.lua: m:hook("attention", fn) on GPT and BERT: what the hook sees,
-- replacing weights, removal, layers=, batches, generation, errors.
--
-- A zero-ablated head is checked against an independent route to the same
-- model: zeroing the head's value projection (rows of v_proj and its bias)
-- makes that head's output w v zero whatever w is, which is exactly what
-- zero weights do.

local T = dofile((os.getenv("ATTNLAB_PATH") or ".") .. "/tests/lua/tap.lua")
local attn = attn or require "attn"

local function maxdiff(a, b) return (a - b):abs():max():item() end

local function gpt(seed)
  attn.seed(seed or 3)
  local m = attn.models.gpt{vocab = 30, ctx = 16, n_layer = 3, n_head = 2, d_model = 16}
  m:eval()
  return m
end

-- The same weights in a second model, so edits to one leave the other.
local function copy(m, make)
  local c = make()
  c:load_state_dict(m:state_dict())
  c:eval()
  return c
end

-- Zero head h's value projection in layer l (rows of [d, d] v_proj).
local function zero_values(m, l, h)
  local a = m.blocks[l].attn
  local hs = a.d_model // a.n_heads
  attn.no_grad(function()
    a.v_proj.weight:narrow(1, (h - 1) * hs + 1, hs):fill(0)
    a.v_proj.bias:narrow(1, (h - 1) * hs + 1, hs):fill(0)
  end)
end

local ids = {3, 7, 1, 12, 25, 4}

T.section("a hook that only reads", function()
  local m = gpt()
  local base, rec = m:forward(ids, {record = true})
  local seen = {}
  local h = m:hook("attention", function(layer, w, info)
    seen[#seen + 1] = {layer = layer, shape = w:shape(), w = w, info_layer = info.layer}
  end)
  local out = m:forward(ids)
  T.is(#seen, 3, "called once per layer")
  T.is({seen[1].layer, seen[2].layer, seen[3].layer}, {1, 2, 3}, "in layer order")
  T.is(seen[2].shape, {2, 6, 6}, "weights [heads, T, T] for one sequence")
  T.is(seen[3].info_layer, 3, "info carries the layer")
  T.ok(maxdiff(seen[2].w, rec.attention[2]) < 1e-6, "the weights are the recorded ones")
  T.ok(maxdiff(out, base) < 1e-5, "returning nothing leaves the output (materialised path)",
       maxdiff(out, base))
  h:remove()
  h:remove()
  T.is(#seen, 3, "removing twice is harmless")
  m:forward(ids)
  T.is(#seen, 3, "a removed hook is not called")
end)

T.section("a zero-ablated head against zeroed values", function()
  local m = gpt()
  local ref = copy(m, gpt)
  local base = m:forward(ids)
  zero_values(ref, 2, 1)
  local want = ref:forward(ids)
  local h = m:hook("attention", function(layer, w)
    if layer ~= 2 then return nil end
    return w * attn.tensor({0, 1}):reshape(2, 1, 1)  -- head 1 off (and gradients still flow)
  end)
  local got, rec = m:forward(ids, {record = true})
  T.ok(maxdiff(got, want) < 1e-5, "hook ablation = zeroed value projection", maxdiff(got, want))
  T.ok(maxdiff(got, base) > 1e-4, "the ablation changes the output", maxdiff(got, base))
  T.is(rec.attention[2][1]:abs():sum():item(), 0, "the record shows the weights used")
  h:remove()
  T.ok(maxdiff(m:forward(ids), base) < 1e-6, "removed: the output is back")
end)

T.section("layers= and the fused kernel", function()
  local m = gpt()
  local calls, fused = {}, 0
  local flash = attn.F.flash_attention
  attn.F.flash_attention = function(...) fused = fused + 1 return flash(...) end
  local ok, err = pcall(function()
    local h = m:hook("attention", function(l) calls[#calls + 1] = l end, {layers = {2}})
    m:forward(ids)
    h:remove()
  end)
  attn.F.flash_attention = flash
  T.ok(ok, "forward with a layer hook runs", tostring(err))
  T.is(calls, {2}, "only the listed layer is hooked")
  T.is(fused, 2, "the two other layers keep the fused kernel")
  T.raises(function() m:hook("attention", function() end, {layers = {4}}) end,
           {"hook", "layer 4", "1..3"}, "a layer outside the model")
end)

T.section("batches and generation", function()
  local m = gpt()
  local shapes = {}
  local h = m:hook("attention", function(_, w) shapes[#shapes + 1] = w:shape() end,
                   {layers = {1}})
  m:forward({ids, {1, 2, 3, 4, 5, 6}})
  T.is(shapes[1], {2, 2, 6, 6}, "a batch: [B, heads, T, T]")
  h:remove()
  -- generation: after the prompt each step has one query against every key
  local steps = {}
  h = m:hook("attention", function(_, w, info) steps[#steps + 1] = {w:shape(), info.offset} end,
             {layers = {1}})
  m:generate({1, 2, 3}, {max_new = 2, temperature = 0})
  h:remove()
  T.is(steps[1][1], {2, 3, 3}, "the prompt step sees the prompt")
  T.is(steps[2][1], {2, 1, 4}, "a decoding step: one query, every key so far")
  T.is(steps[2][2], 3, "info.offset is the position of the first query")
  -- hard attention on every layer during generation changes what is generated
  -- or at least runs; its output equals a hooked forward on the same ids
  local hard = function(_, w)
    local top = w:ge((w:max(-1, true)))
    return top / top:sum(-1, true)
  end
  h = m:hook("attention", hard)
  local out = m:generate({1, 2, 3}, {max_new = 3, temperature = 0})
  local logits = m:forward(out)
  h:remove()
  local want = math.tointeger(logits[#out - 1]:argmax():item() - 1)
  T.is(out[#out], want, "a hooked generate agrees with a hooked forward")
end)

T.section("BERT", function()
  local make = function()
    attn.seed(5)
    local b = attn.models.bert{vocab = 30, ctx = 16, n_layer = 2, n_head = 2, d_model = 16}
    b:eval()
    return b
  end
  local m = make()
  local ref = copy(m, make)
  zero_values(ref, 1, 2)
  local want = ref:forward(ids)
  local h = m:hook("attention", function(layer, w)
    if layer == 1 then return w * attn.tensor({1, 0}):reshape(2, 1, 1) end
  end)
  local got = m:forward(ids)
  T.ok(maxdiff(got, want) < 1e-5, "BERT: hook ablation = zeroed value projection",
       maxdiff(got, want))
  m:remove_hooks()
  local back = m:forward(ids)
  T.ok(maxdiff(back, ref:forward(ids)) > 1e-4, "remove_hooks: the original BERT again")
  local _ = h
end)

T.section("errors", function()
  local m = gpt()
  T.raises(function() m:hook("mlp", function() end) end, {"hook", "mlp", "attention"},
           "an unknown event")
  T.raises(function() m:hook("attention", 3) end, {"hook", "function", "number"},
           "not a function")
  local h = m:hook("attention", function(_, w) return w:narrow(2, 1, 2) end)
  T.raises(function() m:forward(ids) end, {"attention hook", "[1x2x2x6]", "[1x2x6x6]"},
           "wrong shape returned")
  h:remove()
  h = m:hook("attention", function() return "x" end)
  T.raises(function() m:forward(ids) end, {"attention hook", "string"}, "not a tensor returned")
  h:remove()
end)

T.done_testing()
