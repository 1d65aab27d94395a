# repl.sh: the REPL on a pseudo-terminal (driven by tests/cli/ptyrun):
# printing, multi-line input, errors, completion, Ctrl-C while Lua or C
# code runs and at the prompt, Ctrl-D, history across sessions, .time.
. "$(dirname "$0")/tap.sh"

plan 16

TERM=xterm
export TERM
# Fewer escape sequences to wade through in the logs.
echo 'set enable-bracketed-paste off' >"$INPUTRC"

if [ ! -x "$PTYRUN" ]; then
    for i in $(seq 16); do skip "REPL test $i" "no $PTYRUN"; done
    finish
fi

# pty NAME: run the steps read from stdin as $T/NAME.pty against the REPL.
pty() {
    cat >"$T/$1.pty"
    "$PTYRUN" "$T/$1.pty" -- "$BIN" 2>"$T/$1.err"
    rc=$?
    [ $rc -eq 0 ] || diag "$T/$1.err"
    return $rc
}

# The steps wait for the prompt before typing, as a person does: keys typed
# while a command runs go through the terminal's line discipline instead
# (a Ctrl-D there is lost, a Ctrl-C discards them).

pty print <<'EOF'
expect attn>
send 1 + 1\r
expect 2\n
expect attn>
send x = attn.ones(2, 2)\r
expect attn>
send x\r
expect 1  1\n1  1\n[tensor 2x2 cpu]
expect attn>
send = "text", 3\r
expect text\t3
expect attn>
send {1, 2, name = "x", sub = {true}, [10] = 'y'}\r
expect {1, 2, [10] = "y", name = "x", sub = {true}}
expect attn>
send t = {} t.self = t\r
expect attn>
send t\r
expect {self = <cycle>}
expect attn>
send print\r
expect function: builtin
expect attn>
send \x04
exit 0
EOF
ok $? "expressions print their values: numbers, tensors, tables, cycles, functions"

pty multiline <<'EOF'
expect attn>
send function sq(n)\r
expect  ...>
send   local r = n * n\r
expect  ...>
send   return r\r
expect  ...>
send end\r
expect attn>
send sq(12)\r
expect 144
expect attn>
send for i = 1, 3 do\r
expect  ...>
send   io.write(i, ";")\r
expect  ...>
send end print()\r
expect 1;2;3;
expect attn>
send {10,\r
expect  ...>
send 20}\r
expect {10, 20}
expect attn>
send \x04
exit 0
EOF
ok $? "multi-line input continues at the ' ...>' prompt"

pty errors <<'EOF'
expect attn>
send keep = "kept"\r
expect attn>
send local function f() error("deep failure") end f()\r
expect stdin:1: deep failure
expect stack traceback:
expect in main chunk
expect attn>
absent [C]: in ?
send nil + 1\r
expect attempt to perform arithmetic
expect attn>
send x = = 2\r
expect unexpected symbol
expect attn>
send error({})\r
expect (error object is a table value)
expect attn>
send keep\r
expect kept
expect attn>
send \x04
exit 0
EOF
ok $? "errors print message and traceback, the session goes on"

pty complete_global <<'EOF'
expect attn>
send pri\t
expect print(
send "completed")\r
expect completed
expect attn>
send \x04
exit 0
EOF
ok $? "Tab completes a global function and adds ("

pty complete_field <<'EOF'
expect attn>
send attn.ze\t
expect attn.zeros
send 2, 3)\r
expect [tensor 2x3 cpu]
expect attn>
send \x04
exit 0
EOF
ok $? "Tab completes a table field: attn.ze -> attn.zeros"

pty complete_method <<'EOF'
expect attn>
send x = attn.ones(2, 2)\r
expect attn>
send x:soft\t
expect x:softmax(
send 2)\r
expect 0.5000
expect attn>
send \x04
exit 0
EOF
ok $? "Tab completes a tensor method through its metatable: x:soft -> x:softmax"

pty complete_nested <<'EOF'
expect attn>
send base = {deep_method = function() return "deep!" end}\r
expect attn>
send obj = setmetatable({}, {__index = setmetatable({}, {__index = base})})\r
expect attn>
send obj:deep\t
expect obj:deep_method(
send )\r
expect deep!
expect attn>
send cfg = {inner = {value = 7, valid = true}}\r
expect attn>
send cfg.inner.val\t\t
expect valid
expect value
expect attn> cfg.inner.val
send ue\r
expect 7
expect attn>
send trap = setmetatable({}, {__index = function() print("RAN CODE") end})\r
expect attn>
send trap.x\t\t
sleep 200
send \x03
expect attn>
send "after"\r
expect after
absent RAN CODE
expect attn>
send .ti\t
expect .time
send \r
expect timing is on
expect attn>
send \x04
exit 0
EOF
ok $? "Tab follows dotted paths and __index chains, never runs __index functions"

pty interrupt_lua <<'EOF'
expect attn>
send before = 42\r
expect attn>
send print("looping") while true do end\r
expect looping
sleep 300
send \x03
expect interrupted
expect attn>
absent stack traceback
send before\r
expect 42
expect attn>
send \x04
exit 0
EOF
ok $? "Ctrl-C stops a Lua loop: 'interrupted', state kept"

pty interrupt_c <<'EOF'
expect attn>
send kept = "yes"\r
expect attn>
send print("working") for i = 1, 1000 do c = attn.randn(800, 800):matmul(attn.randn(800, 800)) end\r
expect working
sleep 500
send \x03
expect interrupted
expect attn>
send kept\r
expect yes
expect attn>
send \x04
exit 0
EOF
ok $? "Ctrl-C stops long tensor work"

pty interrupt_prompt <<'EOF'
expect attn>
send this_line_is_dropped
expect this_line_is_dropped
send \x03
expect attn>
send 1 + 2\r
expect 3
absent this_line_is_dropped
expect attn>
send function unfinished(\r
expect  ...>
send \x03
expect attn>
send "fresh"\r
expect fresh
expect attn>
send n = 0 for i = 1, 3000000 do n = n + 1 end print("done", n)\r
expect done\t3000000
expect attn>
absent interrupted
send \x04
exit 0
EOF
ok $? "Ctrl-C at the prompt clears the line and unfinished input, no stale interrupt"

pty ctrl_d <<'EOF'
expect attn>
send \x04
exit 0
EOF
ok $? "Ctrl-D exits with status 0"

pty quit <<'EOF'
expect attn>
send .quit\r
exit 0
EOF
ok $? ".quit exits with status 0"

pty history1 <<'EOF'
expect attn>
send remembered = 1234\r
expect attn>
send remembered = 1234\r
expect attn>
send function hist_fn()\r
expect  ...>
send   return "from history"\r
expect  ...>
send end\r
expect attn>
send \x04
exit 0
EOF
h1=$?
[ "$(grep -c '^remembered = 1234$' "$ATTNLAB_HISTORY")" = 1 ]
dup=$?
pty history2 <<'EOF'
expect attn>
send \e[A
expect end
send \r
expect attn>
send hist_fn()\r
expect from history
expect attn>
send \e[A\e[A\e[A
expect remembered = 1234
send \r
expect attn>
send remembered\r
expect 1234
expect attn>
send \x04
exit 0
EOF
[ $? -eq 0 ] && [ $h1 -eq 0 ]
ok $? "history is kept across sessions; a multi-line chunk is one entry"

[ $dup -eq 0 ]
ok $? "a repeated line is stored once"

[ "$(stat -c %a "$ATTNLAB_HISTORY")" = 600 ]
ok $? "the history file is private (0600)"

pty timing <<'EOF'
expect attn>
send .time\r
expect timing is on
expect attn>
send 1\r
expect time:
expect attn>
send .time off\r
expect timing is off
expect attn>
send 2\r
expect 2
expect attn>
absent time:
send .nope\r
expect unknown REPL command
expect attn>
send .help\r
expect .time [on|off]
expect attn>
send \x04
exit 0
EOF
ok $? ".time shows the wall time of each command; .help; unknown commands"

finish
