-- gen_unicode.lua: write src/io/unicode_tables.c, the Unicode tables the
-- tokenizers need, from the Unicode Character Database.
--
--   lua5.4 tools/gen_unicode.lua /usr/share/unicode/UnicodeData.txt \
--       > src/io/unicode_tables.c
--
-- (UnicodeData.txt comes from Debian's unicode-data package; it is only
-- needed to regenerate, the generated file is committed.)
--
-- Tables, each a sorted list of closed ranges [lo, hi] unless said otherwise:
--   letter   general category L* (Lu Ll Lt Lm Lo)     GPT-2's \p{L}
--   number   N* (Nd Nl No)                             GPT-2's \p{N}
--   space    White_Space: Zs Zl Zp plus U+0009..U+000D and U+0085
--            (PropList.txt defines White_Space as exactly that set)  \s
--   punct    P*                                        BERT's punctuation
--   zs       Zs                                        BERT's whitespace
--   mark     Mn                                        BERT's accent strip
--   other    C*: Cc Cf Co Cs and every unassigned code point (Cn)
--                                                      BERT's control chars
--   lower    simple lowercase mapping as runs {lo, hi, delta, step}: each
--            cp in [lo, hi] with (cp - lo) % step == 0 maps to cp + delta
--   decomp   canonical decompositions {cp, first, second} (second 0 when
--            the mapping is a single code point), applied recursively by
--            the caller; Hangul syllables are algorithmic and not listed.

local path = arg[1] or "/usr/share/unicode/UnicodeData.txt"
local f = assert(io.open(path, "r"))

-- The version, from ReadMe.txt beside UnicodeData.txt when it is there.
local version = "unknown"
do
  local rf = io.open((path:match("^(.*/)") or "./") .. "ReadMe.txt", "r")
  if rf then
    version = rf:read("a"):match("for Version ([%d.]+) of the Unicode Standard") or version
    rf:close()
  end
end

local cat = {}      -- cp -> general category, assigned code points only
local lower = {}    -- cp -> simple lowercase
local decomp = {}   -- cp -> {a, b?}
local first       -- start of a <..., First> range

for line in f:lines() do
  local fields = {}
  for x in (line .. ";"):gmatch("([^;]*);") do fields[#fields + 1] = x end
  local cp = tonumber(fields[1], 16)
  local name, gc = fields[2], fields[3]
  if name:find(", First>$") then
    first = cp
  elseif name:find(", Last>$") then
    for c = first, cp do cat[c] = gc end
    first = nil
  else
    cat[cp] = gc
  end
  if fields[14] ~= "" then lower[cp] = tonumber(fields[14], 16) end
  local d = fields[6]
  if d ~= "" and not d:find("^<") then
    local parts = {}
    for h in d:gmatch("%x+") do parts[#parts + 1] = tonumber(h, 16) end
    assert(#parts == 1 or #parts == 2, "decomposition of more than two code points")
    decomp[cp] = parts
  end
end
f:close()

local MAX = 0x10FFFF

-- Sorted ranges of the code points for which pred(cp, category) holds.
local function ranges(pred)
  local out, lo = {}, nil
  for c = 0, MAX + 1 do
    local inside = c <= MAX and pred(c, cat[c])
    if inside and not lo then lo = c end
    if not inside and lo then
      out[#out + 1] = {lo, c - 1}
      lo = nil
    end
  end
  return out
end

local function starts(prefix)
  return function(_, gc) return gc ~= nil and gc:sub(1, 1) == prefix end
end

local tables = {
  {"letter", ranges(starts("L"))},
  {"number", ranges(starts("N"))},
  {"space", ranges(function(c, gc)
    return gc == "Zs" or gc == "Zl" or gc == "Zp" or (c >= 9 and c <= 13) or c == 0x85
  end)},
  {"punct", ranges(starts("P"))},
  {"zs", ranges(function(_, gc) return gc == "Zs" end)},
  {"mark", ranges(function(_, gc) return gc == "Mn" end)},
  {"other", ranges(function(_, gc) return gc == nil or gc:sub(1, 1) == "C" end)},
}

-- Lowercase runs: consecutive mappings with one delta and one step.
local runs = {}
do
  local keys = {}
  for c in pairs(lower) do keys[#keys + 1] = c end
  table.sort(keys)
  local i = 1
  while i <= #keys do
    local lo = keys[i]
    local delta = lower[lo] - lo
    local step, hi, j = nil, lo, i + 1
    while j <= #keys do
      local c = keys[j]
      local s = c - hi
      if lower[c] - c ~= delta or s > 2 or (step and s ~= step) then break end
      step, hi, j = s, c, j + 1
    end
    runs[#runs + 1] = {lo, hi, delta, step or 1}
    i = j
  end
end

local dkeys = {}
for c in pairs(decomp) do dkeys[#dkeys + 1] = c end
table.sort(dkeys)

-- The copyright and permission notice of the Unicode data files, which
-- must go with copies and modified forms of them.
local UNICODE_NOTICE = {
  "COPYRIGHT AND PERMISSION NOTICE",
  "",
  "Copyright (c) 1991-2022 Unicode, Inc. All rights reserved.",
  "Distributed under the Terms of Use in https://www.unicode.org/copyright.html.",
  "",
  "Permission is hereby granted, free of charge, to any person obtaining a copy",
  "of the Unicode data files and any associated documentation (the \"Data Files\")",
  "or Unicode software and any associated documentation (the \"Software\") to deal",
  "in the Data Files or Software without restriction, including without limitation",
  "the rights to use, copy, modify, merge, publish, distribute, and/or sell copies",
  "of the Data Files or Software, and to permit persons to whom the Data Files or",
  "Software are furnished to do so, provided that either (a) this copyright and",
  "permission notice appear with all copies of the Data Files or Software, or (b)",
  "this copyright and permission notice appear in associated Documentation.",
  "",
  "THE DATA FILES AND SOFTWARE ARE PROVIDED \"AS IS\", WITHOUT WARRANTY OF ANY KIND,",
  "EXPRESS OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF",
  "MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT OF THIRD",
  "PARTY RIGHTS. IN NO EVENT SHALL THE COPYRIGHT HOLDER OR HOLDERS INCLUDED IN",
  "THIS NOTICE BE LIABLE FOR ANY CLAIM, OR ANY SPECIAL INDIRECT OR CONSEQUENTIAL",
  "DAMAGES, OR ANY DAMAGES WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS,",
  "WHETHER IN AN ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING",
  "OUT OF OR IN CONNECTION WITH THE USE OR PERFORMANCE OF THE DATA FILES OR",
  "SOFTWARE.",
  "",
  "Except as contained in this notice, the name of a copyright holder shall not",
  "be used in advertising or otherwise to promote the sale, use or other dealings",
  "in these Data Files or Software without prior written authorization of the",
  "copyright holder.",
}

local out = {}
local function w(s) out[#out + 1] = s end

w("/*\n")
w(" * unicode_tables.c: GENERATED by tools/gen_unicode.lua from the Unicode\n")
w((" * Character Database, version %s (Debian's unicode-data package,\n"):format(version))
w(" * /usr/share/unicode/UnicodeData.txt):\n")
w(" *\n")
w(" *     lua5.4 tools/gen_unicode.lua /usr/share/unicode/UnicodeData.txt \\\n")
w(" *         > src/io/unicode_tables.c\n")
w(" *\n")
w(" * Do not edit; change the script and regenerate. unicode.h says what each\n")
w(" * table holds and which tokenizer rule uses it.\n")
w(" *\n")
w(" * These tables are data derived from (a modified form of) the Unicode\n")
w(" * Character Database, distributed under its licence:\n")
w(" *\n")
for _, l in ipairs(UNICODE_NOTICE) do w((" * %s\n"):format(l):gsub(" +\n", "\n")) end
w(" */\n")
w("#include <config.h>\n\n#include \"unicode.h\"\n")

for _, t in ipairs(tables) do
  local name, rs = t[1], t[2]
  w(("\nconst UniRange uni_%s[] = {\n"):format(name))
  local line = "   "
  for _, r in ipairs(rs) do
    local item = (" {0x%X, 0x%X},"):format(r[1], r[2])
    if #line + #item > 98 then
      w(line .. "\n")
      line = "   "
    end
    line = line .. item
  end
  w(line .. "\n};\n")
  w(("const int uni_%s_n = %d;\n"):format(name, #rs))
end

w("\nconst UniLowerRun uni_lower[] = {\n")
for _, r in ipairs(runs) do
  w(("    {0x%X, 0x%X, %d, %d},\n"):format(r[1], r[2], r[3], r[4]))
end
w("};\n")
w(("const int uni_lower_n = %d;\n"):format(#runs))

w("\nconst UniDecomp uni_decomp[] = {\n")
local line = "   "
for _, c in ipairs(dkeys) do
  local d = decomp[c]
  local item = (" {0x%X, 0x%X, 0x%X},"):format(c, d[1], d[2] or 0)
  if #line + #item > 98 then
    w(line .. "\n")
    line = "   "
  end
  line = line .. item
end
w(line .. "\n};\n")
w(("const int uni_decomp_n = %d;\n"):format(#dkeys))

io.write(table.concat(out))
