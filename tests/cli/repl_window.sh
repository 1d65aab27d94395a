# repl_window.sh: the REPL stays responsive with a window open: the window
# is pumped from the prompt's idle loop, not from a loop of its own
# (SDL's dummy video driver, so no display is needed).
. "$(dirname "$0")/tap.sh"

plan 1
TERM=xterm
SDL_VIDEODRIVER=dummy
export TERM SDL_VIDEODRIVER
echo 'set enable-bracketed-paste off' >"$INPUTRC"

if [ ! -x "$PTYRUN" ]; then
    skip "REPL with a window open" "no $PTYRUN"
    finish
fi

cat >"$T/window.pty" <<'STEPS'
expect attn>
send h = attn.viz.heatmap(attn.eye(3), {window = true, title = "w"})\r
expect attn>
send h.kind\r
expect window
expect attn>
sleep 300
send print(40 + 2)\r
expect 42
expect attn>
send \x04
exit 0
STEPS
"$PTYRUN" "$T/window.pty" -- "$BIN" 2>"$T/window.err"
rc=$?
[ $rc -eq 0 ] || cat "$T/window.err" | sed 's/^/# /'
ok $rc "a window is open and the prompt still answers (40 + 2 -> 42), Ctrl-D still quits"
finish
