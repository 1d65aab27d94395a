-- attn.pretty: how the REPL shows a value.
--
--   local pretty = require "attn.pretty"
--   print(pretty.show({1, 2, name = "x"}))     --> {1, 2, name = "x"}
--
-- show(v) returns a string:
--   strings        as they are at the top; quoted (and cut when long) inside tables
--   __tostring     through tostring: tensors, modules, anything that knows how
--   tables         keys sorted (numbers, then strings, then the rest), the
--                  sequence part without keys, nested tables indented; cut
--                  after MAX_DEPTH levels and MAX_ITEMS entries; a table that
--                  contains itself shows <cycle>
--   functions      "function: builtin" (written in C) or "function: file:line"
--
-- It reads tables with next and rawget, never through __index or __pairs,
-- so showing a value runs no code of the value's own except __tostring.

local M = {}

local MAX_DEPTH = 4    -- table levels shown; deeper ones read {...}
local MAX_ITEMS = 40   -- entries shown per table, then "... (N more)"
local MAX_TOTAL = 2000 -- entries shown in all, so shared subtables stay cheap
local MAX_STRING = 200 -- bytes of a string shown inside a table
local WIDTH = 72       -- a table fits on one line up to this many columns

local getinfo = debug and debug.getinfo

local keywords = {}
for word in ([[and break do else elseif end false for function goto if in
    local nil not or repeat return then true until while]]):gmatch("%a+") do
  keywords[word] = true
end

local escapes = {['"'] = '\\"', ['\\'] = '\\\\', ['\n'] = '\\n', ['\t'] = '\\t',
                 ['\r'] = '\\r'}

-- s as a Lua string literal. Bytes above 127 stay as they are, so UTF-8
-- text (Chinese too) stays readable; a cut never splits a character.
local function quote(s)
  local cut = #s > MAX_STRING
  if cut then
    local n = MAX_STRING
    while n > 0 and (s:byte(n + 1) or 0) & 0xC0 == 0x80 do n = n - 1 end
    s = s:sub(1, n)
  end
  s = s:gsub('[%c"\\]', function(c)
    return escapes[c] or ("\\%03d"):format(c:byte())
  end)
  return '"' .. s .. (cut and '"...' or '"')
end

local function is_name(k)
  return type(k) == "string" and k:match("^[%a_][%w_]*$") ~= nil and not keywords[k]
end

local function has_tostring(v)
  local mt = getmetatable(v)
  return type(mt) == "table" and rawget(mt, "__tostring") ~= nil
end

-- tostring that reports a failing __tostring instead of raising.
local function to_text(v)
  local ok, s = pcall(tostring, v)
  if ok then return s end
  return ("<%s whose __tostring failed: %s>"):format(type(v), tostring(s))
end

local function function_text(f)
  local info = getinfo and getinfo(f, "S")
  if not info then return "function" end
  if info.what == "C" then return "function: builtin" end
  return ("function: %s:%d"):format(info.short_src, info.linedefined)
end

-- Sort order of keys: numbers, strings, booleans, then the rest by type
-- and address (never through __tostring or __lt).
local rank = {number = 1, string = 2, boolean = 3}
local function key_less(a, b)
  local ta, tb = type(a), type(b)
  local ra, rb = rank[ta] or 4, rank[tb] or 4
  if ra ~= rb then return ra < rb end
  if ra <= 2 then return a < b end
  if ra == 3 then return not a and b end
  return ("%s %p"):format(ta, a) < ("%s %p"):format(tb, b)
end

local function key_text(k)
  if is_name(k) then return k .. " = " end
  if type(k) == "string" then return "[" .. quote(k) .. "] = " end
  if type(k) == "number" or type(k) == "boolean" then return "[" .. tostring(k) .. "] = " end
  return ("[%s: %p] = "):format(type(k), k)
end

local show_value -- defined below; tables and values call each other

-- A multi-line text (a tensor) inside a table: its footer line such as
-- "[tensor 4x4 cpu]" when it has one, else all of it, indented.
local function nested_text(s, indent)
  local last = s:match("\n([^\n]*)\n?$")
  if last and last:match("^%[.*%]$") then return last end
  return (s:gsub("\n", "\n" .. indent))
end

local function show_table(t, depth, state, indent)
  if state.seen[t] then return "<cycle>" end
  if depth > MAX_DEPTH then return "{...}" end
  local keys = {}
  for k in next, t do keys[#keys + 1] = k end
  if #keys == 0 then return "{}" end
  table.sort(keys, key_less)
  state.seen[t] = true
  local items, inner, multiline = {}, indent .. "  ", false
  local shown = math.min(#keys, MAX_ITEMS, math.max(state.budget, 1))
  state.budget = state.budget - shown
  for i = 1, shown do
    local k = keys[i]
    local text = show_value(rawget(t, k), depth + 1, state, inner)
    -- keys 1..n in a row are the sequence part: shown without keys
    if k ~= i then text = key_text(k) .. text end
    items[i] = text
    multiline = multiline or text:find("\n", 1, true) ~= nil
  end
  if #keys > shown then items[#items + 1] = ("... (%d more)"):format(#keys - shown) end
  state.seen[t] = nil
  local line = "{" .. table.concat(items, ", ") .. "}"
  if not multiline and #indent + #line <= WIDTH then return line end
  return "{\n" .. inner .. table.concat(items, ",\n" .. inner) .. "\n" .. indent .. "}"
end

show_value = function(v, depth, state, indent)
  local kind = type(v)
  if kind == "string" then return depth == 1 and v or quote(v) end
  if has_tostring(v) then
    local s = to_text(v)
    if depth > 1 and s:find("\n", 1, true) then return nested_text(s, indent) end
    return s
  end
  if kind == "table" then return show_table(v, depth, state, indent) end
  if kind == "function" then return function_text(v) end
  return tostring(v)
end

-- The text the REPL prints for v.
function M.show(v)
  return show_value(v, 1, {seen = {}, budget = MAX_TOTAL}, "")
end

return M
