-- attn.lesson: the lesson runner.
--
-- A lesson is lessons/NN-slug.lua under attn.config.root, returning a table
-- (the format every lesson follows):
--
--   { id = "slug", title = {en=, zh=}, minutes = 15,
--     steps = { { text = {en=, zh=},          -- always there
--                 code = [[...]],             -- shown in a frame, then run with
--                                             -- the learner's globals as _ENV
--                 picture = function(env) return w, {rows=, cols=, title=} end,
--                   (title: a string, or {en=, zh=} like the texts)
--                 exercise = { ask = {en=, zh=}, kind = "number"|"tensor"|"choice",
--                              answer = function(env) ... end,   -- computed, never typed
--                              tol = 1e-3, choices = {en={...}, zh={...}},
--                              hint = {en=, zh=} } }, ... } }
--
-- Extensions to that format (compatible: a lesson without them is unchanged):
--   - a step may have `title = {en=, zh=}`, printed as its heading;
--   - run() also takes `env` (the table code runs in; default _G), `read`
--     (function(prompt) -> line or nil) and `write` (function(s)), so tests
--     and other front ends can drive a lesson without a terminal;
--   - a typed answer may be any Lua expression over the lesson's variables
--     (math.exp(1) / 3, or {{1, 2}, {3, 4}}); full-width digits and
--     punctuation from a Chinese input method are read as ASCII;
--   - an entry of `answers` may be a string: it is read as if typed;
--   - attn.lesson._read, when set (the command line sets it when standard
--     input is a terminal), is the default reader: it keeps windows live
--     while waiting and returns nil on Ctrl-C, which leaves the lesson.
--
-- Between steps the runner reads a line: Enter next, b back, r re-run, q
-- leave. An exercise reads answers until one is right (a wrong one shows
-- the hint; an empty line shows the solution and goes on). Errors in a
-- step's code, picture or answer are shown and recorded; the lesson goes on.
-- While code runs, print goes through the runner's writer (so tests and
-- the Markdown export see it) and is put back afterwards.

local attn = require "attn.core"

local lesson = {}

-- ---- finding lessons -----------------------------------------------------------

local function folder()
  return (attn.config and attn.config.root or ".") .. "/lessons"
end

-- The file names NN-slug.lua in the lessons folder, sorted.
local function lesson_files(dir)
  local ok, entries = pcall(attn._io.list, dir)
  if not ok then
    error("attn.lesson: cannot list " .. dir .. " (" .. tostring(entries) .. ")", 0)
  end
  local names = {}
  for _, name in ipairs(entries) do
    if name:match("^%d%d%-[%w_%-]+%.lua$") then names[#names + 1] = name end
  end
  return names
end

local function bilingual(t, what, where)
  if type(t) ~= "table" or type(t.en) ~= "string" or type(t.zh) ~= "string" then
    error(where .. ": " .. what .. " must be a table {en=string, zh=string}", 0)
  end
end

local KINDS = {number = true, tensor = true, choice = true}

local function check_exercise(ex, where)
  if type(ex) ~= "table" then error(where .. ": exercise must be a table", 0) end
  bilingual(ex.ask, "exercise.ask", where)
  if not KINDS[ex.kind] then
    error(where .. ": exercise.kind must be number, tensor or choice, not " ..
          tostring(ex.kind), 0)
  end
  if type(ex.answer) ~= "function" then
    error(where .. ": exercise.answer must be a function of the environment", 0)
  end
  if ex.kind == "choice" then
    local c = ex.choices
    if type(c) ~= "table" or type(c.en) ~= "table" or type(c.zh) ~= "table" or
       #c.en < 2 or #c.en ~= #c.zh then
      error(where .. ": a choice exercise needs choices {en={...}, zh={...}} of one length", 0)
    end
  end
  if ex.hint ~= nil then bilingual(ex.hint, "exercise.hint", where) end
  if ex.tol ~= nil and (type(ex.tol) ~= "number" or ex.tol < 0) then
    error(where .. ": exercise.tol must be a number >= 0", 0)
  end
end

-- Check a loaded lesson table so that a slip in a lesson file is one clear
-- message naming the file and the step, not a crash halfway through a class.
local function check_lesson(L, file)
  if type(L) ~= "table" then error(file .. ": a lesson file must return a table", 0) end
  if type(L.id) ~= "string" or L.id == "" then error(file .. ": id must be a string", 0) end
  bilingual(L.title, "title", file)
  if type(L.minutes) ~= "number" then error(file .. ": minutes must be a number", 0) end
  if type(L.steps) ~= "table" or #L.steps == 0 then
    error(file .. ": steps must be a non-empty list", 0)
  end
  for i, s in ipairs(L.steps) do
    local where = file .. " step " .. i
    if type(s) ~= "table" then error(where .. ": a step must be a table", 0) end
    bilingual(s.text, "text", where)
    if s.title ~= nil then bilingual(s.title, "title", where) end
    if s.code ~= nil and type(s.code) ~= "string" then
      error(where .. ": code must be a string", 0)
    end
    if s.picture ~= nil and type(s.picture) ~= "function" then
      error(where .. ": picture must be a function(env)", 0)
    end
    if s.exercise ~= nil then check_exercise(s.exercise, where) end
  end
  return L
end

local function load_lesson(dir, name)
  local path = dir .. "/" .. name
  local chunk, err = loadfile(path, "t")
  if not chunk then error("attn.lesson: cannot load " .. name .. ": " .. err, 0) end
  local ok, L = pcall(chunk)
  if not ok then error("attn.lesson: " .. name .. " raised an error: " .. tostring(L), 0) end
  check_lesson(L, name)
  L.number = tonumber(name:sub(1, 2))
  L.file = name
  L.stem = name:sub(1, -5)
  return L
end

-- id: 3, "3", "03", "attention-forms" (the slug) or "03-attention-forms".
local function find(id)
  local dir = folder()
  local want = tostring(id)
  if type(id) ~= "number" and type(id) ~= "string" then
    error("attn.lesson: a lesson is named by its number or its id, not a " .. type(id), 0)
  end
  -- a full file name needs no listing of the folder
  if want:match("^%d%d%-[%w_%-]+$") then
    local f = io.open(dir .. "/" .. want .. ".lua", "r")
    if f then
      f:close()
      return load_lesson(dir, want .. ".lua")
    end
  end
  local names = lesson_files(dir)
  local n = tonumber(want)
  for _, name in ipairs(names) do
    local num, slug = name:match("^(%d%d)%-(.+)%.lua$")
    if (n and math.tointeger(n) == tonumber(num)) or slug == want or
       name == want .. ".lua" then
      return load_lesson(dir, name)
    end
  end
  local known = {}
  for _, name in ipairs(names) do
    known[#known + 1] = tonumber(name:sub(1, 2)) .. " " .. name:match("^%d%d%-(.+)%.lua$")
  end
  error(("attn.lesson: no lesson '%s' (there are: %s; attnlab --list-lessons shows them)")
        :format(want, #known > 0 and table.concat(known, ", ") or "none"), 0)
end
lesson.load = find

-- ---- language ------------------------------------------------------------------

--- The default language: the first of LC_ALL, LC_MESSAGES, LANG that is set;
-- a zh locale gives Chinese, anything else English.
local function default_lang()
  for _, var in ipairs({"LC_ALL", "LC_MESSAGES", "LANG"}) do
    local v = os.getenv(var)
    if v and v ~= "" then return v:match("^zh") and "zh" or "en" end
  end
  return "en"
end

local function pick_lang(lang)
  lang = lang or default_lang()
  if lang ~= "en" and lang ~= "zh" then
    error("attn.lesson: lang must be \"en\" or \"zh\", not " .. tostring(lang), 0)
  end
  return lang
end

-- The runner's own words, in both languages.
local WORDS = {
  en = {
    lesson = "Lesson", minutes = "minutes", step = "Step", code = "code",
    keys = "[Enter] next   b back   r re-run   q leave > ",
    keys_again = "Keys: Enter (next), b (back), r (re-run this step), q (leave).",
    exercise = "Exercise:", answer = "answer> ", right = "Right!",
    wrong = "Not quite.", hint = "Hint: ", solution = "Solution: ",
    empty = "(an empty line shows the solution)",
    bad_input = "That is not an answer I can read: ",
    step_error = "This step's code raised an error (the lesson goes on):",
    picture_error = "This step's picture failed (the lesson goes on):",
    answer_error = "This exercise could not be checked (the lesson goes on):",
    done = "End of the lesson. Its variables stay in your session: try them at the prompt.",
    left = "You left the lesson. Its variables stay in your session.",
    first = "(this is the first step)",
    choose = "the number of your choice",
    figure = "Figure", solutions = "Solutions", exercise_n = "Exercise",
    hint_md = "Hint:",
  },
  zh = {
    lesson = "第", minutes = "分钟", step = "步骤", code = "代码",
    keys = "[回车] 下一步   b 上一步   r 重做本步   q 退出 > ",
    keys_again = "按键：回车（下一步）、b（上一步）、r（重新运行本步）、q（退出）。",
    exercise = "练习：", answer = "你的答案> ", right = "答对了！",
    wrong = "还不对。", hint = "提示：", solution = "参考答案：",
    empty = "（直接回车可查看答案）",
    bad_input = "无法识别这个答案：",
    step_error = "本步代码出错（课程继续）：",
    picture_error = "本步的图没能画出（课程继续）：",
    answer_error = "这道练习无法判分（课程继续）：",
    done = "本课结束。课上的变量都还在，可以在提示符下接着试。",
    left = "已退出本课。课上的变量都还在。",
    first = "（已经是第一步）",
    choose = "选项的编号",
    figure = "图", solutions = "参考答案", exercise_n = "练习",
    hint_md = "提示：",
  },
}

local function lesson_heading(L, lang)
  if lang == "zh" then
    return ("第 %d 课：%s（约 %d 分钟）"):format(L.number, L.title.zh, L.minutes)
  end
  return ("Lesson %d: %s (about %d minutes)"):format(L.number, L.title.en, L.minutes)
end

-- ---- answers ---------------------------------------------------------------------

-- Values of a tensor or nested table as a flat list plus its shape.
local function flat_of(v)
  if attn.is_tensor(v) then v = v:table() end
  if type(v) == "number" then return {v}, {} end
  local shape, t = {}, v
  while type(t) == "table" do
    shape[#shape + 1] = #t
    t = t[1]
  end
  local out = {}
  local function walk(x, d)
    if d > #shape then
      out[#out + 1] = x
      return
    end
    if type(x) ~= "table" or #x ~= shape[d] then error("rows of different lengths", 0) end
    for i = 1, #x do walk(x[i], d + 1) end
  end
  walk(v, 1)
  for _, x in ipairs(out) do
    if type(x) ~= "number" then error("a value that is not a number", 0) end
  end
  return out, shape
end

-- Whether `given` matches the expected value for the exercise kind.
local function matches(kind, given, expected, tol)
  if kind == "choice" then return math.tointeger(given) == math.tointeger(expected) end
  if kind == "number" then
    if attn.is_tensor(given) and given:numel() == 1 then given = given:item() end
    if attn.is_tensor(expected) then expected = expected:item() end
    return type(given) == "number" and math.abs(given - expected) <= tol
  end
  local ok, g, gs = pcall(flat_of, given)
  if not ok then return false end
  local e, es = flat_of(expected)
  if #gs ~= #es then return false end
  for i = 1, #es do if gs[i] ~= es[i] then return false end end
  for i = 1, #e do
    if not (math.abs(g[i] - e[i]) <= tol) then return false end
  end
  return true
end

-- A typed line -> a value: a number, a table literal ({{1,2},{3,4}}) or any
-- Lua expression over the lesson's variables (so "math.exp(1)/3" works).
-- Full-width forms a Chinese input method types, and their ASCII.
local FULL_WIDTH = {["，"] = ",", ["｛"] = "{", ["｝"] = "}", ["（"] = "(", ["）"] = ")",
                    ["．"] = ".", ["。"] = ".", ["－"] = "-", ["＋"] = "+", ["／"] = "/",
                    ["＊"] = "*", ["　"] = " "}

local function ascii_forms(line)
  line = line:gsub("\xEF\xBC[\x90-\x99]", function(c)    -- ０..９
    return string.char(c:byte(3) - 0x90 + 48)
  end)
  for wide, narrow in pairs(FULL_WIDTH) do line = line:gsub(wide, narrow) end
  return line
end

local function parse_answer(line, env)
  line = ascii_forms(line)
  local n = tonumber(line)
  if n then return n end
  local chunk, err = load("return " .. line, "=answer", "t", env)
  if not chunk then return nil, err end
  local ok, v = pcall(chunk)
  if not ok then return nil, tostring(v) end
  if v == nil then return nil, "it gives nil" end
  return v
end

-- Four decimals without trailing zeros (0.147, 16); tiny values keep three
-- significant digits instead of showing as 0.
local function format_number(x)
  if math.type(x) == "integer" then return tostring(x) end
  if x ~= 0 and math.abs(x) < 1e-3 then return ("%.3g"):format(x) end
  return (("%.4f"):format(x):gsub("0+$", ""):gsub("%.$", ""))
end

local function format_value(kind, v, ex, lang)
  if kind == "choice" then
    return ("%d) %s"):format(v, ex.choices[lang][v] or "?")
  elseif kind == "number" then
    if attn.is_tensor(v) then v = v:item() end
    return format_number(v)
  end
  local ok, flat, shape = pcall(flat_of, v)
  if not ok then return tostring(v) end
  local pos = 0
  local function build(d)
    if d > #shape then
      pos = pos + 1
      return format_number(flat[pos])
    end
    local parts = {}
    for i = 1, shape[d] do parts[i] = build(d + 1) end
    return "{" .. table.concat(parts, ", ") .. "}"
  end
  return build(1)
end

-- ---- the run -----------------------------------------------------------------------

local function indent(s, pre)
  return (s:gsub("[^\n]+", function(line) return pre .. line end))
end

local function trim(s)
  return (s:gsub("^%s*\n", ""):gsub("%s+$", ""))
end

local function code_frame(code, word)
  local lines = {"  ┌─ " .. word .. " " .. ("─"):rep(50)}
  for line in (trim(code) .. "\n"):gmatch("(.-)\n") do lines[#lines + 1] = "  │ " .. line end
  lines[#lines + 1] = "  └" .. ("─"):rep(54)
  return table.concat(lines, "\n") .. "\n"
end

-- Keys the heatmap and term sinks each accept (they refuse others).
local HEATMAP_KEYS = {rows = 1, cols = 1, title = 1, colormap = 1, vmin = 1, vmax = 1, log = 1,
                      annotate = 1, xlabel = 1, ylabel = 1, cell = 1, colorbar = 1}
local TERM_KEYS = {rows = 1, cols = 1, title = 1, colormap = 1, vmin = 1, vmax = 1, log = 1}

local function only(opts, keys)
  local o = {}
  for k, v in pairs(opts or {}) do if keys[k] then o[k] = v end end
  return o
end

-- Run `fn` with the global print writing through `write`, then put it back.
local function with_print(write, fn, ...)
  local saved = print
  _G.print = function(...)
    local n, parts = select("#", ...), {}
    for i = 1, n do parts[i] = tostring((select(i, ...))) end
    write(table.concat(parts, "\t") .. "\n")
  end
  local res = table.pack(xpcall(fn, debug.traceback, ...))
  _G.print = saved
  return table.unpack(res, 1, res.n)
end

-- The message of an error without its traceback: the learner needs what
-- went wrong and where in the step ("lesson 2 step 5:1: ..."), not the
-- runner's own frames.
local function short_error(err)
  local msg = tostring(err)
  return msg:match("^(.-)\nstack traceback:") or msg
end

-- The state of one run: the lesson, the language, input/output and tallies.
local Run = {}
Run.__index = Run

function Run:say(s) self.write(s) end
function Run:line(s) self.write((s or "") .. "\n") end

function Run:error(kind, step, err)
  local msg = short_error(err)
  -- Ctrl-C while a step runs ends the lesson (the learner keeps what ran)
  if msg:match("interrupted$") then self.stop = true end
  self.report.errors[#self.report.errors + 1] = {step = step, kind = kind, message = msg}
  self:line("  ! " .. self.words[kind .. "_error"])
  self:line(indent(msg, "    "))
end

-- framed: print the code in a frame first (the terminal; the handout has
-- Markdown code blocks instead).
function Run:run_code(i, code, framed)
  if framed then self:say(code_frame(code, self.words.code)) end
  local chunk, err = load(code, ("=lesson %d step %d"):format(self.L.number, i), "t", self.env)
  if not chunk then return self:error("step", i, err) end
  local ok, e = with_print(self.write, chunk)
  if not ok then self:error("step", i, e) end
end

function Run:show_picture(i, step)
  local ok, w, opts = with_print(self.write, step.picture, self.env)
  if ok and not attn.is_tensor(w) then
    ok, w = false, "picture: the function must return a 2-d tensor, got " .. type(w)
  end
  opts = opts or {}
  if type(opts.title) == "table" then opts.title = opts.title[self.lang] or opts.title.en end
  if ok then
    ok, w = xpcall(self.picture, debug.traceback, self, w, opts, i)
  end
  if not ok then self:error("picture", i, w) end
end

-- How the answers for an auto run are given: one entry per exercise.
local function attempts_of(entry)
  if type(entry) == "table" and entry.attempts then return entry.attempts end
  if entry == nil then return {} end
  return {entry}
end

function Run:ask(ex)
  local lang = self.lang
  self:line("")
  self:line("  ✎ " .. self.words.exercise)
  self:line(indent(trim(ex.ask[lang]), "    "))
  if ex.kind == "choice" then
    for k, c in ipairs(ex.choices[lang]) do self:line(("      %d) %s"):format(k, c)) end
  end
end

-- The k-th try at exercise nth: "answer", value (a string is still to be
-- parsed); "give up" (an empty line, or no scripted try left: show the
-- solution); or "leave" (end of input or Ctrl-C).
function Run:try(ex, nth, k)
  if self.auto then
    local given = attempts_of(self.answers[nth])[k]
    if given == nil then return "give up" end
    local shown = type(given) == "string" and given or format_value(ex.kind, given, ex, self.lang)
    self:line("  " .. self.words.answer .. shown)
    return "answer", given
  end
  if k == 1 then self:line("  " .. self.words.empty) end
  local line = self.read("  " .. self.words.answer)
  if line == nil then return "leave" end
  if trim(line) == "" then return "give up" end
  return "answer", trim(line)
end

-- Record how exercise nth (of step i) ended. The tallies count each
-- exercise once, however often b or r brings it back.
function Run:record(i, nth, correct, attempts)
  self.report.answers[nth] = {step = i, correct = correct, attempts = attempts}
  if not self.asked[i] then
    self.asked[i] = true
    self.report.exercises = self.report.exercises + 1
  end
  if correct and not self.solved[i] then
    self.solved[i] = true
    self.report.correct = self.report.correct + 1
  end
end

-- One exercise: ask, read answers (typed or scripted) until one is right;
-- a wrong one shows the hint, giving up shows the solution.
function Run:exercise(i, ex)
  local nth = #self.report.answers + 1            -- scripted answers go in asking order
  self:record(i, nth, false, 0)
  local ok, expected = xpcall(ex.answer, debug.traceback, self.env)
  if ok and expected == nil then ok, expected = false, "answer() returned nil" end
  if not ok then return self:error("answer", i, expected) end
  local solution = format_value(ex.kind, expected, ex, self.lang)
  self:ask(ex)
  local k = 0
  while true do
    k = k + 1
    local what, given = self:try(ex, nth, k)
    if what == "leave" then
      self.stop = true
      return
    elseif what == "give up" then
      self:line("  " .. self.words.solution .. solution)
      return self:record(i, nth, false, k - 1)
    end
    local value, err = given, nil
    if type(given) == "string" then value, err = parse_answer(given, self.env) end
    if value == nil then
      self:line("  " .. self.words.bad_input .. tostring(err))
    elseif matches(ex.kind, value, expected, ex.tol or 1e-3) then
      self:line("  ✓ " .. self.words.right .. "  (" .. solution .. ")")
      return self:record(i, nth, true, k)
    else
      self:line("  ✗ " .. self.words.wrong)
      if ex.hint then
        self:line("    " .. self.words.hint .. indent(trim(ex.hint[self.lang]), "    "):sub(5))
      end
    end
  end
end

function Run:step(i)
  local s = self.L.steps[i]
  local lang = self.lang
  self.seen[i] = true
  local head = ("── %s %d/%d"):format(self.words.step, i, #self.L.steps)
  if s.title then head = head .. " · " .. s.title[lang] end
  self:line("")
  -- pad by display width: a CJK character takes two columns
  local cols = 0
  for _, c in utf8.codes(head) do cols = cols + (c >= 0x1100 and c ~= 0x2500 and 2 or 1) end
  self:line(head .. " " .. ("─"):rep(math.max(4, 72 - cols)))
  self:line("")
  self:line(trim(s.text[lang]))
  self:line("")
  if s.code then self:run_code(i, s.code, true) end
  if s.picture and not self.stop then self:show_picture(i, s) end
  if s.exercise and not self.stop then self:exercise(i, s.exercise) end
end

-- What to do after a step: "next", "back", "again" or "quit".
function Run:key(i)
  if self.auto then return "next" end
  while true do
    local line = self.read(self.words.keys)
    if line == nil then return "quit" end
    local k = trim(line):lower()
    if k == "" or k == "n" then return "next" end
    if k == "b" then
      if i > 1 then return "back" end
      self:line(self.words.first)
    elseif k == "r" then return "again"
    elseif k == "q" then return "quit"
    else self:line(self.words.keys_again) end
  end
end

-- The default picture: a window (or the terminal) through attn.viz.heatmap;
-- headless, or with a writer of its own, terminal blocks through the writer.
local function picture_default(run, w, opts)
  local viz = attn.viz
  if run.own_writer or (attn.config and attn.config.headless) then
    local o = only(opts, TERM_KEYS)
    o.print = false
    run:say(viz.term(w, o))
  else
    viz.heatmap(w, only(opts, HEATMAP_KEYS))
  end
end

local function new_run(L, opts)
  opts = opts or {}
  local lang = pick_lang(opts.lang)
  local run = setmetatable({
    L = L, lang = lang, words = WORDS[lang], auto = opts.auto and true or false,
    answers = opts.answers or {}, env = opts.env or _G, seen = {}, asked = {}, solved = {},
    write = opts.write or function(s) io.write(s) io.stdout:flush() end,
    own_writer = opts.write ~= nil,
    read = opts.read or lesson._read or function(prompt)
      io.write(prompt)
      io.stdout:flush()
      return io.read("l")
    end,
    picture = opts.picture or picture_default,
    report = {steps = 0, exercises = 0, correct = 0, errors = {}, answers = {}},
  }, Run)
  if type(run.answers) ~= "table" then
    error("attn.lesson.run: answers must be a list, one entry per exercise", 0)
  end
  return run
end

local function count_seen(run)
  local n = 0
  for _ in pairs(run.seen) do n = n + 1 end
  return n
end

--- attn.lesson.run(id, {lang=, auto=, answers=}) -> report
-- report = {steps=, exercises=, correct=, errors={{step=, kind=, message=}}, quit=}
function lesson.run(id, opts)
  if opts ~= nil and type(opts) ~= "table" then
    error("attn.lesson.run: options must be a table {lang=, auto=, answers=}", 2)
  end
  local L = find(id)
  local run = new_run(L, opts)
  run:line(lesson_heading(L, run.lang))
  local i = 1
  while i <= #L.steps do
    run:step(i)
    local last = i == #L.steps
    local k = run.stop and "quit" or (last and "next" or run:key(i))
    if k == "quit" then
      run.report.quit = true
      break
    elseif k == "back" then i = i - 1
    elseif k == "next" then i = i + 1 end
  end
  run.report.steps = count_seen(run)
  run:line("")
  run:line(run.report.quit and run.words.left or run.words.done)
  return run.report
end

--- attn.lesson.list() -> {{id=, number=, title=, minutes=}, ...}
-- title is in the default language; titles holds both.
function lesson.list()
  local dir = folder()
  local lang = default_lang()
  local out = {}
  for _, name in ipairs(lesson_files(dir)) do
    local L = load_lesson(dir, name)
    out[#out + 1] = {id = L.id, number = L.number, title = L.title[lang], titles = L.title,
                     minutes = L.minutes}
  end
  return setmetatable(out, {__tostring = function(t)
    local lines = {}
    for _, e in ipairs(t) do
      lines[#lines + 1] = ("%2d  %-20s %s (%d min)"):format(e.number, e.id, e.title, e.minutes)
    end
    return table.concat(lines, "\n")
  end})
end

-- ---- the handout -----------------------------------------------------------------

-- Write `text` to `path` through a temporary file and a rename, so a reader
-- never sees half a file.
local function save_atomic(path, text)
  local tmp = path .. ".tmp"
  local f, err = io.open(tmp, "wb")
  if not f then error("attn.lesson.export: cannot write " .. tmp .. ": " .. err, 0) end
  local ok, werr = f:write(text)
  local closed, cerr = f:close()            -- a full disk may only show here
  ok, werr = ok and closed, werr or cerr
  if not ok then
    os.remove(tmp)
    error("attn.lesson.export: cannot write " .. tmp .. ": " .. tostring(werr), 0)
  end
  local renamed, rerr = os.rename(tmp, path)
  if not renamed then
    os.remove(tmp)
    error("attn.lesson.export: cannot rename " .. tmp .. " to " .. path .. ": " .. rerr, 0)
  end
end

-- A handout being written: the Markdown lines, the output of the step's
-- code not yet written out, the figures and the solutions so far.
local Handout = {}
Handout.__index = Handout

function Handout:add(s) self.md[#self.md + 1] = s end

-- What the step's code printed, as a text block.
function Handout:flush()
  local text = trim(table.concat(self.out))
  self.out = {}
  if text ~= "" then self:add("```text\n" .. text .. "\n```\n") end
end

-- The runner's picture sink for a handout: a PNG beside the Markdown.
function Handout:figure(w, popts)
  self.figures = self.figures + 1
  local png = ("%s-%d.png"):format(self.base, self.figures)
  local o = only(popts, HEATMAP_KEYS)
  o.file = self.dir .. "/" .. png
  attn.viz.heatmap(w, o)
  self:flush()
  self:add(("![%s %d](%s)\n"):format(self.words.figure, self.figures, png))
end

-- The question, its choices and hint; the solution goes to the end.
function Handout:exercise(ex, env)
  local lang, W = self.lang, self.words
  local nth = #self.solutions + 1
  self:add(("**%s %d.** %s\n"):format(W.exercise_n, nth, trim(ex.ask[lang])))
  if ex.kind == "choice" then
    for k, c in ipairs(ex.choices[lang]) do self:add(("%d. %s"):format(k, c)) end
    self:add("")
  end
  if ex.hint then self:add(("*%s* %s\n"):format(W.hint_md, trim(ex.hint[lang]))) end
  local ok, v = xpcall(ex.answer, debug.traceback, env)
  self.solutions[nth] = ("%d. %s"):format(nth, ok and v ~= nil and
    format_value(ex.kind, v, ex, lang) or ("(" .. short_error(v) .. ")"))
end

function Handout:step(run, i, s)
  local lang = self.lang
  self.out = {}
  self:add(("## %s %d%s\n"):format(self.words.step, i, s.title and (" · " .. s.title[lang]) or ""))
  self:add(trim(s.text[lang]) .. "\n")
  if s.code then
    self:add("```lua\n" .. trim(s.code) .. "\n```\n")
    run:run_code(i, s.code, false)
    self:flush()
  end
  if s.picture then run:show_picture(i, s) end
  self:flush()
  if s.exercise then self:exercise(s.exercise, run.env) end
end

--- attn.lesson.export(id, {lang=, dir="."}) -> path of the Markdown handout
-- Runs the lesson from start to end (its code runs, as in class) and writes
-- dir/NN-slug.<lang>.md with the text, the code and its output, one PNG per
-- picture beside it (NN-slug.<lang>-K.png), and the exercises with their
-- hints; the solutions come together at the end, so the page can be handed
-- out before the answers are.
function lesson.export(id, opts)
  opts = opts or {}
  if type(opts) ~= "table" then error("attn.lesson.export: options must be a table", 2) end
  local L = find(id)
  local lang = pick_lang(opts.lang)
  local h = setmetatable({lang = lang, words = WORDS[lang], dir = opts.dir or ".", md = {},
                          out = {}, figures = 0, solutions = {},
                          base = ("%s.%s"):format(L.stem, lang)}, Handout)
  attn._io.mkdir(h.dir)
  -- the lesson's code runs in an environment of its own, so exporting from
  -- the REPL leaves the session's variables alone
  local run = new_run(L, {lang = lang, auto = true,
                          env = opts.env or setmetatable({}, {__index = _G}),
                          write = function(s) h.out[#h.out + 1] = s end,
                          picture = function(_, w, popts) h:figure(w, popts) end})
  h:add("# " .. lesson_heading(L, lang) .. "\n")
  for i, s in ipairs(L.steps) do h:step(run, i, s) end
  if #h.solutions > 0 then
    h:add("## " .. h.words.solutions .. "\n")
    h:add(table.concat(h.solutions, "\n") .. "\n")
  end
  local path = h.dir .. "/" .. h.base .. ".md"
  save_atomic(path, table.concat(h.md, "\n"))
  return path
end

return lesson
