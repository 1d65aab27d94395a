-- tensor_print.lua: tostring(t). Aligned columns, the footer "[tensor 4x4 cpu]"
-- (sizes joined by "x", then the device), long dimensions elided with "...",
-- integer values without ".0000", large and small magnitudes readable, nan and
-- inf printed as such. The text is parsed back here and compared with the data.

local T = dofile((os.getenv("ATTNLAB_PATH") or ".") .. "/tests/lua/tap.lua")
local attn = attn or require "attn"

local function lines_of(s)
  local out = {}
  for line in (s .. "\n"):gmatch("(.-)\n") do out[#out + 1] = line end
  while #out > 0 and out[#out]:match("^%s*$") do out[#out] = nil end
  return out
end

-- numbers in a line with their start and end columns ("[[1," -> 1 at 3..3)
local NUM = "()([%-%+]?%d+%.?%d*[eE]?[%-%+]?%d*)()"
local NUM2 = "()([%-%+]?%.%d+[eE]?[%-%+]?%d*)()"
local function numbers(line)
  local out = {}
  for s, tok, e in line:gmatch(NUM) do
    -- a token may have swallowed a trailing "e" or sign that is not a number's
    local v = tonumber(tok) or tonumber((tok:gsub("[eE]?[%-%+]?$", "")))
    if v and line:sub(s - 1, s - 1) ~= "." then -- ".5" is NUM2's
      out[#out + 1] = {v = v, s = s, e = e - 1, tok = tok}
    end
  end
  for s, tok, e in line:gmatch(NUM2) do -- ".5" written without a leading 0
    if not line:sub(s - 1, s - 1):match("%d") then
      out[#out + 1] = {v = tonumber(tok), s = s, e = e - 1, tok = tok}
    end
  end
  table.sort(out, function(a, b) return a.s < b.s end)
  return out
end

-- body = every line but the footer
local function split(s)
  local ls = lines_of(s)
  local footer = ls[#ls]
  local body = {}
  for i = 1, #ls - 1 do body[i] = ls[i] end
  return body, footer
end

-- the columns of a row-per-line print line up: per column, the tokens share
-- their last character (right-aligned), their first (left-aligned) or their
-- decimal point
local function aligned(rows)
  for c = 1, #rows[1] do
    local ends, starts, dots = true, true, true
    for r = 2, #rows do
      local a, b = rows[1][c], rows[r][c]
      if not (a and b) then return false end
      if a.e ~= b.e then ends = false end
      if a.s ~= b.s then starts = false end
      local da, db = a.tok:find("%."), b.tok:find("%.")
      if not (da and db and a.s + da == b.s + db) then dots = false end
    end
    if not (ends or starts or dots) then return false end
  end
  return true
end

local function values(rows)
  local out = {}
  for r = 1, #rows do
    out[r] = {}
    for c = 1, #rows[r] do out[r][c] = rows[r][c].v end
  end
  return out
end

local function data_rows(body)
  local rows = {}
  for _, line in ipairs(body) do
    local ns = numbers(line)
    if #ns > 0 then rows[#rows + 1] = ns end
  end
  return rows
end

T.section("a 4x4 of integers", function()
  local m = {{1, -20, 300, 4}, {5, 6, -7, 8000}, {9, 10, 11, 12}, {-13, 14, 15, 16}}
  local s = tostring(attn.tensor(m))
  T.diag(s)
  local body, footer = split(s)
  T.is(footer, "[tensor 4x4 cpu]", "footer is exactly [tensor 4x4 cpu]")
  local rows = data_rows(body)
  T.is(#rows, 4, "four lines of numbers")
  T.is(values(rows), m, "the printed numbers are the data, row by row")
  T.ok(aligned(rows), "columns are aligned")
  T.ok(not table.concat(body, "\n"):find("%."), "integers print without a decimal point")
end)

T.section("fractions", function()
  local m = {{0.5, -1.25}, {3.125, 100}, {-0.0625, 2}}
  local s = tostring(attn.tensor(m))
  T.diag(s)
  local body, footer = split(s)
  T.is(footer, "[tensor 3x2 cpu]", "footer [tensor 3x2 cpu]")
  local rows = data_rows(body)
  T.is(#rows, 3, "three lines of numbers")
  local got = values(rows)
  local okv = #got == 3
  for i = 1, 3 do
    for j = 1, 2 do
      if not (got[i] and got[i][j] and T.close(got[i][j], m[i][j], 1e-4)) then okv = false end
    end
  end
  T.ok(okv, "the printed numbers are the data (to 4 digits)", "got " .. T.fmt(got))
  T.ok(aligned(rows), "columns are aligned")
end)

T.section("1-D and 3-D", function()
  local s = tostring(attn.tensor({1, 2, 3}))
  T.diag(s)
  local body, footer = split(s)
  T.is(footer, "[tensor 3 cpu]", "1-D footer [tensor 3 cpu]")
  local vs = {}
  for _, line in ipairs(body) do
    for _, n in ipairs(numbers(line)) do vs[#vs + 1] = n.v end
  end
  T.is(vs, {1, 2, 3}, "1-D prints its values in order")

  -- values 11..22 so that slice headers (small numbers) cannot be mistaken
  local c = attn.tensor(T.build({2, 2, 3}, function(i, j, k)
    return 10 + (i - 1) * 6 + (j - 1) * 3 + k
  end))
  local s3 = tostring(c)
  T.diag(s3)
  local b3, f3 = split(s3)
  T.is(f3, "[tensor 2x2x3 cpu]", "3-D footer [tensor 2x2x3 cpu]")
  local seen = {}
  for _, line in ipairs(b3) do
    for _, n in ipairs(numbers(line)) do
      if n.v >= 11 and n.v <= 22 then seen[#seen + 1] = n.v end
    end
  end
  local want = {}
  for v = 11, 22 do want[#want + 1] = v end
  T.is(seen, want, "3-D prints all 12 values in row-major order")

  -- a transposed view prints the view: {{1,2,3},{4,5,6}}:T() = {{1,4},{2,5},{3,6}}
  local tv = tostring(attn.tensor({{1, 2, 3}, {4, 5, 6}}):T())
  local bt, ft = split(tv)
  T.is(ft, "[tensor 3x2 cpu]", "a transposed view's footer")
  T.is(values(data_rows(bt)), {{1, 4}, {2, 5}, {3, 6}}, "a transposed view prints its own order")

  local one = tostring(attn.tensor({{1, 2}, {3, 4}}):sum())
  T.ok(one:find("10", 1, true) and one:find("cpu", 1, true),
       "a one-element result prints its value", one)
end)

T.section("elision", function()
  -- element (i,j) = 1000*i + j, so each value says where it came from
  local m = T.build({100, 100}, function(i, j) return 1000 * i + j end)
  local s = tostring(attn.tensor(m))
  T.diag(s)
  local body, footer = split(s)
  T.is(footer, "[tensor 100x100 cpu]", "footer [tensor 100x100 cpu]")
  T.ok(s:find("...", 1, true), "a 100x100 print elides with ...")
  T.ok(#body <= 40, "a 100x100 print is short", #body .. " lines")
  T.ok(#s <= 4000, "a 100x100 print is at most 4000 characters", #s .. " characters")
  local all = {}
  for _, line in ipairs(body) do
    for _, n in ipairs(numbers(line)) do all[n.v] = true end
  end
  T.ok(all[1001], "the first element (1,1) = 1001 is shown")
  T.ok(all[100100], "the last element (100,100) = 100100 is shown")
  T.ok(all[1100] and all[100001], "the other corners (1,100) and (100,1) are shown")
  T.ok(not all[50050], "a middle element (50,50) is elided")

  -- 10000x10000 (400 MB): printing must only touch the shown corners
  do
    local big <close> = attn.zeros(10000, 10000)
    local sb = tostring(big)
    local _, fb = split(sb)
    T.is(fb, "[tensor 10000x10000 cpu]", "footer [tensor 10000x10000 cpu]")
    T.ok(sb:find("...", 1, true), "a 10000x10000 print elides with ...")
    T.ok(#sb <= 4000, "a 10000x10000 print is short", #sb .. " characters")
  end
  collectgarbage()

  -- a long 1-D tensor elides too
  local s1 = tostring(attn.arange(5000) + 1)
  local _, f1 = split(s1)
  T.is(f1, "[tensor 5000 cpu]", "footer [tensor 5000 cpu]")
  T.ok(s1:find("...", 1, true) and #s1 <= 2000, "a 5000-element 1-D print elides",
       #s1 .. " characters")
end)

T.section("magnitudes, nan, inf", function()
  local s = tostring(attn.tensor({1e10, 1e-10, 1}))
  T.diag(s)
  local body = split(s)
  local vs = {}
  for _, line in ipairs(body) do
    for _, n in ipairs(numbers(line)) do vs[#vs + 1] = n.v end
  end
  local big, small = false, false
  for _, v in ipairs(vs) do
    if T.close(v, 1e10, 1e-3) then big = true end
    if math.abs(v - 1e-10) <= 1e-13 then small = true end
  end
  T.ok(big, "1e10 is readable in the print", s)
  T.ok(small, "1e-10 is readable in the print (not 0.0000)", s)

  local tiny = tostring(attn.tensor({{1.5e-7, -2.5e-8}}))
  local tv = {}
  for _, line in ipairs((split(tiny))) do
    for _, n in ipairs(numbers(line)) do tv[#tv + 1] = n.v end
  end
  T.ok(#tv >= 2 and T.close(tv[1], 1.5e-7, 1e-3) and T.close(tv[2], -2.5e-8, 1e-3),
       "small values keep their digits", tiny)

  local sn = tostring(attn.tensor({0 / 0, 1, math.huge, -math.huge}))
  T.diag(sn)
  T.ok(sn:lower():find("nan", 1, true), "nan prints as nan")
  T.ok(sn:lower():find("-inf", 1, true), "-inf prints as -inf")
  T.ok(sn:lower():gsub("%-inf", ""):find("inf", 1, true), "inf prints as inf")
end)

T.done_testing()
