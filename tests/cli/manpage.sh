# manpage.sh: doc/attnlab.1 and `attnlab --help` name the same options, the
# man page carries the program's version, and it lists the REPL commands.
. "$(dirname "$0")/tap.sh"

plan 4

srcdir=$(cd "$(dirname "$0")/../.." && pwd)
man=$srcdir/doc/attnlab.1

# Options of --help: the option column of the lines that start with "  -".
"$BIN" --help | sed -n 's/^  \(-[^ ].*\)/\1/p' | sed 's/   *.*//' |
    grep -o -- '--*[a-z][a-z-]*' | sort -u >"$T/help.opts"
# Options of the man page: the line after each .TP in section OPTIONS.
awk '/^\.SH /{on = ($2 == "OPTIONS")} on && prev == ".TP" {gsub(/\\-/, "-"); print} {prev = $0}' \
    "$man" | grep -o -- '--*[a-z][a-z-]*' | sort -u >"$T/man.opts"

[ -s "$T/help.opts" ] && cmp -s "$T/help.opts" "$T/man.opts"
ok $? "--help and the man page list the same options" ||
    { diff "$T/help.opts" "$T/man.opts" | sed 's/^/# /'; }

version=$("$BIN" --version | head -n 1)
grep -q "^\.TH ATTNLAB 1 .*\"$version\"" "$man"
ok $? "the man page is for $version"

"$BIN" --help | grep -q '\.time' && grep -q '^\.BR \.time' "$man" && grep -q '^\.B \.help' "$man" &&
    grep -q '^\.B \.quit' "$man"
ok $? "the man page documents the REPL commands"

if command -v groff >/dev/null 2>&1; then
    groff -man -Tutf8 -ww -z "$man" 2>"$T/groff.err" && [ ! -s "$T/groff.err" ]
    ok $? "groff reads the man page without warnings" || diag "$T/groff.err"
else
    skip "groff reads the man page without warnings" "no groff"
fi

finish
