-- tokenizer.lua: attn.tokenizer through Lua: chars, byte-level BPE on a
-- small vocabulary written here, WordPiece on a small vocab.txt; ids,
-- strings, labels, round trips and error messages.
--
-- Expected ids are worked out by hand from the merges and vocabularies
-- below (comments show the steps). GPT-2's byte-to-unicode mapping is
-- rebuilt here in Lua from its definition, independently of the C code.
-- The real GPT-2 vocabulary is not available offline: no comparison with
-- it is made.

local T = dofile((os.getenv("ATTNLAB_PATH") or ".") .. "/tests/lua/tap.lua")
local attn = attn or require "attn"
local tk = attn.tokenizer

local dir = (os.getenv("ATTNLAB_TESTDIR") or ".") .. "/tmp"
os.execute("mkdir -p '" .. dir .. "'")
local function write(name, text)
  local path = dir .. "/tokenizer_" .. name
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
  return path
end

-- ---- chars ----------------------------------------------------------------------

T.section("chars, open vocabulary", function()
  local tok = tk.chars()
  T.is(tok:encode("a你"), {97, 0x4F60}, "ids are code points")
  T.is(tok:encode("\xFF"), {0x110000 + 0xFF}, "an invalid byte is 0x110000 + byte")
  T.is(tok:decode({97, 0x4F60, 0x1100FF}), "a你\xFF", "decode")
  T.is(tok:tokens("今天好"), {"今", "天", "好"}, "tokens of Chinese")
  T.is(tok:vocab_size(), 0x110100, "vocab_size")
  T.is(tok:labels("a\n你"), {"a", "\\n", "你"}, "labels escape the newline")
  local s = "mixed: caf\xC3\xA9 \xF0\x9F\x91\x8B \xE4\xBD\xA0 \xC3( \xFF"
  T.is(tok:decode(tok:encode(s)), s, "round trip with invalid bytes")
  T.raises(function() return tok:decode({0xD800}) end, "55296",
           "a surrogate id is refused")
  T.raises(function() return tok:decode({1.5}) end, {"decode", "1.5"}, "fractional id")
  T.raises(function() return tok:decode("x") end, "bad argument", "decode of a string")
  T.ok(tostring(tok):find("Tokenizer(chars", 1, true), "tostring", tostring(tok))
end)

T.section("chars, closed vocabulary", function()
  local tok = tk.chars{text = "hello world"}
  -- distinct characters in code point order: ' ' d e h l o r w
  T.is(tok:vocab_size(), 8, "vocab from text")
  T.is(tok:encode("hold"), {3, 5, 4, 1}, "ids in code point order")
  T.is(tok:decode({3, 2, 4, 4, 5}), "hello", "decode")
  T.raises(function() return tok:encode("hi") end, {"'i'", "not in the vocabulary"},
           "unknown character")
  local tv = tk.chars{vocab = {"a", "b", "?"}, unk = "?"}
  T.is(tv:encode("abc"), {0, 1, 2}, "given vocab with unk")
  T.raises(function() return tk.chars{vocab = {"ab"}} end, "not exactly one character",
           "multi-character entry")
  T.raises(function() return tk.chars{text = "a", vocab = {"a"}} end, "either text= or vocab=",
           "both text and vocab")
  T.raises(function() return tk.chars{vocab = {"a"}, unk = "z"} end, "'z'", "unk not in vocab")
end)

-- ---- byte-level BPE ----------------------------------------------------------------

-- GPT-2's bytes_to_unicode: printable bytes stand for themselves, the other
-- 68 take U+0100.. in byte order.
local byte_char = {}
do
  local n = 0
  for b = 0, 255 do
    local printable = (b >= 33 and b <= 126) or (b >= 0xA1 and b <= 0xAC) or b >= 0xAE
    if printable then
      byte_char[b] = utf8.char(b)
    else
      byte_char[b] = utf8.char(256 + n)
      n = n + 1
    end
  end
end
local function bl(s) -- raw bytes -> byte-level spelling
  return (s:gsub(".", function(c) return byte_char[c:byte()] end))
end
local function jstr(s) return '"' .. s:gsub('[\\"]', "\\%0") .. '"' end

-- vocab: the 256 bytes with id = byte value, then these
local extra = {"he", "ll", "hell", "hello", " hello", "你", "<|endoftext|>"}
local HE, LL, HELL, HELLO, SP_HELLO, NI = 256, 257, 258, 259, 260, 261
local parts = {}
for b = 0, 255 do parts[#parts + 1] = jstr(bl(string.char(b))) .. ": " .. b end
for i, s in ipairs(extra) do
  local key = s == "<|endoftext|>" and s or bl(s)
  parts[#parts + 1] = jstr(key) .. ": " .. (255 + i)
end
local vocab = write("vocab.json", "{" .. table.concat(parts, ", ") .. "}")
-- 你 (E4 BD A0) is in the vocab but no merge builds it: text with 你
-- encodes as three byte tokens.
local merges = write("merges.txt", table.concat({
  "#version: 0.2",
  "h e",          -- rank 0
  "l l",          -- rank 1
  "he ll",        -- rank 2
  "hell o",       -- rank 3
  bl(" ") .. " hello", -- rank 4: Ġ hello
}, "\n") .. "\n")

T.section("bpe", function()
  local tok = tk.bpe{vocab = vocab, merges = merges}
  T.is(tok:vocab_size(), 256 + #extra, "vocab_size")
  -- h e l l o -> he l l o -> he ll o -> hell o -> hello; then Ġ hello -> Ġhello
  T.is(tok:encode("hello hello"), {HELLO, SP_HELLO}, "hello hello")
  T.is(tok:tokens("hello hello"), {"hello", "\u{120}hello"}, "tokens in vocab.json spelling")
  T.is(tok:encode("hi"), {104, 105}, "unmerged bytes are their byte ids")
  -- 你好 has no merges: six byte tokens; labels show each character whole
  local ids = tok:encode("你好")
  T.is(ids, {0xE4, 0xBD, 0xA0, 0xE5, 0xA5, 0xBD}, "Chinese as bytes")
  T.is(tok:labels(ids), {"你", "你", "你", "好", "好", "好"}, "labels never show U+FFFD")
  T.is(tok:labels(" hello\n"), {" hello", "\\n"}, "labels of a string")
  T.is(tok:decode({NI}), "你", "a vocab token holding a whole character decodes to it")
  T.is(tok:decode({256 + #extra - 1}), "<|endoftext|>", "decode of the end-of-text token")
  local EOT = 256 + #extra - 1
  T.is(tok:encode("<|endoftext|>hi<|endoftext|><|endoftext|>"), {EOT, 104, 105, EOT, EOT},
       "<|endoftext|> in the text is the special token (as Hugging Face's GPT-2 tokenizer)")
  T.is(tok:encode("hi<|endoftext"), {104, 105, 60, 124, 101, 110, 100, 111, 102, 116, 101, 120, 116},
       "an unfinished <|endoftext is plain text")
  T.is(tok:decode(tok:encode("a<|endoftext|>b")), "a<|endoftext|>b", "and decodes back")
  -- round trips, including random bytes (Lua's generator, seeded)
  local texts = {"", "Hello, world! It's 2024.", "  a  b   ", "\n\n\t", "café 你好 👋🏽",
                 "bad \xFF\xC3( utf8 \xE4\xBD"}
  math.randomseed(7)
  for _ = 1, 20 do
    local b = {}
    for i = 1, math.random(1, 60) do b[i] = string.char(math.random(0, 255)) end
    texts[#texts + 1] = table.concat(b)
  end
  local bad = 0
  for _, s in ipairs(texts) do
    if tok:decode(tok:encode(s)) ~= s then bad = bad + 1 end
  end
  T.is(bad, 0, "decode(encode(s)) == s for " .. #texts .. " texts")
  T.raises(function() return tok:decode({99999}) end, {"bpe", "99999"}, "unknown id")
  do
    local t <close> = tk.bpe{vocab = vocab, merges = merges}
    T.is(#t:encode("x"), 1, "to-be-closed tokenizer works")
    tok = t
  end
  T.raises(function() return tok:encode("x") end, "closed", "a closed tokenizer says so")
end)

T.section("bpe errors", function()
  T.raises(function() return tk.bpe{vocab = dir .. "/nope.json", merges = merges} end,
           {"bpe", "nope.json"}, "missing vocab file named")
  T.raises(function() return tk.bpe{merges = merges} end, {"vocab", "file name"},
           "vocab option missing")
  T.raises(function() return tk.bpe("x") end, "bad argument", "not a table")
  local broken = write("broken.txt", "#version: 0.2\nq z\n")
  T.raises(function() return tk.bpe{vocab = vocab, merges = broken} end,
           {"merges.txt line 2", "'qz'"}, "merge result not in vocab")
  local notjson = write("bad.json", "{\"a\": 1,}")
  T.raises(function() return tk.bpe{vocab = notjson, merges = merges} end,
           {"vocab.json", "byte"}, "malformed JSON")
end)

-- ---- WordPiece ----------------------------------------------------------------------

local vtxt = write("vocab.txt", table.concat({
  "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", -- 0-4
  "un", "##aff", "##able", "hello", ",",        -- 5-9
  "!", "你", "好", "cafe", "Hello",             -- 10-14
}, "\n") .. "\n")

T.section("wordpiece", function()
  local tok = tk.wordpiece{vocab = vtxt}
  T.is(tok:vocab_size(), 15, "vocab_size")
  -- un + ##aff + ##able (longest first from the left)
  T.is(tok:encode("unaffable"), {5, 6, 7}, "un ##aff ##able")
  T.is(tok:tokens("unaffable"), {"un", "##aff", "##able"}, "tokens")
  -- lowercased, punctuation split; "World" has no pieces
  T.is(tok:encode("Hello, World!"), {8, 9, 1, 10}, "Hello, World!")
  T.is(tok:encode("[CLS] Café [SEP]"), {2, 13, 3}, "special tokens and accent strip")
  T.is(tok:encode("你好"), {11, 12}, "Chinese characters are words")
  T.is(tok:decode({5, 6, 7, 9}), "unaffable ,", "decode glues ##")
  T.is(tok:labels({5, 6, 7}), {"un", "##aff", "##able"}, "labels are the pieces")
  local cased = tk.wordpiece{vocab = vtxt, lowercase = false}
  T.is(cased:encode("Hello hello"), {14, 8}, "lowercase=false keeps case")
  local strip = tk.wordpiece{vocab = vtxt, lowercase = false, strip_accents = true}
  T.is(strip:encode("cafe\u{301}"), {13}, "strip_accents without lowercase")
  T.raises(function() return tk.wordpiece{vocab = vtxt, lowercase = 1} end,
           {"lowercase", "boolean"}, "lowercase must be a boolean")
  T.raises(function() return tk.wordpiece{vocab = vtxt, max_chars = 0} end, "max_chars",
           "max_chars range")
  T.raises(function() return tok:decode({15}) end, {"wordpiece", "15"}, "unknown id")
end)

os.remove(dir .. "/tokenizer_vocab.json")
os.remove(dir .. "/tokenizer_merges.txt")
os.remove(dir .. "/tokenizer_broken.txt")
os.remove(dir .. "/tokenizer_bad.json")
os.remove(dir .. "/tokenizer_vocab.txt")
T.done_testing()
