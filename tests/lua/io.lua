-- io.lua: attn.save / attn.load (safetensors): round trips of values,
-- shapes, views and metadata; F16 and BF16 files written here byte by byte
-- (values worked out by hand); errors with their messages; and the --safe
-- sandbox refusing writes outside the working folder.

local T = dofile((os.getenv("ATTNLAB_PATH") or ".") .. "/tests/lua/tap.lua")
local attn = attn or require "attn"
-- attn.save / attn.load are aliases of the C functions in attn._io.
local save, load = attn.save or attn._io.save, attn.load or attn._io.load

local testdir = os.getenv("ATTNLAB_TESTDIR") or "tests"
local dir = testdir .. "/io.tmp"
os.execute("mkdir -p '" .. dir .. "'")
local made = {}
local function path(name)
  local p = dir .. "/" .. name
  made[#made + 1] = p
  return p
end

-- A safetensors image: u64 header length, header, data.
local function write_raw(p, header, data)
  local f = assert(io.open(p, "wb"))
  f:write(string.pack("<I8", #header), header, data or "")
  f:close()
end

local function count(t)
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  return n
end

T.section("round trip", function()
  math.randomseed(5)
  local wv = T.rtable({3, 4})
  local w = attn.tensor(wv)
  local p = path("rt.safetensors")
  save(p, {w = w, b = attn.tensor({0.5, -1, 1e-30}), s = attn.tensor(3.25), e = attn.zeros(0, 5),
           tr = w:transpose(1, 2)}, {metadata = {format = "pt", note = "今天 \"quoted\""}})
  local t, meta = load(p)
  T.is(count(t), 5, "five tensors come back")
  T.tensor_near(t.w, wv, 0, "w: values exactly")
  T.is(t.w:shape(), {3, 4}, "w: shape [3,4]")
  T.tensor_near(t.b, {T.f32(0.5), -1, T.f32(1e-30)}, 0, "b: values exactly")
  T.is(t.s:shape(), {}, "a 0-d tensor stays 0-d")
  T.is(t.s:item(), 3.25, "and keeps its value")
  T.is(t.e:shape(), {0, 5}, "an empty [0,5] tensor")
  T.tensor_near(t.tr, T.build({4, 3}, function(i, j) return wv[j][i] end), 0,
                "a transposed view is saved in its own (view) order")
  T.is(meta, {format = "pt", note = "今天 \"quoted\""},
       "metadata comes back as the second result")
  T.ok(attn.is_tensor(t.w), "loaded values are tensors")

  -- The same table twice gives the same bytes (names sorted).
  local p2 = path("rt2.safetensors")
  save(p2, {w = w, b = attn.tensor({0.5, -1, 1e-30}), s = attn.tensor(3.25),
            e = attn.zeros(0, 5), tr = w:transpose(1, 2)},
       {metadata = {format = "pt", note = "今天 \"quoted\""}})
  local a = assert(io.open(p, "rb")):read("a")
  local b = assert(io.open(p2, "rb")):read("a")
  T.ok(a == b, "saving is deterministic")
  local n = string.unpack("<I8", a)
  T.is((8 + n) % 8, 0, "the data starts at a multiple of 8")
  T.ok(a:sub(9, 9) == "{", "the header is a JSON object")

  local pe = path("empty.safetensors")
  save(pe, {})
  local none, m = load(pe)
  T.is(count(none), 0, "an empty table saves and loads")
  T.is(count(m), 0, "with empty metadata")
end)

T.section("F16 and BF16 files", function()
  local p = path("half.safetensors")
  -- F16 3C00 = 1, C000 = -2, 3555 = (1 + 341/1024) / 4, 0001 = 2^-24.
  -- BF16 3F80 = 1, C040 = -3, 3EAB = (1 + 43/128) / 4.
  local header = '{"h":{"dtype":"F16","shape":[2,2],"data_offsets":[0,8]},' ..
                 '"g":{"dtype":"BF16","shape":[3],"data_offsets":[8,14]}}'
  write_raw(p, header, string.pack("<I2I2I2I2I2I2I2", 0x3c00, 0xc000, 0x3555, 0x0001,
                                   0x3f80, 0xc040, 0x3eab))
  local t = load(p)
  T.tensor_near(t.h, {{1, -2}, {0.333251953125, 2 ^ -24}}, 0, "F16 values")
  T.tensor_near(t.g, {1, -3, 0.333984375}, 0, "BF16 values")
end)

T.section("errors", function()
  T.raises(function() load(dir .. "/missing.safetensors") end,
           {"attn.load: ", "missing.safetensors: cannot open: No such file or directory"},
           "a missing file")
  local p = path("bad.safetensors")
  write_raw(p, '{"w":{"dtype":"F17","shape":[1],"data_offsets":[0,4]}}', "\0\0\0\0")
  T.raises(function() load(p) end,
           {"attn.load: ", "bad.safetensors: tensor 'w': unknown dtype \"F17\""},
           "an unknown dtype names the tensor")
  write_raw(p, '{"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}}', ("\0"):rep(24))
  T.raises(function() load(p) end,
           "tensor 'w': data_offsets [0,20] hold 20 bytes but shape [2,3] of F32 needs 24",
           "a size that does not match the shape")
  local f = assert(io.open(p, "wb"))
  f:write("abc")
  f:close()
  T.raises(function() load(p) end, "truncated: 3 bytes", "a 3-byte file")
  write_raw(p, '{"m":{"dtype":"BOOL","shape":[1],"data_offsets":[0,1]}}', "\1")
  T.raises(function() load(p) end, "tensor 'm': dtype BOOL cannot be read as float",
           "a BOOL tensor")

  local q = path("e.safetensors")
  T.raises(function() save(q, {w = "x"}) end, "attn.save: 'w' is a string, expected a tensor",
           "a value that is not a tensor")
  T.raises(function() save(q, {attn.ones(2)}) end,
           "attn.save: a key of the tensor table is a number, expected a string",
           "a list instead of names")
  T.raises(function() save(q, {w = attn.ones(2)}, {metadata = {n = 1}}) end,
           "attn.save: a metadata value is a number, expected a string", "a metadata number")
  T.raises(function() save(q, {w = attn.ones(2)}, {metdata = {}}) end,
           "attn.save: unknown option 'metdata' (known: metadata)", "a misspelt option")
  T.raises(function() save(q, {w = attn.ones(2)}, {metadata = "x"}) end,
           "attn.save: metadata is a string, expected a table of strings", "metadata a string")
  T.raises(function() save(q, {__metadata__ = attn.ones(2)}) end,
           "\"__metadata__\" cannot name a tensor", "the reserved name")
  T.raises(function() save(q, {["a\0b"] = attn.ones(2)}) end,
           "attn.save: a key of the tensor table 'a' holds a NUL character", "a name with a NUL")
  T.raises(function() save(q, "w") end, {"bad argument #2", "table expected"},
           "a string for the tensor table")
  T.raises(function() save(dir .. "/no/such/x.safetensors", {w = attn.ones(2)}) end,
           {"attn.save: ", "cannot create a file beside it: No such file or directory"},
           "a folder that does not exist")
  T.ok(io.open(q, "rb") == nil, "no file is left after refused saves")
end)

T.section("listing a folder", function()
  local sub = dir .. "/listing"
  attn._io.mkdir(sub)
  for _, name in ipairs({"b.txt", "a.txt", "C", "ä"}) do
    local f = assert(io.open(sub .. "/" .. name, "w"))
    f:close()
  end
  T.is(attn._io.list(sub), {"C", "a.txt", "b.txt", "ä"},
       "list gives every name but . and .., sorted bytewise")
  for _, name in ipairs({"b.txt", "a.txt", "C", "ä"}) do os.remove(sub .. "/" .. name) end
  T.is(attn._io.list(sub), {}, "an empty folder lists as {}")
  os.remove(sub)
  T.raises(function() attn._io.list(sub) end, {"list", "cannot read the folder", "listing"},
           "a missing folder is an error naming it")
end)

T.section("--safe", function()
  local bin = os.getenv("ATTNLAB_BIN")
  if not bin then
    T.skip("--safe refuses writes outside", "ATTNLAB_BIN not set")
    return
  end
  local work = dir .. "/work"
  os.execute("mkdir -p '" .. work .. "'")
  local function run(code)
    local h = io.popen("cd '" .. work .. "' && '" .. bin .. "' --safe -e '" .. code ..
                       "' 2>&1; echo rc=$?")
    local out = h:read("a")
    h:close()
    return out
  end
  local out = run('attn._io.save("../outside.safetensors", {a = attn.ones(2)})')
  T.ok(out:find("attn.save: '../outside.safetensors' is outside the working folder", 1, true)
       and out:find("rc=1", 1, true), "a save outside the working folder is refused", out)
  T.ok(io.open(dir .. "/outside.safetensors", "rb") == nil, "and writes nothing")
  out = run('attn._io.save("in.safetensors", {a = attn.ones(2)}) ' ..
            'print(attn._io.load("in.safetensors").a:sum():item())')
  T.ok(out:find("^2") and out:find("rc=0", 1, true), "a save inside it works", out)
  os.remove(work .. "/in.safetensors")
  os.remove(work)
end)

for _, p in ipairs(made) do os.remove(p) end
os.remove(dir)
T.done_testing()
