-- viz.lua: attn.viz from Lua: PNG files from tensors (size, colours at cell
-- centres read back through the image header and pixel checks), terminal
-- output as text, plots, --safe-style path checks, and every error case
-- naming the function and what was wrong.

local T = dofile((os.getenv("ATTNLAB_PATH") or ".") .. "/tests/lua/tap.lua")
local attn = attn or require "attn"
local V = attn.viz

local dir = (os.getenv("ATTNLAB_TESTDIR") or ".") .. "/tmp/viz"
os.execute("mkdir -p '" .. dir .. "'")

-- PNG header: width and height are big-endian at bytes 17..24.
local function png_size(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local head = f:read(24)
  f:close()
  if not head or head:sub(1, 8) ~= "\137PNG\r\n\26\n" then return nil end
  return string.unpack(">I4I4", head, 17)
end

T.section("heatmap to a PNG", function()
  local w = attn.tensor({{0.7, 0.2, 0.1}, {0.1, 0.8, 0.1}, {0.3, 0.3, 0.4}})
  local toks = {"今天", "天气", "怎么样"}
  local path = dir .. "/viz_heatmap.png"
  os.remove(path)
  local h = V.heatmap(w, {rows = toks, cols = toks, title = "注意力", file = path})
  T.is(type(h), "table", "heatmap returns a handle")
  T.is(h.kind, "png", "the handle says png")
  T.is(h.file, path, "the handle names the file")
  local pw, ph = png_size(path)
  T.ok(pw ~= nil, "the file is a PNG")
  T.is({pw, ph}, {h.width, h.height}, "its size is the handle's")
  T.ok(pw > 200 and ph > 150, "a picture of a sensible size")
  -- Same call with cell=20 makes a smaller picture than cell=60.
  local small = V.heatmap(w, {file = path, cell = 20})
  local big = V.heatmap(w, {file = path, cell = 60})
  T.ok(big.width > small.width and big.height > small.height, "cell= sets the size")
  -- A strided view and every colormap and option.
  local wt = w:T()
  for _, cm in ipairs({"viridis", "magma", "gray", "diverging"}) do
    T.lives(function() V.heatmap(wt, {file = path, colormap = cm, annotate = false}) end,
            "colormap " .. cm)
  end
  T.lives(function() V.heatmap(w, {file = path, log = true, vmin = 0.01, vmax = 1}) end,
          "log scale with vmin, vmax")
  T.lives(function() V.heatmap(attn.rand(300, 200), {file = path}) end, "a 300x200 map")
  os.remove(path)
  local leftovers = io.popen("ls '" .. dir .. "' | grep -c 'viz_heatmap.png.' || true"):read("l")
  T.is(leftovers, "0", "no temporary files are left beside the PNG")
end)

T.section("terminal", function()
  local w = attn.tensor({{0, 0.5}, {1, 0.25}})
  local s = V.term(w, {rows = {"a", "b"}, cols = {"x", "y"}, colormap = "gray",
                       color = "truecolor", print = false})
  local want = "a \27[48;2;0;0;0m  \27[48;2;128;128;128m  \27[0m\n" ..
               "b \27[48;2;255;255;255m  \27[48;2;64;64;64m  \27[0m\n" ..
               "  x y \n"
  T.is(s:sub(1, #want), want, "term: rows and column labels byte for byte")
  T.ok(s:find("0 ", #want + 1, true) and s:find(" 1\n", #want + 1, true), "term: the scale 0..1")
  local plain = V.term(w, {color = "none", print = false})
  T.ok(not plain:find("\27", 1, true), "color='none' has no escape codes")
  T.ok(plain:find("0.50", 1, true) and plain:find("1.00", 1, true), "plain mode prints values")
  local c256 = V.term(w, {color = "256", print = false})
  T.ok(c256:find("\27[48;5;", 1, true), "256-colour mode")
  local wide = V.term(attn.rand(100, 100), {width = 40, color = "256", print = false})
  local widest = 0
  for line in wide:gmatch("[^\n]+") do
    local bare = line:gsub("\27%[[%d;]*m", "")
    widest = math.max(widest, utf8.len(bare))
  end
  T.ok(widest <= 40, "a 100x100 map fits 40 columns (" .. widest .. ")")
end)

T.section("plot", function()
  local path = dir .. "/viz_plot.png"
  local losses = {}
  for i = 1, 200 do losses[i] = 2.5 * math.exp(-i / 40) + 0.3 + 0.05 * math.sin(i) end
  local h = V.plot(losses, {title = "loss", file = path})
  T.is(h.kind, "png", "plot writes a PNG")
  local pw, ph = png_size(path)
  T.is({pw, ph}, {720, 420}, "default plot size 720x420")
  os.remove(path)
  T.lives(function() V.plot(attn.tensor(losses), {file = path}) end, "a 1-D tensor plots")
  os.remove(path)
  local s = V.plot({1, 2, 3, 4, 5, 6, 7, 8}, {print = false})
  T.is(s, "▁▂▃▄▅▆▇█\nn=8  first 1  last 8  min 1  max 8\n", "sparkline in the terminal")
end)

T.section("errors", function()
  local w = attn.ones(2, 3)
  T.raises(function() V.heatmap(attn.ones(2, 3, 4)) end,
           {"attn.viz.heatmap", "2-D", "[2,3,4]"}, "a 3-D tensor")
  T.raises(function() V.heatmap(attn.ones(5)) end, {"attn.viz.heatmap", "2-D", "[5]"}, "a 1-D tensor")
  T.raises(function() V.heatmap({1, 2}) end, {"bad argument", "attn.Tensor"}, "not a tensor")
  T.raises(function() V.heatmap(w, {rows = {"a", "b", "c"}}) end,
           {"attn.viz.heatmap", "rows has 3 labels", "2 rows"}, "row label count")
  T.raises(function() V.heatmap(w, {cols = {"a"}}) end,
           {"attn.viz.heatmap", "cols has 1 labels", "3 columns"}, "column label count")
  T.raises(function() V.heatmap(w, {rows = {"a", {}}}) end, {"rows[2]", "table"}, "a table label")
  T.raises(function() V.heatmap(w, {colormap = "jet"}) end,
           {"attn.viz.heatmap", "unknown colormap 'jet'", "viridis"}, "bad colormap name")
  T.raises(function() V.heatmap(w, {colour = "x"}) end,
           {"attn.viz.heatmap", "unknown option 'colour'"}, "a misspelt option")
  T.raises(function() V.heatmap(w, {vmin = 1, vmax = 0, file = dir .. "/x.png"}) end,
           {"attn.viz.heatmap", "vmin (1) must be less than vmax (0)"}, "vmin > vmax")
  T.raises(function() V.heatmap(w, {log = true, vmin = 0, file = dir .. "/x.png"}) end,
           {"attn.viz.heatmap", "vmin > 0"}, "log scale with vmin 0")
  T.raises(function() V.heatmap(w, {title = {}}) end, {"title", "expected a string"}, "bad title")
  T.raises(function() V.heatmap(w, {file = "/nonexistent-dir/a.png"}) end,
           {"attn.viz.heatmap", "/nonexistent-dir/a.png"}, "an unwritable path")
  T.raises(function() V.term(attn.ones(2, 2, 2)) end, {"attn.viz.term", "2-D"}, "term: 3-D")
  T.raises(function() V.term(w, {color = "rainbow"}) end, {"attn.viz.term", "rainbow"},
           "term: bad color mode")
  T.raises(function() V.plot({}) end, {"attn.viz.plot", "no values"}, "plot: empty")
  T.raises(function() V.plot({1, "x"}) end, {"attn.viz.plot", "values[2]"}, "plot: a string")
  T.raises(function() V.plot(attn.ones(2, 2)) end, {"attn.viz.plot", "1-D", "[2,2]"},
           "plot: a 2-D tensor")
end)

T.section("window", function()
  T.lives(function() V.wait() end, "wait() returns at once with no window open")
  local h = V.heatmap(attn.tensor({{0.9, 0.1}, {0.4, 0.6}}), {rows = {"今天", "天气"},
                                                             window = true})
  if os.getenv("SDL_VIDEODRIVER") then
    T.is(h.kind, "window", "window=true opens a window (dummy video driver)")
    T.is(V.plot({3, 1, 2}, {title = "loss", window = true}).kind, "window",
         "plot opens a window too")
  else
    T.skip("window=true opens a window", "no SDL_VIDEODRIVER")
  end
  local bin = os.getenv("ATTNLAB_BIN")
  if not bin then return T.skip("--headless uses the terminal", "no ATTNLAB_BIN") end
  local p = io.popen("DISPLAY=:99 '" .. bin .. "' --headless -e " ..
                     "\"print(attn.viz.heatmap(attn.eye(2), {rows={'a','b'}}).kind); " ..
                     "print(attn.viz.heatmap(attn.eye(3)).kind); attn.viz.term(attn.eye(2)); " ..
                     "attn.viz.plot({1, 2, 3})\" 2>&1")
  local out = p:read("a")
  p:close()
  T.ok(out:find("term\n", 1, true) and out:find("a ", 1, true) and not out:find("\27", 1, true),
       "--headless with a display: the terminal, plain when piped")
  local _, terms = out:gsub("term\n", "")
  T.ok(terms == 2 and out:find("▁▅█", 1, true), "heatmap, term and plot without options")
  if terms ~= 2 then T.diag(out) end
end)

T.section("show", function()
  local rec = {attention = {attn.rand(2, 3, 3):softmax(3), attn.rand(2, 3, 3):softmax(3)}}
  local toks = {"今天", "天气", "好"}
  if os.getenv("SDL_VIDEODRIVER") then
    T.is(V.show(rec, {tokens = toks, window = true}).kind, "window", "show opens a browser")
  end
  T.raises(function() V.show(rec, {tokens = {"a"}}) end,
           {"attn.viz.show", "tokens has 1 labels", "3 tokens"}, "show: token count")
  T.raises(function() V.show({attention = {attn.ones(2, 3, 3), attn.ones(2, 4, 4)}}) end,
           {"attn.viz.show", "layer 2", "[2,4,4]", "[2,3,3]"}, "show: layers differ")
  T.raises(function() V.show(attn.ones(3, 4)) end, {"attn.viz.show", "[3,4]"}, "show: 2-D")
  T.raises(function() V.show(42) end, {"attn.viz.show", "number"}, "show: a number")
  local bin = os.getenv("ATTNLAB_BIN")
  if not bin then return T.skip("show in the terminal", "no ATTNLAB_BIN") end
  local p = io.popen("'" .. bin .. "' --headless -e " ..
                     "\"attn.viz.show(attn.ones(2, 2, 3, 3) / 3, {tokens={'a','b','c'}})\" 2>&1")
  local out = p:read("a")
  p:close()
  T.ok(out:find("layer 1 of 2, average of 2 heads", 1, true) and
       out:find("layer 2 of 2, average of 2 heads", 1, true), "show in the terminal: every layer")
end)

T.section("--safe", function()
  local bin = os.getenv("ATTNLAB_BIN")
  if not bin then return T.skip("--safe refuses writes outside the folder", "no ATTNLAB_BIN") end
  local code = "attn.viz.heatmap(attn.ones(2,2), {file='/tmp/attnlab-viz-safe.png'})"
  local p = io.popen("'" .. bin .. "' --safe -e \"" .. code .. "\" 2>&1; echo \"rc=$?\"")
  local out = p:read("a")
  p:close()
  T.ok(out:find("attn.viz.heatmap", 1, true) and out:find("outside the working folder", 1, true)
       and out:find("rc=1", 1, true), "--safe refuses a PNG outside the working folder")
  local f = io.open("/tmp/attnlab-viz-safe.png", "rb")
  T.ok(f == nil, "and writes nothing there")
  if f then f:close() end
end)

os.remove(dir .. "/x.png")
os.remove(dir)
T.done_testing()
