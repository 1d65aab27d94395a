# look.sh: attnlab --look in headless mode on a Hugging Face folder written
# here (tests/lua/look_fixture.lua) and on the shipped model when it exists:
# the terminal picture and summary, --layer/--head, --level, --generate,
# --png and --csv files, and the usage errors of the --look options.
. "$(dirname "$0")/tap.sh"

plan 16

run() {
    "$@" </dev/null >"$T/out" 2>"$T/err"
    rc=$?
}
has() { grep -qF -- "$2" "$1"; }

srcdir=$(cd "$(dirname "$0")/../.." && pwd)
cd "$T" || exit 99
"$BIN" -e "dofile('$srcdir/tests/lua/look_fixture.lua').write_gpt(attn, 'hf')" >/dev/null 2>&1
[ -f hf/model.safetensors ] && [ -f hf/vocab.json ]
ok $? "the test writes a Hugging Face GPT-2 folder" || diag "$T/err"

run "$BIN" --headless --look "hello world" --model hf
[ $rc -eq 0 ] && has "$T/out" "look: hf (gpt, 2 layers x 2 heads), 3 tokens" &&
    has "$T/out" "layer 2, average of 2 heads" && has "$T/out" "where each token looks most" &&
    has "$T/out" "next token after"
ok $? "--look headless: the map, the summary and the next tokens" || diag "$T/out" "$T/err"

run "$BIN" --headless --look "hello world" --model hf --layer 1 --head 2
[ $rc -eq 0 ] && has "$T/out" "layer 1, head 2"
ok $? "--layer and --head choose the map" || diag "$T/out" "$T/err"

run "$BIN" --headless --look "今天 hello world" --model hf --level word
[ $rc -eq 0 ] && has "$T/out" "9 tokens as 4 word units"
ok $? "--level word groups the pieces" || diag "$T/out" "$T/err"

run "$BIN" --headless --look "hello" --model hf --generate 3
[ $rc -eq 0 ] && has "$T/out" "prompt 1 tokens + 3 generated"
ok $? "--generate continues the prompt" || diag "$T/out" "$T/err"

run "$BIN" --headless --look "hello world" --model hf --png a.png --csv a.csv
[ $rc -eq 0 ] && [ -s a-layer1.png ] && [ -s a-layer2.png ] && [ -s a-layer2.csv ] &&
    head -c 4 a-layer1.png | grep -q PNG && head -n 1 a-layer2.csv | grep -qF ',hello, wor,ld'
ok $? "--png and --csv write one file per layer" || diag "$T/out" "$T/err"

run "$BIN" --look "hello world" --model hf --png b.png --layer 2
[ $rc -eq 0 ] && [ -s b.png ] && [ ! -e b-layer2.png ]
ok $? "--png with --layer writes the one map" || diag "$T/out" "$T/err"

# With a display (SDL's dummy driver stands in) the browser opens and the
# program waits for it to be closed: still running when timeout stops it.
DISPLAY=:99 SDL_VIDEODRIVER=dummy timeout 3 "$BIN" --look "hello world" --model hf \
    </dev/null >"$T/out" 2>"$T/err"
[ $? -eq 124 ] && ! has "$T/out" "where each token looks most"
ok $? "with a display: the browser window, kept open until closed" || diag "$T/out" "$T/err"

run "$BIN" --headless --look "hello" --model nowhere
[ $rc -eq 1 ] && has "$T/err" "cannot load model 'nowhere'"
ok $? "a missing model: status 1 and a message" || diag "$T/err"

run "$BIN" --safe --headless --look "hello" --model hf --csv ../out.csv
[ $rc -eq 1 ] && has "$T/err" "viz.export: cannot write ../out-layer1.csv" &&
    has "$T/err" "outside the working folder" && [ ! -e ../out-layer1.csv ]
ok $? "--safe: --csv outside the working folder is refused" || diag "$T/err"

run "$BIN" --look "hello" --layer two
[ $rc -eq 2 ] && has "$T/err" "--layer takes a positive whole number, not 'two'"
ok $? "--layer must be a number" || diag "$T/err"

run "$BIN" --look "hello" --generate 0
[ $rc -eq 2 ] && has "$T/err" "--generate takes a positive whole number"
ok $? "--generate must be positive" || diag "$T/err"

run "$BIN" --look "hello" --level sentence
[ $rc -eq 2 ] && has "$T/err" "--level takes token, char or word, not 'sentence'"
ok $? "--level takes token, char or word" || diag "$T/err"

run "$BIN" --head 1
[ $rc -eq 2 ] && has "$T/err" "go with --look"
ok $? "--head without --look is bad usage" || diag "$T/err"

run "$BIN" --headless --look "hello world" --model hf --layer 5
[ $rc -eq 1 ] && has "$T/err" "layer is 5, expected 1..2"
ok $? "a layer outside the model: status 1 and the range" || diag "$T/err"

if [ -f "$srcdir/data/models/mini/config.json" ]; then
    run "$BIN" --headless --look "今天天气怎么样？不太好。" --level char
    [ $rc -eq 0 ] && has "$T/out" "look: mini" && has "$T/out" "天"
    ok $? "--look on the shipped model" || diag "$T/out" "$T/err"
else
    skip "--look on the shipped model" "no shipped model"
fi

finish
