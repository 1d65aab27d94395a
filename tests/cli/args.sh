# args.sh: attnlab's command line: scripts and their arguments, -e, -i,
# --version, --help, exit statuses, errors on stderr, piped standard input,
# Ctrl-C in a script, and the checks before lessons and --look.
. "$(dirname "$0")/tap.sh"

plan 33

# run CMD...: run with stdin from /dev/null; sets rc, output in $T/out, $T/err.
run() {
    "$@" </dev/null >"$T/out" 2>"$T/err"
    rc=$?
}
# has FILE TEXT: FILE contains the fixed string TEXT.
has() { grep -qF -- "$2" "$1"; }
# same FILE TEXT: FILE holds exactly the lines of TEXT.
same() { printf '%s\n' "$2" | cmp -s - "$1"; }

cd "$T" || exit 99
cat >args.lua <<'EOF'
print(arg[0], arg[1], arg[2], #arg, select("#", ...), ...)
EOF

run "$BIN" args.lua a "b c"
same "$T/out" "$(printf 'args.lua\ta\tb c\t2\t2\ta\tb c')"
ok $? "script sees arg[0], arg[1..] and ... as in lua"

run "$BIN" -- args.lua -e x
same "$T/out" "$(printf 'args.lua\t-e\tx\t2\t2\t-e\tx')"
ok $? "-- ends the options; options after the script are its arguments"

run "$BIN" -e 'print(arg[-3] ~= nil, arg[-2], arg[0])' args.lua
same "$T/out" "$(printf 'true\t-e\targs.lua\nargs.lua\tnil\tnil\t0\t0')"
ok $? "the interpreter and options sit at negative indices of arg"

run "$BIN" -e 'x = 20' -e 'print(x + 1)' -e'print(x * 2)'
same "$T/out" "$(printf '21\n40')" && [ $rc -eq 0 ]
ok $? "-e CODE runs in order, repeatable, also as one word"

run "$BIN" -e 'print(type(attn), type(attn.zeros), attn.config.safe, attn.config.headless)'
same "$T/out" "$(printf 'table\tfunction\tfalse\tfalse')"
ok $? "attn is a global with attn.config"

run "$BIN" --headless --device=cpu -e 'print(attn.config.headless, attn.config.device)'
same "$T/out" "$(printf 'true\tcpu')"
ok $? "--headless and --device=cpu reach attn.config"

run "$BIN" --version
head -n 1 "$T/out" | grep -q '^attnlab [0-9][0-9.]*$' && [ $rc -eq 0 ]
ok $? "--version prints 'attnlab VERSION'"

run "$BIN" --help
has "$T/out" "Usage: attnlab" && has "$T/out" "--lesson" && [ $rc -eq 0 ] && [ ! -s "$T/err" ]
ok $? "--help prints the usage on stdout, status 0"

run "$BIN" -h
has "$T/out" "Usage: attnlab" && [ $rc -eq 0 ]
ok $? "-h is --help"

cat >bad.lua <<'EOF'
local function inner() error("boom in inner") end
local function outer() inner() end
print("before")
outer()
print("after")
EOF
run "$BIN" bad.lua
[ $rc -eq 1 ] && same "$T/out" "before" && has "$T/err" "attnlab: bad.lua:1: boom in inner" &&
    has "$T/err" "stack traceback:" && has "$T/err" "in upvalue 'inner'" &&
    ! has "$T/err" "[C]: in ?"
ok $? "a script error: status 1, message and traceback on stderr" || diag "$T/err"

printf 'x = = 1\n' >syntax.lua
run "$BIN" syntax.lua
[ $rc -eq 1 ] && has "$T/err" "syntax.lua:1:"
ok $? "a syntax error in the script: status 1"

run "$BIN" -e 'error(setmetatable({}, {__tostring = function() return "custom error" end}))'
[ $rc -eq 1 ] && has "$T/err" "attnlab: custom error"
ok $? "an error object with __tostring prints through it"

run "$BIN" -e 'error({code = 1})'
[ $rc -eq 1 ] && has "$T/err" "(error object is a table value)"
ok $? "an error object without __tostring is named by its type"

run "$BIN" -e 'os.exit(3)'
[ $rc -eq 3 ]
ok $? "os.exit(3) exits with 3"

run "$BIN" --no-such-option
[ $rc -eq 2 ] && has "$T/err" "unknown option '--no-such-option'" && has "$T/err" "attnlab --help"
ok $? "an unknown option: status 2 and a hint to --help"

run "$BIN" -x
[ $rc -eq 2 ] && has "$T/err" "unknown option '-x'"
ok $? "an unknown short option: status 2"

run "$BIN" no-such-file.lua
[ $rc -eq 2 ] && has "$T/err" "cannot open no-such-file.lua"
ok $? "a script that does not exist: status 2"

run "$BIN" "$T"
[ $rc -eq 2 ] && has "$T/err" "is a folder"
ok $? "a folder as the script: status 2"

run "$BIN" -e
[ $rc -eq 2 ] && has "$T/err" "missing value after '-e'"
ok $? "-e without code: status 2"

run "$BIN" --lang fr --lesson 1
[ $rc -eq 2 ] && has "$T/err" "--lang takes zh or en"
ok $? "--lang with a wrong value: status 2"

run "$BIN" --auto
[ $rc -eq 2 ] && has "$T/err" "go with --lesson"
ok $? "--auto without --lesson: status 2"

run "$BIN" --device tpu
[ $rc -eq 2 ] && has "$T/err" "--device takes cpu or cuda"
ok $? "--device with a wrong value: status 2"

run "$BIN" --list-lessons args.lua
[ $rc -eq 2 ]
ok $? "an action and a script together: status 2"

printf 'print("from stdin", ...)\nprint(1 + 1)\n' >in.lua
"$BIN" <in.lua >"$T/out" 2>"$T/err"
rc=$?
same "$T/out" "$(printf 'from stdin\n2')" && [ $rc -eq 0 ] && ! has "$T/out" "attn>"
ok $? "piped standard input runs as a script, no prompt"

printf 'print("partial")\nerror("stdin fails")\n' | "$BIN" >"$T/out" 2>"$T/err"
rc=$?
[ $rc -eq 1 ] && same "$T/out" "partial" && has "$T/err" "stdin:2: stdin fails"
ok $? "an error in piped standard input: status 1"

"$BIN" - p q <in.lua >"$T/out" 2>"$T/err"
same "$T/out" "$(printf 'from stdin\tp\tq\n2')"
ok $? "script '-' is standard input, with arguments"

echo 'print(y * 2, select("#", ...))' | "$BIN" -e 'y = 21' -i >"$T/out" 2>"$T/err"
same "$T/out" "$(printf '42\t0')"
ok $? "-i with piped input runs it after -e, with no arguments"

echo 'print("not read")' | "$BIN" -e 'print("only e")' >"$T/out" 2>"$T/err"
same "$T/out" "only e"
ok $? "-e without -i does not read standard input"

# Ctrl-C in a script (no terminal): SIGINT stops a Lua loop with "interrupted".
"$BIN" -e 'io.write("looping\n") io.flush() while true do end' >"$T/out" 2>"$T/err" &
pid=$!
i=0
while [ $i -lt 100 ] && ! has "$T/out" looping; do sleep 0.1; i=$((i + 1)); done
kill -INT $pid
wait $pid
rc=$?
[ $rc -eq 1 ] && same "$T/err" "attnlab: interrupted"
ok $? "SIGINT stops a running script: 'interrupted', status 1" || diag "$T/err"

run env ATTNLAB_PATH="$T/nowhere" "$BIN" -e 'print(1)'
[ $rc -eq 1 ] && has "$T/err" "lua/attn/init.lua"
ok $? "missing Lua files: a clear message, status 1"

# The actions call Lua functions that later parts of attn provide; until
# then attnlab must say what is missing.
if "$BIN" -e 'os.exit(attn.lesson and attn.lesson.run and 0 or 1)' 2>/dev/null; then
    skip "--lesson without lessons" "attn.lesson exists"
else
    run "$BIN" --lesson 1 --auto
    [ $rc -eq 1 ] && has "$T/err" "lessons are not available in this build yet" &&
        has "$T/err" "attn.lesson.run is missing"
    ok $? "--lesson without attn.lesson: a clear message, status 1"
fi

if "$BIN" -e 'os.exit(attn.look and 0 or 1)' 2>/dev/null; then
    skip "--look without attn.look" "attn.look exists"
else
    run "$BIN" --look "hello" --png x.png
    [ $rc -eq 1 ] && has "$T/err" "attn.look is missing"
    ok $? "--look without attn.look: a clear message, status 1"
fi

if "$BIN" -e 'os.exit(attn.set_default_device and 0 or 1)' 2>/dev/null; then
    skip "--device cuda without device support" "attn.set_default_device exists"
else
    run "$BIN" --device cuda -e 'print(1)'
    [ $rc -eq 1 ] && has "$T/err" "only the cpu device"
    ok $? "--device cuda without device support: status 1"
fi

finish
