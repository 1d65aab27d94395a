-- lesson_runner.lua: the lesson runner (lua/attn/lesson.lua) on lessons
-- written here for the purpose, in a lessons folder of their own: keys
-- (Enter, b, r, q), exercises right / wrong (hint) / empty (solution) /
-- unreadable, auto runs with scripted answers, a step whose code fails,
-- export to Markdown + PNG, ids by number and by name, bad lesson files
-- and unknown ids. Input comes from a scripted reader and output goes to a
-- buffer, so nothing the runner prints reaches the TAP stream.

local T = dofile((os.getenv("ATTNLAB_PATH") or ".") .. "/tests/lua/tap.lua")
local attn = attn or require "attn"

local base = (os.getenv("ATTNLAB_TESTDIR") or ".") .. "/lesson_runner.tmp"
local root = base .. "/root"
attn._io.mkdir(base)
attn._io.mkdir(root)
attn._io.mkdir(root .. "/lessons")

local function write_file(path, text)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
end

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

-- The lesson the tests drive. Step 1 counts how often its code runs (to
-- see b and r re-run it); step 2's code fails halfway; steps 3 to 5 hold
-- one exercise of each kind, whose answers come from the environment.
write_file(root .. "/lessons/01-fixture.lua", [==[
return {
  id = "fixture",
  title = {en = "Fixture", zh = "测试课"},
  minutes = 3,
  steps = {
    { text = {en = "first step text", zh = "第一步正文"},
      code = [[runs = (runs or 0) + 1
m = attn.tensor{{1, 2}, {3, 4}}
print("step one ran", runs)]] },
    { text = {en = "second step text", zh = "第二步正文"},
      code = [[before_error = true
error("planted failure")
after_error = true]] },
    { text = {en = "third step text", zh = "第三步正文"},
      code = [[w = m:softmax(2)]],
      picture = function(env)
        return env.w, {rows = {"a", "b"}, cols = {"c", "d"}, title = {en = "pic", zh = "图题"}}
      end,
      exercise = { ask = {en = "the sum of m", zh = "m 的和"}, kind = "number",
                   answer = function(env) return env.m:sum():item() end,
                   hint = {en = "add the four numbers", zh = "把四个数加起来"} } },
    { text = {en = "fourth step text", zh = "第四步正文"},
      exercise = { ask = {en = "m transposed", zh = "m 的转置"}, kind = "tensor",
                   answer = function(env) return env.m:T() end, tol = 1e-6,
                   hint = {en = "rows become columns", zh = "行变成列"} } },
    { text = {en = "fifth step text", zh = "第五步正文"},
      exercise = { ask = {en = "which is larger", zh = "哪个大"}, kind = "choice",
                   choices = {en = {"m[1][1]", "m[2][2]"}, zh = {"m[1][1]", "m[2][2]"}},
                   answer = function(env) return env.m[2][2] > env.m[1][1] and 2 or 1 end,
                   hint = {en = "4 > 1", zh = "4 > 1"} } },
  },
}
]==])

-- A second, short lesson, so that ids pick the right one.
write_file(root .. "/lessons/02-other.lua", [==[
return { id = "other", title = {en = "Other", zh = "另一课"}, minutes = 1,
         steps = { { text = {en = "other text", zh = "另一课正文"}, code = "other_ran = true" } } }
]==])

local saved_root = attn.config.root
attn.config.root = root

-- run(id, opts, lines): the lesson with a fresh environment, input from
-- `lines`, output collected; returns the report, the output and the env.
local function run(id, opts, lines)
  local out, k = {}, 0
  local env = setmetatable({}, {__index = _G})
  opts = opts or {}
  opts.env = opts.env or env
  opts.write = function(s) out[#out + 1] = s end
  opts.read = function(prompt)
    out[#out + 1] = prompt
    k = k + 1
    return lines and lines[k]
  end
  local report = attn.lesson.run(id, opts)
  return report, table.concat(out), opts.env, k
end

local function has(text, s) return text:find(s, 1, true) ~= nil end
local function count(text, s)
  local n, i = 0, 1
  while true do
    local a, b = text:find(s, i, true)
    if not a then return n end
    n, i = n + 1, b + 1
  end
end

T.section("auto run with scripted answers", function()
  local real_print = print
  local r, out, env = run("fixture", {auto = true, lang = "en",
                                      answers = {10, {{1, 3}, {2, 4}}, 2}})
  T.is(r.steps, 5, "auto: all five steps ran")
  T.is(r.exercises, 3, "auto: three exercises asked")
  T.is(r.correct, 3, "auto: the three scripted answers are right")
  T.is(#r.errors, 1, "auto: one error recorded (the planted one)")
  T.is(r.errors[1] and r.errors[1].step, 2, "the error belongs to step 2")
  T.ok(r.errors[1] and has(r.errors[1].message, "planted failure"),
       "the error report carries the message")
  T.ok(env.before_error == true and env.after_error == nil,
       "step 2 ran up to its error and no further")
  T.ok(has(out, "planted failure") and has(out, "the lesson goes on"),
       "the error is shown and the lesson says it goes on")
  T.ok(has(out, "fifth step text"), "steps after the failing one ran")
  T.ok(has(out, "step one ran\t1"), "print inside step code goes through the writer")
  T.is(print, real_print, "print is the global print again afterwards")
  T.is(env.runs, 1, "auto: step 1 ran once")
  T.ok(attn.is_tensor(env.w) and T.close(env.w:get(1, 2), 1 / (1 + math.exp(-1)), 1e-6),
       "variables made by the steps stay in the environment, with their values")
  T.ok(has(out, "pic"), "the picture went to the writer (terminal blocks)")
  T.ok(has(out, "first step text") and not has(out, "第一步正文"), "lang en shows English")
  T.ok(has(out, "m = attn.tensor{{1, 2}, {3, 4}}") and has(out, "┌─ code"),
       "the code is shown in a frame")
end)

T.section("auto: wrong then right, strings, missing answers", function()
  local r, out = run("fixture", {auto = true, lang = "en",
                                 answers = {{attempts = {9, 10}}, "{{1,3},{2,4}}"}})
  T.is(r.correct, 2, "an attempts list ending right counts as correct")
  T.is(r.answers[1].attempts, 2, "two attempts recorded for the first exercise")
  T.ok(has(out, "Not quite.") and has(out, "add the four numbers"),
       "the wrong attempt shows the hint")
  T.ok(has(out, "Solution: 2) m[2][2]"), "an exercise without an answer prints its solution")
  T.is(r.exercises, 3, "the unanswered exercise still counts as asked")
  local r2 = run("fixture", {auto = true, answers = {{attempts = {1, 2}}, {{1, 2}, {3, 4}}, 1}})
  T.is(r2.correct, 0, "all-wrong answers: none correct")
  T.is(r2.answers[1].correct, false, "and each is marked not correct")
  T.raises(function() attn.lesson.run("fixture", {auto = true, answers = 5}) end,
           {"answers", "list"}, "answers that are not a list")
end)

T.section("keys: Enter, b, r, q", function()
  -- step 1, Enter; step 2 (error), b back to 1; step 1 again, r re-runs it;
  -- step 1 a third time, Enter; step 2, Enter; step 3: the exercise gets
  -- an empty line (solution), then q leaves.
  local r, out, env = run("fixture", {lang = "en"}, {"", "b", "r", "", "", "", "q"})
  T.is(env.runs, 3, "b back and r re-run run step 1's code again")
  T.ok(r.quit, "q leaves: report.quit")
  T.is(r.steps, 3, "three distinct steps were shown")
  T.ok(not has(out, "fourth step text"), "nothing after q runs")
  T.ok(has(out, "Solution: 10"), "an empty answer line shows the solution")
  T.ok(has(out, "[Enter] next"), "the key prompt names the keys")
  T.ok(has(out, "You left the lesson"), "leaving says the variables stay")
  local _, out2 = run("fixture", {lang = "en"}, {"b", "x", "q"})
  T.ok(has(out2, "(this is the first step)"), "b on the first step says so")
  T.ok(has(out2, "Keys: Enter (next)"), "an unknown key explains the keys")
  local r3 = run("fixture", {lang = "en"}, {})
  T.ok(r3.quit and r3.steps == 1, "end of input leaves the lesson")
end)

T.section("typed answers: wrong (hint), unreadable, expressions, right", function()
  local lines = {"", "",                                       -- steps 1 and 2
                 "11", "{oops", "m:sum():item()",              -- wrong, unreadable, right
                 "",                                           -- Enter to step 4
                 "{{1,2},{3,4}}", "{1,2,3}", "{{1,3},{2,4}}",  -- wrong, wrong shape, right
                 "",                                           -- Enter to step 5
                 "3", "2"}                                     -- no such choice, right
  local r, out = run("fixture", {lang = "en"}, lines)
  T.is(r.correct, 3, "all three exercises end right")
  T.is(r.answers[1].attempts, 3, "three tries on the number")
  T.is(r.answers[2].attempts, 3, "three tries on the tensor")
  T.is(r.answers[3].attempts, 2, "two tries on the choice")
  T.is(count(out, "Not quite."), 4, "each wrong answer says so")
  T.ok(has(out, "add the four numbers") and has(out, "rows become columns") and
       has(out, "4 > 1"), "each exercise's hint is shown after a wrong answer")
  T.ok(has(out, "That is not an answer I can read"), "an unreadable answer is explained")
  T.ok(has(out, "Right!"), "a right answer says so")
  T.ok(not r.quit, "the lesson ran to its end")
  T.ok(has(out, "End of the lesson"), "the end is announced")
end)

T.section("re-running an exercise; answers typed with a Chinese input method", function()
  -- steps 1-2; at step 3 a right answer, then r re-runs it: a wrong one and
  -- a right one; Enter; step 4's tensor in full-width forms; q
  local lines = {"", "", "10", "r", "3", "10", "", "｛｛１，３｝，｛２，４｝｝", "q"}
  local r, out = run("fixture", {lang = "zh"}, lines)
  T.is(r.exercises, 2, "an exercise asked twice (r) counts once")
  T.is(r.correct, 2, "and so does its right answer")
  T.is(#r.answers, 3, "every asking is in the answers list")
  T.is({r.answers[2].attempts, r.answers[2].correct}, {2, true}, "the second asking: two tries")
  T.is(r.answers[3].correct, true, "full-width braces, digits and commas are read as ASCII")
  T.ok(has(out, "你的答案> ") and has(out, "答对了"), "the Chinese prompt and reply")
end)

T.section("Chinese", function()
  local _, out = run("fixture", {auto = true, lang = "zh", answers = {{attempts = {1, 10}}}})
  T.ok(has(out, "第一步正文") and not has(out, "first step text"), "lang zh shows Chinese")
  T.ok(has(out, "第 1 课：测试课") and has(out, "练习") and has(out, "提示：把四个数加起来"),
       "the runner's own words are Chinese too")
  T.ok(has(out, "图题") and not has(out, "pic"), "a picture's title {en=, zh=} is shown in Chinese")
  T.raises(function() attn.lesson.run("fixture", {lang = "fr"}) end, {"lang", "\"en\" or \"zh\""},
           "an unknown language")
end)

T.section("ids, list, unknown lessons", function()
  for _, id in ipairs({2, "2", "02", "other", "02-other"}) do
    local r, _, env = run(id, {auto = true})
    T.ok(r.steps == 1 and env.other_ran, "lesson found by id " .. T.fmt(id))
  end
  local msg = T.raises(function() attn.lesson.run(7) end, {"no lesson '7'", "1 fixture", "2 other"},
                       "an unknown number names the lessons there are")
  T.raises(function() attn.lesson.run("nope") end, "no lesson 'nope'", "an unknown name")
  T.raises(function() attn.lesson.run({}) end, "its number or its id", "an id of the wrong type")
  T.ok(msg and not msg:find("stack traceback"), "the message is one clean line")
  local list = attn.lesson.list()
  T.is(#list, 2, "list: both lessons")
  T.is({list[1].number, list[1].id, list[1].minutes}, {1, "fixture", 3}, "list entry 1")
  T.is(list[2].titles, {en = "Other", zh = "另一课"}, "list carries both titles")
  T.ok(tostring(list):find("fixture", 1, true) ~= nil, "the list prints as a table of lessons")
end)

T.section("bad lesson files", function()
  write_file(root .. "/lessons/03-bad.lua", [[return { id = "bad", title = {en = "Bad"},
    minutes = 1, steps = { { text = {en = "x", zh = "x"} } } }]])
  T.raises(function() attn.lesson.run(3) end, {"03-bad.lua", "title", "zh"},
           "a lesson without a Chinese title: file and field named")
  write_file(root .. "/lessons/03-bad.lua", [[return { id = "bad", title = {en = "B", zh = "B"},
    minutes = 1, steps = { { text = {en = "x", zh = "x"},
    exercise = {ask = {en = "?", zh = "?"}, kind = "essay",
                answer = function() return 1 end} } } }]])
  T.raises(function() attn.lesson.run(3) end, {"03-bad.lua step 1", "kind", "essay"},
           "an unknown exercise kind: step named")
  write_file(root .. "/lessons/03-bad.lua", "return {")
  T.raises(function() attn.lesson.run(3) end, {"cannot load 03-bad.lua"}, "a syntax error")
  os.remove(root .. "/lessons/03-bad.lua")
end)

T.section("export", function()
  local dir = base .. "/handout"
  runs = nil
  local path = attn.lesson.export("fixture", {lang = "en", dir = dir})
  T.is(rawget(_G, "runs"), nil, "export leaves the caller's globals alone")
  T.is(path, dir .. "/01-fixture.en.md", "export returns the Markdown path")
  local md = read_file(path) or ""
  T.ok(has(md, "# Lesson 1: Fixture"), "the handout has the lesson heading")
  T.ok(has(md, "```lua\nruns = (runs or 0) + 1"), "code goes in lua code blocks")
  T.ok(has(md, "step one ran\t1"), "the code's output is in the handout")
  T.ok(has(md, "planted failure"), "a failing step's error is in the handout")
  T.ok(has(md, "![Figure 1](01-fixture.en-1.png)"), "the figure is referenced")
  T.ok(has(md, "*Hint:* add the four numbers"), "hints are in the handout")
  T.ok(has(md, "## Solutions") and has(md, "1. 10") and has(md, "2. {{1, 3}, {2, 4}}") and
       has(md, "3. 2) m[2][2]"), "solutions come at the end, each computed")
  local png = read_file(dir .. "/01-fixture.en-1.png") or ""
  T.is(png:sub(1, 8), "\137PNG\r\n\26\n", "the figure is a PNG file")
  T.ok(has(md, "## Step 5"), "the export went through every step")
  T.ok(read_file(path .. ".tmp") == nil, "no temporary file is left")
  local zh = attn.lesson.export(2, {lang = "zh", dir = dir})
  T.ok(has(read_file(zh) or "", "第 2 课：另一课"), "a Chinese handout")
  T.raises(function() attn.lesson.export("fixture", {lang = "xx", dir = dir}) end,
           "lang must be", "export: an unknown language")
  os.remove(path)
  os.remove(zh)
  os.remove(dir .. "/01-fixture.en-1.png")
  os.remove(dir)
end)

attn.config.root = saved_root
os.remove(root .. "/lessons/01-fixture.lua")
os.remove(root .. "/lessons/02-other.lua")
os.remove(root .. "/lessons")
os.remove(root)
os.remove(base)
T.done_testing()
