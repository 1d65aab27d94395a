-- tools/bpe.lua: builds the byte-level BPE tokenizer of the shipped model
-- (vocab.json + merges.txt in GPT-2's format, read back by
-- attn.tokenizer.bpe and by any GPT-2 tool).
--
-- The vocabulary is made of three parts, in rank order:
--   1. the 256 bytes, numbered in GPT-2's byte-to-unicode order;
--   2. "whole character" merges: for every non-ASCII character we want as
--      one token (each Chinese character of the corpus and of the lesson
--      texts, the full-width punctuation), the merges that join its UTF-8
--      bytes left to right. A merge's left side always starts with a lead
--      byte and its right side is always a continuation byte, so no merge
--      can join two characters: Chinese stays one character a token, which
--      is what the lessons' 今天 / 天气 maps show;
--   3. English merges learned the usual way (the most frequent adjacent
--      pair, again and again) from the words of the English corpus, split
--      by GPT-2's pre-tokenizer rules.
-- plus <|endoftext|> last, the document separator.
--
-- Usage (from pretrain.lua):  local bpe = dofile("tools/bpe.lua")
--   local vocab, merges = bpe.build{chars = {...}, english = text, n_merges = 1200}
--   bpe.write(dir, vocab, merges)

local bpe = {}

-- GPT-2's bytes_to_unicode: printable Latin-1 bytes stand for themselves,
-- the other 68 take U+0100 onwards in byte order. byte_order lists the
-- bytes in the order of their ids 0..255.
local byte_char, byte_order = {}, {}
do
  local printable = {}
  for b = 33, 126 do printable[b] = true end
  for b = 161, 172 do printable[b] = true end
  for b = 174, 255 do printable[b] = true end
  for b = 0, 255 do
    if printable[b] then
      byte_char[b] = utf8.char(b)
      byte_order[#byte_order + 1] = b
    end
  end
  local n = 0
  for b = 0, 255 do
    if not printable[b] then
      byte_char[b] = utf8.char(256 + n)
      byte_order[#byte_order + 1] = b
      n = n + 1
    end
  end
end

-- The token text (as written in vocab.json) of a string of raw bytes.
local function token_text(bytes)
  local parts = {}
  for i = 1, #bytes do parts[i] = byte_char[bytes:byte(i)] end
  return table.concat(parts)
end
bpe.token_text = token_text

-- ---- pre-tokenizer (ASCII English) ---------------------------------------------
-- GPT-2's pattern: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
-- written for ASCII text, which is all the English corpus holds. Only the
-- merges depend on it; the C tokenizer does the real splitting at run time.
local function words_of(text, counts)
  local i, n = 1, #text
  local function run(at, class)
    local j = at
    while j <= n and text:sub(j, j):match(class) do j = j + 1 end
    return j
  end
  while i <= n do
    local c, j = text:sub(i, i), nil
    local rest = text:sub(i, i + 2)
    if rest:match("^'[stmd]") then j = i + 2
    elseif rest:match("^'re") or rest:match("^'ve") or rest:match("^'ll") then j = i + 3
    elseif c:match("%s") then
      j = run(i, "%s")
      local nxt = text:sub(i + 1, i + 1)
      if c == " " and nxt ~= "" and not nxt:match("%s") then
        j = nil                                        -- " word": the space leads the word
      elseif j <= n and j - i > 1 then
        j = j - 1                                      -- leave the last blank to the word
      end
    end
    if not j then
      local start = (c == " ") and i + 1 or i
      local first = text:sub(start, start)
      local class = first:match("%a") and "%a" or first:match("%d") and "%d" or "[^%s%w]"
      j = run(start, class)
    end
    local w = text:sub(i, j - 1)
    counts[w] = (counts[w] or 0) + 1
    i = j
  end
end

-- ---- learning merges --------------------------------------------------------------

-- Pair counts kept up to date as merges are applied: counts[key] is the
-- number of times the adjacent pair "a b" occurs (weighted by each word's
-- count), holders[key] the set of words holding it. A merge then touches
-- only the words that hold its pair, not the whole word list.

-- Adds (sign 1) or removes (sign -1) word i's pairs from the index.
local function count_pairs(index, words, i, sign)
  local w = words[i]
  local s = w.syms
  for k = 1, #s - 1 do
    local key = s[k] .. " " .. s[k + 1]
    local c = (index.counts[key] or 0) + sign * w.count
    index.counts[key] = c > 0 and c or nil
    local h = index.holders[key]
    if sign > 0 then
      if not h then h = {}; index.holders[key] = h end
      h[i] = true
    elseif h then
      h[i] = nil
    end
  end
end

local function pair_index(words)
  local index = {counts = {}, holders = {}}
  for i in ipairs(words) do count_pairs(index, words, i, 1) end
  return index
end

-- The most frequent pair; ties go to the pair that sorts first, so the
-- result does not depend on table order.
local function best_pair(index)
  local best, best_n = nil, 0
  for key, c in pairs(index.counts) do
    if c > best_n or (c == best_n and key < best) then best, best_n = key, c end
  end
  return best, best_n
end

local function merged(syms, a, b)
  local out, k = {}, 1
  while k <= #syms do
    if k < #syms and syms[k] == a and syms[k + 1] == b then
      out[#out + 1] = a .. b
      k = k + 2
    else
      out[#out + 1] = syms[k]
      k = k + 1
    end
  end
  return out
end

local function apply_merge(index, words, key, a, b)
  local list = {}
  for i in pairs(index.holders[key] or {}) do list[#list + 1] = i end
  for _, i in ipairs(list) do
    count_pairs(index, words, i, -1)
    words[i].syms = merged(words[i].syms, a, b)
    count_pairs(index, words, i, 1)
  end
end

-- n merges learned from English text: a list of {left, right} token texts.
local function learn_english(text, n)
  local counts = {}
  words_of(text, counts)
  local words = {}
  for w, c in pairs(counts) do
    local syms = {}
    for k = 1, #w do syms[k] = byte_char[w:byte(k)] end
    if #syms > 1 then words[#words + 1] = {syms = syms, count = c} end
  end
  table.sort(words, function(x, y) return table.concat(x.syms) < table.concat(y.syms) end)
  local merges, index = {}, pair_index(words)
  for _ = 1, n do
    local key, c = best_pair(index)
    if not key or c < 2 then break end
    local a, b = key:match("^(%S+) (%S+)$")
    merges[#merges + 1] = {a, b}
    apply_merge(index, words, key, a, b)
  end
  return merges
end

-- The merges that build each character of chars (a sorted list of UTF-8
-- strings of 2 to 4 bytes) from its bytes; shared prefixes are merged once.
local function character_merges(chars)
  local merges, seen = {}, {}
  for _, ch in ipairs(chars) do
    local left = ch:sub(1, 1)
    for k = 2, #ch do
      local key = left .. ch:sub(k, k)
      if not seen[key] then
        seen[key] = true
        merges[#merges + 1] = {token_text(left), token_text(ch:sub(k, k))}
      end
      left = key
    end
  end
  return merges
end

-- ---- the vocabulary -----------------------------------------------------------------

--- bpe.build{chars = {set or list of characters}, english = text, n_merges = n}
-- -> vocab (list of token texts, id = index - 1), merges (list of {a, b}).
function bpe.build(o)
  local list = {}
  for k, v in pairs(o.chars) do
    local ch = type(k) == "string" and k or v
    if #ch > 1 then list[#list + 1] = ch end       -- ASCII is already a byte token
  end
  table.sort(list)
  local merges = character_merges(list)
  for _, m in ipairs(learn_english(o.english, o.n_merges)) do merges[#merges + 1] = m end
  local vocab = {}
  for i, b in ipairs(byte_order) do vocab[i] = byte_char[b] end
  for _, m in ipairs(merges) do vocab[#vocab + 1] = m[1] .. m[2] end
  vocab[#vocab + 1] = "<|endoftext|>"
  return vocab, merges
end

-- A JSON string: the token texts hold no control characters (GPT-2's map
-- moves those bytes to U+0100...), so quotes and backslashes are all there
-- is to escape.
local function json_string(s)
  return '"' .. s:gsub('[\\"]', "\\%0") .. '"'
end

local function write_atomic(path, text)
  local tmp = path .. ".tmp"
  local f = assert(io.open(tmp, "wb"))
  assert(f:write(text))
  assert(f:close())
  assert(os.rename(tmp, path))
end

--- bpe.write(dir, vocab, merges): dir/vocab.json and dir/merges.txt.
function bpe.write(dir, vocab, merges)
  local entries = {}
  for i, t in ipairs(vocab) do entries[i] = json_string(t) .. ": " .. (i - 1) end
  write_atomic(dir .. "/vocab.json", "{" .. table.concat(entries, ", ") .. "}\n")
  local lines = {"#version: 0.2"}
  for i, m in ipairs(merges) do lines[i + 1] = m[1] .. " " .. m[2] end
  write_atomic(dir .. "/merges.txt", table.concat(lines, "\n") .. "\n")
end

--- The characters (UTF-8 strings) of text, as a set.
function bpe.chars_of(text, set)
  set = set or {}
  for _, cp in utf8.codes(text) do set[utf8.char(cp)] = true end
  return set
end

return bpe
