-- lessons_6_10.lua: lessons 6 to 10 run start to end (--auto, headless) in
-- English and in Chinese, each exercise answered by a value this file
-- derives on its own (by hand, or by a plain-Lua loop), with one wrong first
-- try per lesson so the hint path runs too.
--
-- Each run is a child attnlab process, so the lessons' globals never meet
-- and their printing never mixes with this file's TAP lines. The child
-- prints one line "REPORT steps exercises correct errors" at the end.

local T = dofile((os.getenv("ATTNLAB_PATH") or ".") .. "/tests/lua/tap.lua")
local attn = attn or require "attn"

-- the children run in another folder: every path we hand them is absolute
local here = os.getenv("PWD") or "."
local root = os.getenv("ATTNLAB_PATH") or here
local bin = os.getenv("ATTNLAB_BIN") or here .. "/attnlab"
local testdir = os.getenv("ATTNLAB_TESTDIR") or here .. "/tests"
local tmp = testdir .. "/tmp/lessons_6_10"
attn._io.mkdir(testdir .. "/tmp")
attn._io.mkdir(tmp)

local function lit(v)
  if type(v) == "number" then return ("%.17g"):format(v) end
  if type(v) == "string" then return ("%q"):format(v) end
  local parts = {}
  for k, x in pairs(v) do
    parts[#parts + 1] = (type(k) == "string" and k .. " = " or "") .. lit(x)
  end
  return "{" .. table.concat(parts, ", ") .. "}"
end

-- The child: attn.lesson.run when the runner exists; until then a minimal
-- runner of the same contract (steps run in _G, answers checked with tol).
local CHILD = [==[
local id, file, lang, answers, globals = @ARGS@
for k, v in pairs(globals) do _G[k] = v end
local report
if attn.lesson and attn.lesson.run then
  report = attn.lesson.run(id, {lang = lang, auto = true, answers = answers})
else
  local L = dofile(file)
  report = {steps = 0, exercises = 0, correct = 0, errors = {}}
  local k = 0
  for i, s in ipairs(L.steps) do
    report.steps = report.steps + 1
    assert(s.text and s.text.en and s.text.zh, "step " .. i .. " lacks a text")
    print(s.text[lang])
    if s.code then
      local ok, err = pcall(assert(load(s.code, "=step" .. i, "t", _G)))
      if not ok then report.errors[#report.errors + 1] = err; print("ERROR " .. err) end
    end
    if s.picture then
      local ok, err = pcall(function()
        local w, o = s.picture(_G)
        attn.viz.term(w, o)
      end)
      if not ok then report.errors[#report.errors + 1] = err end
    end
    local e = s.exercise
    if e then
      k = k + 1
      report.exercises = report.exercises + 1
      local want = e.answer(_G)
      local given = answers[k]
      local tries = type(given) == "table" and given.attempts or {given}
      for _, a in ipairs(tries) do
        local good
        if e.kind == "choice" then good = a == want
        else good = math.abs(a - want) <= (e.tol or 1e-3) end
        print(("answer %s, expected %s: %s"):format(a, want, good and "right" or e.hint[lang]))
        if good then report.correct = report.correct + 1 break end
      end
    end
  end
end
print(("REPORT %d %d %d %d"):format(report.steps, report.exercises, report.correct,
                                    #(report.errors or {})))
for _, e in ipairs(report.errors or {}) do print("ERROR " .. tostring(e)) end
]==]

-- Run lesson file in lang with answers; returns the report numbers and the output.
local function run_lesson(id, file, lang, answers, globals)
  local script = tmp .. "/child.lua"
  local f = assert(io.open(script, "w"))
  local args = table.concat({lit(id), lit(file), lit(lang), lit(answers), lit(globals or {})}, ", ")
  local at = CHILD:find("@ARGS@", 1, true)
  f:write(CHILD:sub(1, at - 1), args, CHILD:sub(at + 6))
  f:close()
  local p = assert(io.popen(("cd %q && %q --headless %q 2>&1"):format(tmp, bin, script)))
  local out = p:read("a")
  p:close()
  local steps, ex, correct, errors = out:match("REPORT (%d+) (%d+) (%d+) (%d+)")
  return {steps = tonumber(steps), exercises = tonumber(ex), correct = tonumber(correct),
          errors = tonumber(errors)}, out
end

local function check_lesson(id, file, answers, globals)
  local name = "lesson " .. id
  for _, lang in ipairs({"en", "zh"}) do
    local r, out = run_lesson(id, root .. "/lessons/" .. file, lang, answers, globals)
    local good = r.steps and r.errors == 0 and r.exercises == #answers and r.correct == #answers
    T.ok(good, ("%s (%s): %s steps, %s of %s exercises right, %s errors"):format(
      name, lang, r.steps, r.correct, #answers, r.errors))
    if not good then T.diag(out:sub(-3000)) end
  end
end

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

-- ---- lesson 6: retrieval ---------------------------------------------------------------
T.section("lesson 6", function()
  -- cos of the character bags {注,意,力} and {注,意}: 2 shared / (sqrt 3 * sqrt 2)
  local cos = 2 / math.sqrt(6)
  -- softmax of (cos, 0, 0) / 0.1, first entry
  local alpha = math.exp(cos / 0.1) / (math.exp(cos / 0.1) + 2)
  -- Document 1 contains each content word of the query (AI助手, 注意力, 管理,
  -- 作用) exactly, so each match m_i is ~1 and r_1 ~ 1, the largest a
  -- relevance can be (r is a weighted mean of matches <= 1); and no other
  -- document contains 作用, which carries the top weight. Check the premise:
  local docs = read(root .. "/data/retrieval/docs.tsv")
  local doc1 = docs:match("\n1\t[^\n]*")
  for _, w in ipairs({"AI助手", "注意力", "管理", "作用"}) do
    T.ok(doc1:find(w, 1, true) ~= nil, "document 1 contains " .. w)
  end
  local others = 0
  for line in docs:gmatch("[^\n]+") do
    if not line:match("^1\t") and not line:match("^#") and line:find("作用", 1, true) then
      others = others + 1
    end
  end
  T.is(others, 0, "no other document contains 作用")
  check_lesson(6, "06-retrieval.lua",
               {{attempts = {0.5, cos}}, alpha, 1})
end)

-- ---- lesson 7: one attention, three tasks ------------------------------------------------
T.section("lesson 7", function()
  -- before training every score is 0: softmax of six equal numbers is 1/6;
  -- the joint loss is the weighted sum 1*0.4 + 0.5*0.9 + 0.2*1.2; trained on
  -- sentiment alone, the attention must sit on the sentiment words (choice 2)
  check_lesson(7, "07-multitask.lua", {1 / 6, {attempts = {1.5, 0.4 + 0.45 + 0.24}}, 2})
end)

-- ---- lesson 8: long sequences -----------------------------------------------------------
T.section("lesson 8", function()
  -- a float32 weight takes 4 bytes: 4096^2 of them; doubling T makes T^2
  -- four times larger; T/C blocks of C x C grow with T (choice 2, doubles)
  check_lesson(8, "08-long-sequences.lua", {4096 * 4096 * 4, {attempts = {2, 4}}, 2})
end)

T.done_testing()
