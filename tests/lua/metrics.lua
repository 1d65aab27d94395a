-- metrics.lua: accuracy, the confusion matrix and classification_report on
-- hand-made cases whose numbers are worked out below, and the report's text
-- laid out as scikit-learn lays it out.

local T = dofile((os.getenv("ATTNLAB_PATH") or ".") .. "/tests/lua/tap.lua")
local attn = attn or require "attn"
local M = attn.metrics

-- Three classes, ten examples:
--   gold = cat cat cat cat dog dog dog bird bird bird
--   pred = cat cat dog bird dog dog cat bird bird dog
-- confusion (rows gold, columns pred):   cat dog bird
--                                  cat    2   1   1     support 4
--                                  dog    1   2   0     support 3
--                                  bird   0   1   2     support 3
--   predicted as:                         3   4   3
-- cat:  P = 2/3, R = 2/4 = 1/2, F1 = 2 (1/3) / (7/6) = 4/7
-- dog:  P = 2/4 = 1/2, R = 2/3, F1 = 4/7
-- bird: P = 2/3, R = 2/3, F1 = 2/3
-- accuracy = (2 + 2 + 2) / 10 = 0.6
-- macro:    P = (2/3 + 1/2 + 2/3) / 3 = 11/18, R = 11/18, F1 = (4/7 + 4/7 + 2/3) / 3 = 38/63
-- weighted: P = (4 (2/3) + 3 (1/2) + 3 (2/3)) / 10 = 37/60,
--           R = (4 (1/2) + 3 (2/3) + 3 (2/3)) / 10 = 0.6,
--           F1 = (4 (4/7) + 3 (4/7) + 3 (2/3)) / 10 = 0.6
local gold = {1, 1, 1, 1, 2, 2, 2, 3, 3, 3}
local pred = {1, 1, 2, 3, 2, 2, 1, 3, 3, 2}
local labels = {"cat", "dog", "bird"}

T.section("accuracy and the confusion matrix", function()
  T.near(M.accuracy(pred, gold), 0.6, 1e-12, "accuracy of lists")
  T.near(M.accuracy(attn.tensor(pred), attn.tensor(gold)), 0.6, 1e-12, "accuracy of tensors")
  -- scores [N, C]: the argmax of each row is the prediction (2, 1, 2)
  local scores = attn.tensor({{0.1, 0.9}, {2, -1}, {0, 0.5}})
  T.near(M.accuracy(scores, {2, 2, 2}), 2 / 3, 1e-12, "accuracy of scores (argmax per row)")
  local m = M.confusion_matrix(pred, gold, {labels = labels})
  T.is({m[1], m[2], m[3]}, {{2, 1, 1}, {1, 2, 0}, {0, 1, 2}}, "m[gold][pred] counts")
  T.is(tostring(m), table.concat({
    "gold\\pred        cat        dog       bird",
    "      cat          2          1          1",
    "      dog          1          2          0",
    "     bird          0          1          2"}, "\n"), "the matrix printed with its labels")
  T.tensor_near(attn.tensor(m), {{2, 1, 1}, {1, 2, 0}, {0, 1, 2}}, 0,
                "attn.tensor(m) makes a tensor of it")
  local m2 = M.confusion_matrix({1, 3}, {1, 1})
  T.is(#m2, 3, "without labels: as many classes as the largest seen")
end)

T.section("classification_report by hand", function()
  local r = M.classification_report(pred, gold, {labels = labels})
  local want = {
    {"cat", 2 / 3, 1 / 2, 4 / 7, 4},
    {"dog", 1 / 2, 2 / 3, 4 / 7, 3},
    {"bird", 2 / 3, 2 / 3, 2 / 3, 3},
  }
  for c, w in ipairs(want) do
    local got = r.classes[c]
    T.is(got.label, w[1], "class " .. c .. " label")
    T.near(got.precision, w[2], 1e-12, w[1] .. " precision")
    T.near(got.recall, w[3], 1e-12, w[1] .. " recall")
    T.near(got.f1, w[4], 1e-12, w[1] .. " f1")
    T.is(got.support, w[5], w[1] .. " support")
  end
  T.near(r.accuracy, 0.6, 1e-12, "accuracy")
  T.near(r.macro.precision, 11 / 18, 1e-12, "macro precision")
  T.near(r.macro.recall, 11 / 18, 1e-12, "macro recall")
  T.near(r.macro.f1, 38 / 63, 1e-12, "macro f1")
  T.near(r.weighted.precision, 37 / 60, 1e-12, "weighted precision")
  T.near(r.weighted.recall, 0.6, 1e-12, "weighted recall")
  T.near(r.weighted.f1, 0.6, 1e-12, "weighted f1")
  T.is({r.support, r.macro.support, r.weighted.support}, {10, 10, 10}, "total support")
  T.is(r.confusion[1], {2, 1, 1}, "the report carries the confusion matrix")

  -- scikit-learn's layout: names right-aligned to the width of "weighted
  -- avg", then columns of 9; rates rounded to 2 places
  T.is(tostring(r), table.concat({
    "              precision    recall  f1-score   support",
    "",
    "         cat       0.67      0.50      0.57         4",
    "         dog       0.50      0.67      0.57         3",
    "        bird       0.67      0.67      0.67         3",
    "",
    "    accuracy                           0.60        10",
    "   macro avg       0.61      0.61      0.60        10",
    "weighted avg       0.62      0.60      0.60        10"}, "\n"), "printed as scikit-learn does")

  local r4 = M.classification_report(pred, gold, {labels = labels, digits = 4})
  T.ok(tostring(r4):find("         cat     0.6667    0.5000    0.5714         4", 1, true),
       "digits=4", tostring(r4))
end)

T.section("empty classes, tensors, wide labels", function()
  -- gold = a a b, pred = a a a, labels a b c:
  -- a: P = 2/3, R = 1, F1 = 0.8;  b: nothing predicted as b: P = 0, R = 0, F1 = 0;
  -- c: no support and no predictions: all 0.
  -- macro P = (2/3) / 3 = 2/9, R = 1/3, F1 = 0.8 / 3;
  -- weighted (supports 2, 1, 0): P = 2 (2/3) / 3 = 4/9, R = 2/3, F1 = 1.6 / 3
  local r = M.classification_report({1, 1, 1}, {1, 1, 2}, {labels = {"a", "b", "c"}})
  T.is({r.classes[2].precision, r.classes[2].recall, r.classes[2].f1}, {0, 0, 0},
       "a class never predicted scores 0 (not nan)")
  T.is({r.classes[3].precision, r.classes[3].recall, r.classes[3].support}, {0, 0, 0},
       "a label with no examples is listed with support 0")
  T.near(r.classes[1].f1, 0.8, 1e-12, "f1 of a")
  T.near(r.macro.precision, 2 / 9, 1e-12, "macro precision counts the empty classes")
  T.near(r.macro.f1, 0.8 / 3, 1e-12, "macro f1")
  T.near(r.weighted.precision, 4 / 9, 1e-12, "weighted precision")
  T.near(r.weighted.f1, 1.6 / 3, 1e-12, "weighted f1")

  -- tensors: scores for pred (argmax), floats for gold; no labels: 1, 2
  local scores = attn.tensor({{3, 1}, {0, 2}, {5, 4}, {1, 9}})   -- pred 1 2 1 2
  r = M.classification_report(scores, attn.tensor({1, 2, 2, 2}))
  T.is({r.classes[1].label, r.classes[2].label}, {"1", "2"}, "without labels: 1, 2")
  T.near(r.classes[2].recall, 2 / 3, 1e-12, "tensor inputs")

  -- Chinese labels take two columns per character: still aligned
  r = M.classification_report({1, 2}, {1, 2}, {labels = {"负面", "正面"}})
  local lines = {}
  for line in (tostring(r) .. "\n"):gmatch("([^\n]*)\n") do lines[#lines + 1] = line end
  T.is(lines[3], "        负面       1.00      1.00      1.00         1",
       "a wide label is padded by its display width")
end)

T.section("errors name the function", function()
  T.raises(function() M.accuracy({1, 2}, {1}) end, "accuracy: pred has 2 entries but gold has 1",
           "different lengths")
  T.raises(function() M.accuracy({1, 0}, {1, 1}) end, "accuracy: pred[2] is 0, expected a class",
           "class 0")
  T.raises(function() M.accuracy({1, 1.5}, {1, 1}) end, "accuracy: pred[2] is 1.5", "class 1.5")
  T.raises(function() M.accuracy({}, {}) end, "accuracy: pred and gold are empty", "empty")
  T.raises(function() M.confusion_matrix("ab", {1}) end,
           "confusion_matrix: pred must be a list or a tensor", "a string")
  T.raises(function() M.classification_report({1, 3}, {1, 1}, {labels = {"a", "b"}}) end,
           "classification_report: pred[2] is class 3, but there are 2 labels", "class > labels")
  T.raises(function() M.classification_report({1}, {1}, {digits = -1}) end,
           "classification_report: digits must be", "digits -1")
  T.raises(function() M.classification_report({1}, {1}, {label = {"a"}}) end,
           "classification_report: unknown option 'label'", "a misspelt option")
  T.raises(function() M.accuracy(attn.zeros(2, 2, 2), {1, 1}) end,
           "accuracy: pred must be a 1-D tensor of classes or 2-D scores", "a 3-d tensor")
end)

T.done_testing()
