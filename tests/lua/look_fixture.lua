-- look_fixture.lua: a small Hugging Face GPT-2 folder written by the tests
-- of attn.look (tests/lua/look.lua, tests/cli/look.sh): random weights,
-- config.json and model.safetensors from m:save, and a byte-level BPE
-- tokenizer (vocab.json, merges.txt) written here.
--
-- The 256 byte symbols follow GPT-2's byte-to-unicode rule, rebuilt from
-- its definition: printable bytes stand for themselves, the others map to
-- U+0100 onwards in byte order. The merges make "hello" one token, " world"
-- two (" wor" + "ld") and cut 今 (E4 BB 8A) into two pieces (E4 BB + 8A).

local F = {}

function F.byte_symbols()
  local printable = {}
  for b = 33, 126 do printable[b] = true end
  for b = 161, 172 do printable[b] = true end
  for b = 174, 255 do printable[b] = true end
  local sym, n = {}, 0
  for b = 0, 255 do
    if printable[b] then sym[b] = utf8.char(b) else sym[b] = utf8.char(256 + n); n = n + 1 end
  end
  return sym
end

local function json_string(s)
  return '"' .. s:gsub('[\\"]', function(c) return "\\" .. c end) .. '"'
end

-- Writes dir (created) and returns the model and the vocabulary size.
function F.write_gpt(attn, dir, opts)
  opts = opts or {}
  local sym = F.byte_symbols()
  local S = function(b) return sym[b] end
  local merges = {{"h", "e"}, {"l", "l"}, {"he", "ll"}, {"hell", "o"}, {S(32), "w"},
                  {"o", "r"}, {S(32) .. "w", "or"}, {"l", "d"}, {S(0xE4), S(0xBB)}}
  local entries, id = {}, 0
  for b = 0, 255 do
    entries[#entries + 1] = json_string(sym[b]) .. ": " .. id
    id = id + 1
  end
  for _, mg in ipairs(merges) do
    entries[#entries + 1] = json_string(mg[1] .. mg[2]) .. ": " .. id
    id = id + 1
  end
  attn._io.mkdir(dir)
  local f = assert(io.open(dir .. "/vocab.json", "wb"))
  f:write("{", table.concat(entries, ", "), "}\n")
  f:close()
  f = assert(io.open(dir .. "/merges.txt", "wb"))
  f:write("#version: 0.2\n")
  for _, mg in ipairs(merges) do f:write(mg[1], " ", mg[2], "\n") end
  f:close()
  attn.seed(opts.seed or 7)
  local m = attn.models.gpt{vocab = id, ctx = opts.ctx or 32, n_layer = opts.n_layer or 2,
                            n_head = opts.n_head or 2, d_model = opts.d_model or 16}
  m:save(dir)
  return m, id
end

return F
