# cuda_device.sh: --device cuda. With a GPU new tensors go there and nothing
# is said; without one (no GPU, no driver, a build without CUDA) there is one
# line on stderr saying why, and the run goes on on the cpu.
. "$(dirname "$0")/tap.sh"

plan 3

run() {
    "$@" </dev/null >"$T/out" 2>"$T/err"
    rc=$?
}

if "$BIN" -e 'os.exit(attn.cuda.available() and 0 or 1)' 2>/dev/null; then
    run "$BIN" --device cuda -e 'print(attn.default_device(), attn.ones(2):device())'
    [ $rc -eq 0 ] && [ "$(cat "$T/out")" = "$(printf 'cuda\tcuda')" ]
    ok $? "--device cuda with a GPU: new tensors are on cuda"
    [ ! -s "$T/err" ]
    ok $? "and nothing is said on stderr"
    run "$BIN" --device cuda -e 'print((attn.ones(3) * 2):sum():item())'
    [ $rc -eq 0 ] && [ "$(cat "$T/out")" = "6.0" ]
    ok $? "and sums come back from the GPU"
else
    run "$BIN" --device cuda -e 'print(attn.default_device(), attn.config.device, attn.ones(2):sum():item())'
    [ $rc -eq 0 ] && [ "$(cat "$T/out")" = "$(printf 'cpu\tcpu\t2.0')" ]
    ok $? "--device cuda without a GPU: the script runs on the cpu"
    [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q -- "--device cuda: cuda: .*; running on the cpu" "$T/err"
    ok $? "after one line on stderr that says why"
    run "$BIN" --device cuda -e 'error("boom")'
    [ $rc -eq 1 ] && grep -q "boom" "$T/err"
    ok $? "and a failing script still fails"
fi
finish
