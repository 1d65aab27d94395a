-- lessons_1_5.lua: lessons 1 to 5 run start to end in auto mode, in English
-- and in Chinese, with every exercise answered by this test and the first
-- exercise of each lesson answered wrong once (to see its hint).
--
-- The answers are derived here, independently of the library's tensor ops:
-- a first silent run makes the lesson's inputs (the lessons seed their
-- random numbers, so every run sees the same ones), and plain Lua loops
-- over those inputs -- dot products, exp, sorting -- give the values the
-- exercises ask for. Then each language runs with those answers and must
-- finish with every step shown, every exercise right and no error.

local T = dofile((os.getenv("ATTNLAB_PATH") or ".") .. "/tests/lua/tap.lua")
local attn = attn or require "attn"

-- ---- plain-Lua linear algebra on nested tables ---------------------------------

local function tbl(t) return attn.is_tensor(t) and t:table() or t end

local function dot(a, b)
  local s = 0
  for i = 1, #a do s = s + a[i] * b[i] end
  return s
end

local function matmul(A, B)            -- A [n, k] times B [k, m]
  local C = {}
  for i = 1, #A do
    C[i] = {}
    for j = 1, #B[1] do
      local s = 0
      for k = 1, #B do s = s + A[i][k] * B[k][j] end
      C[i][j] = s
    end
  end
  return C
end

local function softmax(row)
  local m = -math.huge
  for _, x in ipairs(row) do m = math.max(m, x) end
  local e, sum = {}, 0
  for i, x in ipairs(row) do
    e[i] = math.exp(x - m)
    sum = sum + e[i]
  end
  for i = 1, #e do e[i] = e[i] / sum end
  return e
end

local function argmax(row)
  local best = 1
  for i = 2, #row do if row[i] > row[best] then best = i end end
  return best
end

local function norm(v) return math.sqrt(dot(v, v)) end

-- ---- running -------------------------------------------------------------------

local function fresh_env() return setmetatable({}, {__index = _G}) end

-- Run lesson n silently in a fresh environment; returns the environment,
-- the report and the text it wrote.
local function run(n, lang, answers)
  local out, env = {}, fresh_env()
  local report = attn.lesson.run(n, {lang = lang, auto = true, answers = answers, env = env,
                                     write = function(s) out[#out + 1] = s end})
  return env, report, table.concat(out)
end

local function has(text, s) return text:find(s, 1, true) ~= nil end

-- ---- the answers, lesson by lesson ------------------------------------------------

local derive = {}

-- Lesson 1: y_t = W x_t + b with one-hot x_t is column t of W plus b (for
-- the exercise, with column 4 replaced by {1, 0, 1}); scores y_i . y_j;
-- softmax of row 3; the cosine row of 今天.
derive[1] = function(env)
  local W, b = tbl(env.W), tbl(env.b)
  local y4_changed = {1 + b[1], 0 + b[2], 1 + b[3]}
  local y = {}
  for t = 1, 4 do
    y[t] = {}
    for f = 1, #W do y[t][f] = W[f][t] + b[f] end
  end
  local scores3, cos1 = {}, {}
  for j = 1, 4 do
    scores3[j] = dot(y[3], y[j])
    cos1[j] = dot(y[1], y[j]) / (norm(y[1]) * norm(y[j]))
  end
  return {y4_changed, softmax(scores3), argmax(cos1)},
         {{0, 0, 0}, {0.25, 0.25, 0.25, 0.25}}      -- a wrong first try: zeros / uniform
end

-- Lesson 2: S[1][2] from Q = X W_Q, K = X W_K; √256; which of A X / X A is
-- the weighted sum of rows; the double-softmax ceiling e / (e + n - 1).
derive[2] = function(env)
  local X = tbl(env.X)
  local Q, K = matmul(X, tbl(env.W_Q)), matmul(X, tbl(env.W_K))
  local s12 = dot(Q[1], K[2]) / math.sqrt(#Q[1])
  local A4, X4 = tbl(env.A4), tbl(env.X4)
  local by_hand = {}
  for f = 1, #X4[1] do
    by_hand[f] = 0
    for j = 1, #X4 do by_hand[f] = by_hand[f] + A4[1][j] * X4[j][f] end
  end
  local AX, XA = matmul(A4, X4)[1], matmul(X4, A4)[1]
  local function same(a, b)
    for i = 1, #a do if math.abs(a[i] - b[i]) > 1e-4 then return false end end
    return true
  end
  local which = same(AX, by_hand) and (same(XA, by_hand) and 3 or 2) or 1
  local e = math.exp(1)
  return {s12, math.sqrt(256), which, e / (e + #K - 1)}, {s12 + 1}
end

-- Lesson 3: softmax(s / 2)[1]; the support of sparsemax with key 3's score
-- at 0.9 (sort, then the largest k with 1 + k z_k > sum of the top k);
-- argmax before and after the nudge from 0.80 to 0.95.
derive[3] = function(env)
  local s = env.s
  local half = {}
  for i, x in ipairs(s) do half[i] = x / 2 end
  local sorted = {table.unpack(s)}
  sorted[3] = 0.9
  table.sort(sorted, function(a, b) return a > b end)
  local support, cum = 0, 0
  for k, z in ipairs(sorted) do
    cum = cum + z
    if 1 + k * z > cum then support = k end
  end
  local nudged = {table.unpack(s)}
  nudged[2] = 0.95
  local moved = argmax(s) ~= argmax(nudged)
  return {softmax(half)[1], support, moved and 3 or 1}, {0.2}
end

-- Lesson 4: four 8 x 8 linear layers with biases; row 5 of each planted
-- head computed from X by loops (head 1: positions turned back one step,
-- head 2: content; both scaled by beta / sqrt(2)); 768 / 12.
derive[4] = function(env)
  local X, beta, step = tbl(env.X), env.beta, env.step
  local c, s = math.cos(step), math.sin(step)
  local q1 = {X[5][3] * c + X[5][4] * s, -X[5][3] * s + X[5][4] * c}
  local q2 = {X[5][1], X[5][2]}
  local row1, row2 = {}, {}
  for j = 1, #X do
    row1[j] = beta * dot(q1, {X[j][3], X[j][4]}) / math.sqrt(2)
    row2[j] = beta * dot(q2, {X[j][1], X[j][2]}) / math.sqrt(2)
  end
  local w1, w2 = softmax(row1)[2], softmax(row2)[2]
  local d8 = 8
  return {4 * (d8 * d8 + d8), w2 > w1 and 2 or 1, 768 // 12}, {4 * d8 * d8}
end

-- Lesson 5: equal scores under the causal mask; which causal outputs stay
-- when the last word changes (outputs by loops); weight on the pads
-- without a mask; today's partner in the planted cross-attention.
derive[5] = function(env)
  local X, X2, d = tbl(env.X), tbl(env.X2), env.d
  local function causal_out(M, i)
    local sc = {}
    for j = 1, i do sc[j] = dot(M[i], M[j]) / math.sqrt(d) end
    local w = softmax(sc)
    local out = {}
    for f = 1, d do
      out[f] = 0
      for j = 1, i do out[f] = out[f] + w[j] * M[j][f] end
    end
    return out
  end
  local same = 0
  for i = 1, #X do
    local a, b = causal_out(X, i), causal_out(X2, i)
    local diff = 0
    for f = 1, d do diff = math.max(diff, math.abs(a[f] - b[f])) end
    if diff < 1e-5 then same = same + 1 end
  end
  local choice = same == #X and 3 or (same == #X - 1 and 1 or 2)
  local short = tbl(env.short)
  local sc = {dot(short[1], short[1]) / math.sqrt(d), dot(short[1], short[2]) / math.sqrt(d),
              0, 0, 0}
  local w = softmax(sc)
  local meaning = env.meaning
  local today = {}
  for j, word in ipairs(env.source) do today[j] = meaning[word] == meaning.today and 1 or 0 end
  return {1 / 3, choice, w[3] + w[4] + w[5], argmax(today)}, {0.5}
end

-- ---- the runs ----------------------------------------------------------------------

local HINT_WORD = {en = "Not quite.", zh = "还不对。"}

for n = 1, 5 do
  T.section("lesson " .. n, function()
    local L = attn.lesson.load(n)
    T.ok(L.minutes >= 10 and L.minutes <= 25, ("lesson %d: %d minutes, within 10-25"):format(
         n, L.minutes))
    local nex = 0
    for _, s in ipairs(L.steps) do if s.exercise then nex = nex + 1 end end
    T.ok(nex >= 1, ("lesson %d has exercises (%d)"):format(n, nex))
    local env1, r1 = run(n, "en", {})
    T.is(#r1.errors, 0, ("lesson %d: a run without answers has no error"):format(n))
    local right, wrong = derive[n](env1)
    T.is(#right, nex, ("lesson %d: one derived answer per exercise"):format(n))
    local answers = {}
    for i, v in ipairs(right) do answers[i] = v end
    answers[1] = {attempts = {wrong[1], right[1]}}
    for _, lang in ipairs({"en", "zh"}) do
      local _, r, out = run(n, lang, answers)
      local tag = ("lesson %d %s: "):format(n, lang)
      T.is(r.steps, #L.steps, tag .. "every step shown")
      T.is(r.errors, {}, tag .. "no step raised an error")
      T.is({r.exercises, r.correct}, {nex, nex}, tag .. "every exercise answered right")
      T.is(r.answers[1] and r.answers[1].attempts, 2, tag .. "the first after one wrong try")
      local hint = L.steps[(function()
        for i, s in ipairs(L.steps) do if s.exercise then return i end end
      end)()].exercise.hint
      T.ok(has(out, HINT_WORD[lang]) and hint and
           has(out, (hint[lang]:match("^%s*([^\n]+)"))), tag .. "the wrong try shows the hint")
      T.ok(has(out, L.title[lang]), tag .. "the title is in the chosen language")
      -- the text of every step is shown in that language only
      local other = lang == "en" and "zh" or "en"
      local first_line = L.steps[1].text[other]:match("^%s*([^\n]+)")
      T.ok(not has(out, first_line), tag .. "no text of the other language")
    end
  end)
end

-- The handouts: one Markdown file per lesson and language, a heading per
-- step, every figure it names written beside it as a PNG, and a solution
-- per exercise.
T.section("handouts", function()
  local dir = (os.getenv("ATTNLAB_TESTDIR") or ".") .. "/lessons_1_5.handouts"
  local function read(path)
    local f = io.open(path, "rb")
    if not f then return nil end
    local text = f:read("a")
    f:close()
    return text
  end
  for n = 1, 5 do
    local L = attn.lesson.load(n)
    local nex = 0
    for _, s in ipairs(L.steps) do if s.exercise then nex = nex + 1 end end
    for _, lang in ipairs({"en", "zh"}) do
      local tag = ("handout %d %s: "):format(n, lang)
      local path = attn.lesson.export(n, {lang = lang, dir = dir, env = fresh_env()})
      local md = read(path) or ""
      local steps, pngs, bad_png = 0, 0, 0
      for _ in md:gmatch("\n## [^\n]*%d") do steps = steps + 1 end
      for png in md:gmatch("%((%d%d%-[%w%-]+%.%a%a%-%d+%.png)%)") do
        pngs = pngs + 1
        if (read(dir .. "/" .. png) or ""):sub(1, 8) ~= "\137PNG\r\n\26\n" then
          bad_png = bad_png + 1
        end
        os.remove(dir .. "/" .. png)
      end
      local solutions = md:match(".*\n## [^\n]*\n\n(.*)$") or ""   -- after the last heading
      local nsol = 0
      for _ in solutions:gmatch("%f[^\n%z]%d+%. ") do nsol = nsol + 1 end
      T.is(steps, #L.steps, tag .. "a section per step")
      T.ok(pngs >= 1 and bad_png == 0, tag .. pngs .. " figures, each a PNG file")
      T.is(nsol, nex, tag .. "a solution per exercise")
      T.ok(not md:find("\n    ! ", 1, true) and not md:find("raised an error", 1, true) and
           not md:find("出错", 1, true), tag .. "no step failed")
      os.remove(path)
    end
  end
  os.remove(dir)
end)

T.done_testing()
