-- help.lua: every function reachable from attn and every tensor method has a
-- doc entry in lua/attn/help.lua, help finds things by identity and by name,
-- shows only what exists, and says so for unknown things.

local T = dofile((os.getenv("ATTNLAB_PATH") or ".") .. "/tests/lua/tap.lua")
local attn = attn or require "attn"
local H = require "attn.help"

-- keep help's printing out of the TAP stream
local printed = {}
H.write = function(s) printed[#printed + 1] = s end

T.section("the module", function()
  T.is(type(H.help), "function", "attn.help returns a table with help")
  -- API.md: help(x) is there without a require
  T.is(rawget(_G, "help"), H.help, "the global help is attn.help's help")
  T.is(type(H.docs), "table", "the doc table is exposed")
  local bad = {}
  for name, d in pairs(H.docs) do
    if type(d.sig) ~= "string" or type(d.text) ~= "string" or #d.text < 10 then
      bad[#bad + 1] = name
    end
  end
  T.is(bad, {}, "every entry has a signature and a text")
end)

T.section("every function in attn has a doc", function()
  -- walk attn ourselves; a function counts as documented when its own path
  -- has an entry or help knows it under a documented name (an alias such as
  -- attn.Tensor.methods.sum for Tensor:sum)
  local missing, seen, nfun = {}, {}, 0
  local function walk(t, prefix, depth)
    if seen[t] or depth > 4 then return end
    seen[t] = true
    for k, v in pairs(t) do
      if type(k) == "string" and not k:match("^_") then
        local path = prefix .. "." .. k
        if type(v) == "function" then
          nfun = nfun + 1
          local alias = H.name_of(v)
          if not (H.docs[path] or (alias and H.docs[alias])) then missing[#missing + 1] = path end
        elseif type(v) == "table" then
          walk(v, path, depth + 1)
        end
      end
    end
  end
  walk(attn, "attn", 1)
  table.sort(missing)
  T.ok(nfun >= 20, "the walk found the functions of attn", nfun .. " functions")
  T.is(missing, {}, "no function of attn lacks a doc")
end)

T.section("every tensor method has a doc", function()
  local mt = getmetatable(attn.ones(1))
  local methods = type(mt.__index) == "table" and mt.__index or mt.methods
  T.is(type(methods), "table", "the tensor methods are reachable as a table")
  local missing, n = {}, 0
  for k, v in pairs(methods or {}) do
    if type(v) == "function" then
      n = n + 1
      if not H.docs["Tensor:" .. k] then missing[#missing + 1] = "Tensor:" .. k end
    end
  end
  table.sort(missing)
  T.ok(n >= 30, "there are tensor methods to check", n .. " methods")
  T.is(missing, {}, "no tensor method lacks a doc")
  -- and the contract's methods are among them (API.md, Tensors)
  local api = {"shape", "size", "dim", "numel", "device", "get", "set", "item", "table",
               "select", "narrow", "reshape", "transpose", "T", "contiguous", "clone", "to",
               "matmul", "sum", "mean", "max", "argmax", "exp", "log", "sqrt", "pow", "abs",
               "tanh", "sigmoid", "relu", "gelu", "softmax", "norm"}
  local absent = {}
  for _, k in ipairs(api) do if not (methods or {})[k] then absent[#absent + 1] = k end end
  T.is(absent, {}, "every tensor method of API.md exists")
end)

T.section("help by identity and by name", function()
  local s = H.help(attn.zeros)
  T.ok(type(s) == "string" and s:find("zeros", 1, true), "help(attn.zeros) mentions zeros", s)
  T.is(printed[#printed], s, "help prints the text it returns")
  T.ok(H.text("attn.zeros"):find("attn.zeros(", 1, true), "help('attn.zeros') by full name")
  T.ok(H.text("zeros"):find("attn.zeros(", 1, true), "help('zeros') by short name")
  local sm = H.text("softmax")
  T.ok(sm:find("t:softmax(dim)", 1, true), "help('softmax') finds Tensor:softmax", sm)
  if attn.F and attn.F.softmax then
    T.ok(sm:find("attn.F.softmax", 1, true), "help('softmax') also finds attn.F.softmax")
  else
    T.ok(not sm:find("attn.F.softmax", 1, true),
         "help('softmax') leaves out attn.F.softmax, which this build lacks")
  end
  local ones = attn.ones(1)
  T.ok(H.text(ones.softmax):find("softmax", 1, true), "help(t.softmax) by identity")
  local mm = H.text(attn.matmul)
  T.ok(mm:find("attn.matmul(a, b)", 1, true), "help(attn.matmul) shows attn.matmul", mm)
  T.ok(H.text(ones.matmul):find("a:matmul(b)", 1, true), "help(t.matmul) shows the method")
  T.ok(H.text("Tensor:get"):find("1-based", 1, true), "help('Tensor:get') says 1-based")
  T.ok(H.text(ones.argmax):find("1-based", 1, true), "help(argmax) says 1-based")
  -- the text is wrapped: compare with whitespace collapsed
  T.ok(H.text("arange"):gsub("%s+", " "):find("0, 1, ..., n-1", 1, true),
       "help('arange') states its values")
  local u = H.text("no_such_function_xyz")
  T.ok(u:find("no help", 1, true) and u:find("no_such_function_xyz", 1, true),
       "an unknown name says there is no help for it", u)
  T.ok(H.text(print):find("no help", 1, true), "help(print) says it is not part of attn")
  T.ok(H.text(42):find("no help", 1, true), "help(42) says there is none")
  if not attn.viz then
    T.ok(H.text("attn.viz.heatmap"):find("no help", 1, true),
         "a documented function that this build lacks is not shown")
  else
    T.ok(H.text("attn.viz.heatmap"):find("heatmap(", 1, true), "help('attn.viz.heatmap')")
  end
end)

T.section("overview and tensors", function()
  local o = H.text()
  T.ok(o:find("tensors:", 1, true), "help() has a tensors section")
  T.ok(o:find("attn.zeros", 1, true) and o:find("Tensor:softmax", 1, true),
       "help() lists attn.zeros and Tensor:softmax")
  local extra = {}
  for name in pairs(H.docs) do
    if o:find(name, 1, true) and not H.exists(name) then extra[#extra + 1] = name end
  end
  T.is(extra, {}, "help() lists only what exists in this build")
  if not attn.nn then
    T.ok(not o:find("attn.nn.Linear", 1, true), "help() leaves out attn.nn while it is missing")
  end
  local ts = H.text(attn.zeros(2, 3))
  T.ok(ts:find("[2x3]", 1, true) and ts:find("cpu", 1, true),
       "help(tensor) gives shape and device", ts)
  T.ok(ts:find("softmax", 1, true) and ts:find("matmul", 1, true), "help(tensor) lists its methods")
  T.ok(H.text("Tensors"):find("attn.zeros(", 1, true), "help('Tensors') lists the section")
end)

T.done_testing()
