# lesson.sh: lessons from the command line: --list-lessons, --lesson ID
# with --auto, --lang and the locale, ids by number and name, an unknown id,
# and a lesson taken by hand: keys from a pipe and from a terminal, q
# leaving the learner in the REPL with the lesson's variables, Ctrl-C while
# waiting for a key doing the same.
. "$(dirname "$0")/tap.sh"

plan 18

# run CMD...: stdin from /dev/null; sets rc, output in $T/out, $T/err.
run() {
    "$@" </dev/null >"$T/out" 2>"$T/err"
    rc=$?
}
# has FILE TEXT: FILE contains the fixed string TEXT.
has() { grep -qF -- "$2" "$1"; }

run "$BIN" --list-lessons
[ $rc -eq 0 ] && has "$T/out" " 1  dot-product" && has "$T/out" " 5  masks" &&
    has "$T/out" "Multi-head attention (20 min)"
ok $? "--list-lessons lists the lessons with number, id, title and minutes"

run "$BIN" --headless --lesson 1 --auto
[ $rc -eq 0 ] && has "$T/out" "Lesson 1: Dot-product attention, by hand" &&
    has "$T/out" "Step 8/8" && has "$T/out" "End of the lesson" && [ ! -s "$T/err" ]
ok $? "--lesson 1 --auto runs every step and ends with status 0"

run "$BIN" --headless --lesson 1 --auto --lang zh
[ $rc -eq 0 ] && has "$T/out" "第 1 课：手算点积注意力" && has "$T/out" "本课结束"
ok $? "--lang zh gives the Chinese lesson"

env -u LC_ALL -u LC_MESSAGES LANG=zh_CN.UTF-8 "$BIN" --headless --lesson 2 --auto \
    </dev/null >"$T/out" 2>"$T/err"
[ $? -eq 0 ] && has "$T/out" "第 2 课"
ok $? "a zh locale (LANG) makes Chinese the default"

LC_ALL=en_US.UTF-8 LANG=zh_CN.UTF-8 "$BIN" --headless --lesson 2 --auto \
    </dev/null >"$T/out" 2>"$T/err"
[ $? -eq 0 ] && has "$T/out" "Lesson 2:"
ok $? "LC_ALL comes before LANG"

# Lessons 1-5 from the command line in both languages: status 0, every
# step, no step reporting an error (the runner marks those with "  ! ").
bad=""
for n in 1 2 3 4 5; do
    for l in en zh; do
        run "$BIN" --headless --lesson $n --auto --lang $l
        steps=$(grep -c '^── ' "$T/out")
        want=$("$BIN" -e "io.write(#attn.lesson.load($n).steps)" </dev/null)
        if [ $rc -ne 0 ] || grep -q '^  ! ' "$T/out" || [ "$steps" != "$want" ]; then
            bad="$bad $n/$l"
            diag "$T/out" "$T/err"
        fi
    done
done
[ -z "$bad" ]
ok $? "lessons 1-5 run --auto --headless in English and Chinese without errors$bad"

run "$BIN" --headless --lesson masks --auto
[ $rc -eq 0 ] && has "$T/out" "Lesson 5: Masks and directions"
ok $? "a lesson is also found by its name"

run "$BIN" --headless --lesson 99 --auto
[ $rc -eq 1 ] && has "$T/err" "no lesson '99'" && has "$T/err" "1 dot-product"
ok $? "an unknown lesson: status 1 and the lessons there are"

# --safe (shared classroom scripts) reads the lessons folder like any
# folder: lessons run by file name and by number, and list.
run "$BIN" --safe --headless --lesson 01-dot-product --auto
[ $rc -eq 0 ] && has "$T/out" "End of the lesson"
ok $? "--safe: a lesson named by its file name runs"
run "$BIN" --safe --headless --lesson 1 --auto
[ $rc -eq 0 ] && has "$T/out" "End of the lesson"
ok $? "--safe: a lesson named by its number runs"

# By hand, keys from a pipe: Enter; an empty answer to step 2's exercise;
# b back to step 1; Enter; an empty answer again; Enter; q in step 3. Then
# the rest of standard input runs as a script with the lesson's variables.
printf '\n\nb\n\n\n\nq\nprint("after:", tokens[2], y:get(4, 3))\n' |
    "$BIN" --headless --lesson 1 >"$T/out" 2>"$T/err"
rc=$?
[ $rc -eq 0 ] && has "$T/out" "Step 3/8" && ! has "$T/out" "Step 4/8" &&
    has "$T/out" "You left the lesson" && has "$T/out" "after:	天气	2"
ok $? "keys from a pipe; after q the lesson's variables are still there"
[ "$(grep -c 'Step 2/8' "$T/out")" -eq 2 ]
ok $? "b goes back a step and Enter comes forward again"

printf 'print("should not run")\n' | "$BIN" --headless --lesson 1 --auto >"$T/out" 2>&1
[ $? -eq 0 ] && ! has "$T/out" "should not run"
ok $? "--auto does not go on to the REPL"

# An exercise answered through the pipe: lesson 1 step 2 asks for y of
# 不太好 with another column of W; a wrong answer shows the hint, then the
# right one.
printf '\n{0, 1, 2}\n{1, 1, 1}\nq\n' | "$BIN" --headless --lesson 1 >"$T/out" 2>"$T/err"
has "$T/out" "Not quite." && has "$T/out" "W x_4 is column 4 of W" && has "$T/out" "Right!"
ok $? "an exercise from a pipe: wrong (hint), then right"

if [ ! -x "$PTYRUN" ]; then
    for i in 1 2 3 4; do skip "lesson on a terminal $i" "no $PTYRUN"; done
    finish
fi
TERM=xterm
export TERM
echo 'set enable-bracketed-paste off' >"$INPUTRC"

# On a terminal: Enter, then q; the REPL follows with the variables.
cat >"$T/keys.pty" <<'EOF'
expect next
send \r
expect Step 2/8
expect answer>
send \r
expect next
send q\r
expect You left the lesson
expect attn>
send tokens[3]\r
expect 怎么样
expect attn>
send \x04
exit 0
EOF
"$PTYRUN" "$T/keys.pty" -- "$BIN" --headless --lesson 1 2>"$T/pty.err"
rc=$?
[ $rc -eq 0 ] || diag "$T/pty.err"
ok $rc "on a terminal: keys, q, then the REPL with the lesson's variables"

# Ctrl-C while waiting for a key leaves the lesson for the REPL too.
cat >"$T/ctrlc.pty" <<'EOF'
expect next
sleep 100
send \x03
expect You left the lesson
expect attn>
send tokens[1]\r
expect 今天
expect attn>
send \x04
exit 0
EOF
"$PTYRUN" "$T/ctrlc.pty" -- "$BIN" --headless --lesson 1 2>"$T/pty.err"
rc=$?
[ $rc -eq 0 ] || diag "$T/pty.err"
ok $rc "on a terminal: Ctrl-C at the key prompt leaves the lesson for the REPL"

# An exercise on a terminal: the empty line shows the solution.
cat >"$T/ex.pty" <<'EOF'
expect next
send \r
expect answer>
send \r
expect Solution: {1, 1, 1}
expect next
send q\r
expect attn>
send \x04
exit 0
EOF
"$PTYRUN" "$T/ex.pty" -- "$BIN" --headless --lesson 1 2>"$T/pty.err"
rc=$?
[ $rc -eq 0 ] || diag "$T/pty.err"
ok $rc "on a terminal: an empty answer shows the solution"

# From inside the REPL: attn.lesson.run reads keys the same way; Ctrl-C
# leaves the lesson, the report and the variables are there, and a second
# lesson still reads keys.
cat >"$T/repl.pty" <<'EOF'
expect attn>
send r = attn.lesson.run(1, {lang = "en"})\r
expect next
send \r
expect answer>
send {1, 1, 1}\r
expect Right!
expect next
sleep 100
send \x03
expect You left the lesson
expect attn>
send r.correct, r.quit, tokens[2]\r
expect 1\ttrue\t天气
expect attn>
send attn.lesson.run(3)\r
expect next
send q\r
expect You left the lesson
expect attn>
send \x04
exit 0
EOF
"$PTYRUN" "$T/repl.pty" -- "$BIN" --headless 2>"$T/pty.err"
rc=$?
[ $rc -eq 0 ] || diag "$T/pty.err"
ok $rc "inside the REPL: keys, Ctrl-C leaves the lesson, a second lesson reads keys"

finish
