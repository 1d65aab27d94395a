# tap.sh: what the command-line tests share (sourced by tests/cli/*.sh).
#
# Sets BIN (the program), T (a fresh folder under the build tree, removed
# on exit) and PTYRUN; gives TAP helpers: plan N, ok STATUS DESCRIPTION,
# skip DESCRIPTION REASON, and finish (exit status 1 if any test failed).
# Outside `make check` it falls back to ./attnlab and the current folder.

BIN=${ATTNLAB_BIN:-$PWD/attnlab}
ATTNLAB_PATH=${ATTNLAB_PATH:-$PWD}
export ATTNLAB_PATH
tests_dir=${ATTNLAB_TESTDIR:-$PWD/tests}
PTYRUN=$tests_dir/cli/ptyrun
mkdir -p "$tests_dir/tmp"
T=$(mktemp -d "$tests_dir/tmp/cli.XXXXXX") || exit 99
trap 'rm -rf "$T"; rmdir "$tests_dir/tmp" 2>/dev/null' EXIT
# No user settings may leak into the tests: history, inputrc, locale.
HOME=$T
ATTNLAB_HISTORY=$T/history
INPUTRC=$T/inputrc
LC_ALL=C.UTF-8
export HOME ATTNLAB_HISTORY INPUTRC LC_ALL
: >"$INPUTRC"

tap_n=0
tap_failed=0

plan() { echo "1..$1"; }

# ok STATUS DESCRIPTION: a test passes when STATUS is 0.
ok() {
    tap_n=$((tap_n + 1))
    if [ "$1" -eq 0 ]; then
        echo "ok $tap_n - $2"
    else
        echo "not ok $tap_n - $2"
        tap_failed=1
    fi
}

skip() {
    tap_n=$((tap_n + 1))
    echo "ok $tap_n - $1 # SKIP $2"
}

# diag FILE...: show files in the log, as TAP comments.
diag() {
    for f in "$@"; do
        [ -f "$f" ] && sed "s/^/# $(basename "$f"): /" "$f"
    done
    return 0
}

finish() { exit "$tap_failed"; }
