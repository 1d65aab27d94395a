-- attn.zoo: the models shipped with attnlab, by name.
--
-- A built-in model is a Hugging Face folder under data/models/ of
-- attn.config.root (the build tree, or the installed data folder). Lua
-- cannot list a folder by itself, so data/models/index.txt names them, one
-- a line, the default first; a name counts only while its folder holds a
-- config.json, so a model not yet trained (or not installed) is not offered.
--
-- It adds attn.models.list(), attn.models.builtin(name), and lets
-- attn.models.load(x) take a built-in name where a folder is expected.

local attn = require "attn.core"
local models = require "attn.models"
local checkpoint = require "attn.checkpoint"

local zoo = {}

local function models_dir()
  local root = attn.config and attn.config.root or "."
  return root .. "/data/models"
end

local function readable(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

--- attn.models.list() -> {name, ...}: the built-in models present, the
-- default first.
function zoo.list()
  local names = {}
  local f = io.open(models_dir() .. "/index.txt", "r")
  if not f then return names end
  for line in f:lines() do
    local name = line:match("^%s*([^#%s]+)%s*$")
    if name and readable(models_dir() .. "/" .. name .. "/config.json") then
      names[#names + 1] = name
    end
  end
  f:close()
  return names
end

local function is_builtin(name)
  for _, n in ipairs(zoo.list()) do
    if n == name then return true end
  end
  return false
end

local function available()
  local names = zoo.list()
  return #names > 0 and table.concat(names, ", ") or "none installed"
end

--- m, tok = attn.models.builtin(name): a shipped model and its tokenizer.
function zoo.builtin(name)
  if type(name) ~= "string" then
    error("models.builtin: expected a model name (a string), got " .. type(name) ..
          " (available: " .. available() .. ")", 2)
  end
  if not is_builtin(name) then
    error(string.format("models.builtin: no built-in model named %q (available: %s)",
                        name, available()), 2)
  end
  return checkpoint.load(models_dir() .. "/" .. name)
end

--- m, tok = attn.models.load(x): x is a folder, or the name of a built-in
-- model. A folder of that name in the working folder wins over a built-in.
-- A bare name (no "/") that is neither is answered with the built-in names.
function zoo.load(x)
  if type(x) == "string" and not readable(x .. "/config.json") then
    if is_builtin(x) then return checkpoint.load(models_dir() .. "/" .. x) end
    if not x:find("/", 1, true) then
      error(string.format("models.load: %q is neither a folder with a config.json nor a " ..
                          "built-in model (available: %s)", x, available()), 2)
    end
  end
  return checkpoint.load(x)
end

models.list, models.builtin, models.load = zoo.list, zoo.builtin, zoo.load

return zoo
