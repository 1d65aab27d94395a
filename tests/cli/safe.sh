# safe.sh: the --safe sandbox refuses programs, C code, binary chunks and
# writes outside the working folder, and still allows writes inside it.
. "$(dirname "$0")/tap.sh"

plan 22

mkdir "$T/work" "$T/outside" || exit 99
cd "$T/work" || exit 99

# safe CODE: run CODE under --safe; sets rc, output in $T/out, $T/err.
safe() {
    "$BIN" --safe -e "$1" </dev/null >"$T/out" 2>"$T/err"
    rc=$?
}
has() { grep -qF -- "$2" "$1"; }

safe 'os.execute("touch executed")'
[ $rc -eq 1 ] && has "$T/err" "os.execute: not allowed in --safe mode" && [ ! -e executed ]
ok $? "os.execute is refused"

safe 'io.popen("touch popened")'
[ $rc -eq 1 ] && has "$T/err" "io.popen: not allowed in --safe mode" && [ ! -e popened ]
ok $? "io.popen is refused"

safe 'package.loadlib("libc.so.6", "puts")'
[ $rc -eq 1 ] && has "$T/err" "package.loadlib: not allowed"
ok $? "package.loadlib is refused"

safe 'print(package.cpath == "", #package.searchers)'
[ "$(cat "$T/out")" = "$(printf 'true\t2')" ]
ok $? "no C searchers and an empty package.cpath"

safe 'os.tmpname()'
[ $rc -eq 1 ] && has "$T/err" "os.tmpname: not allowed"
ok $? "os.tmpname is refused (it creates a file in /tmp)"

safe 'local f = assert(io.open("../outside/x", "w")) f:write("no") f:close()'
[ $rc -eq 1 ] && has "$T/err" "io.open: '../outside/x' is outside the working folder" &&
    [ ! -e ../outside/x ]
ok $? "writing ../outside/x is refused"

safe 'io.open("sub/../../outside/y", "a")'
[ $rc -eq 1 ] && [ ! -e ../outside/y ]
ok $? "a path that climbs out through .. is refused"

safe "io.open('$T/outside/z', 'w+')"
[ $rc -eq 1 ] && [ ! -e ../outside/z ]
ok $? "an absolute path outside is refused"

ln -s ../outside/target link
safe 'io.open("link", "w")'
[ $rc -eq 1 ] && [ ! -e ../outside/target ] && has "$T/err" "link"
ok $? "a dangling symbolic link pointing outside is refused"

: >../outside/existing
ln -s ../outside/existing link2
safe 'io.open("link2", "r+")'
[ $rc -eq 1 ]
ok $? "a symbolic link to a file outside is refused for update"

ln -s ../outside linkdir
safe 'io.open("linkdir/new", "w")'
[ $rc -eq 1 ] && [ ! -e ../outside/new ]
ok $? "a folder link pointing outside is refused"

safe 'local f = assert(io.open("x", "w")) f:write("inside") f:close()
      local g = assert(io.open("./y", "a")) g:write("too") g:close()
      print(io.open("x"):read("a"))'
[ $rc -eq 0 ] && [ "$(cat x)" = inside ] && [ "$(cat y)" = too ] && has "$T/out" inside
ok $? "writing ./x and ./y inside the working folder works"

echo outside-text >../outside/readme
safe 'print(io.open("../outside/readme"):read("l"))'
[ $rc -eq 0 ] && has "$T/out" outside-text
ok $? "reading outside the working folder is allowed"

safe 'io.output("../outside/out")'
[ $rc -eq 1 ] && has "$T/err" "io.output:" && [ ! -e ../outside/out ]
ok $? "io.output to a file outside is refused"

: >../outside/victim
safe 'os.remove("../outside/victim")'
[ $rc -eq 1 ] && [ -e ../outside/victim ]
ok $? "os.remove outside is refused"

: >mine
safe 'assert(os.rename("mine", "mine2")) os.rename("mine2", "../outside/stolen")'
[ $rc -eq 1 ] && [ -e mine2 ] && [ ! -e ../outside/stolen ]
ok $? "os.rename inside works, out of the folder is refused"

safe 'local f, e = load(string.dump(function() return 1 end))
      print(f, e)'
[ $rc -eq 0 ] && has "$T/out" "attempt to load a binary chunk"
ok $? "load refuses a binary chunk"

# A binary chunk, made without --safe.
"$BIN" -e 'local f = io.open("bin.luac", "wb")
           f:write(string.dump(function() print("ran") end)) f:close()' </dev/null
safe 'dofile("bin.luac")'
[ $rc -eq 1 ] && has "$T/err" "binary chunk" && ! has "$T/out" ran
ok $? "dofile refuses a binary chunk"

safe 'print(loadfile("bin.luac", "b"))'
has "$T/out" "binary chunk" && ! has "$T/out" ran
ok $? "loadfile refuses a binary chunk even when asked for mode b"

"$BIN" --safe bin.luac </dev/null >"$T/out" 2>"$T/err"
rc=$?
[ $rc -eq 1 ] && ! has "$T/out" ran
ok $? "a binary chunk as the script is refused"

cp bin.luac binmod.lua
safe 'package.path = "./?.lua" require "binmod"'
[ $rc -eq 1 ] && has "$T/err" "binary chunk" && ! has "$T/out" ran
ok $? "require refuses a binary module"

safe 'print(debug.getupvalue, debug.sethook, type(debug.traceback), attn.config.safe)'
[ "$(cat "$T/out")" = "$(printf 'nil\tnil\tfunction\ttrue')" ]
ok $? "debug keeps only traceback and getinfo; attn.config.safe is true"

finish
