#!/bin/sh
# make bench-peer: the shapes of `make bench` through attnlab and through
# PyTorch (Debian's python3-torch), on the same machine in the same run.
# $1 = the build directory (holds attnlab), $2 = threads (default 2).
#
# PyTorch runs tuned, as a careful user would run it: the OpenMP build of
# OpenBLAS first on the library path (one thread pool instead of OpenBLAS's
# and OpenMP's fighting over the cores), fetched with `apt-get download`
# into bench/.peer the first time, and glibc malloc told to keep freed
# blocks (no page faults on every large temporary). attnlab gets the same
# malloc setting (it tunes itself the same way at start-up anyway).
set -e
build=$1
threads=${2:-2}
src=$(dirname "$0")
# Debian's python3 holds python3-torch; a python3 earlier on PATH may not.
python=
for p in ${PYTHON:-} python3 /usr/bin/python3; do
    if "$p" -c "import torch" 2>/dev/null; then python=$p; break; fi
done
if [ -z "$python" ]; then
    echo "bench-peer: PyTorch is not installed (apt-get install python3-torch)" >&2
    exit 1
fi
peer="$src/.peer"
lib="$peer/usr/lib/x86_64-linux-gnu/openblas-openmp"
if [ ! -e "$lib/libblas.so.3" ]; then
    mkdir -p "$peer"
    (cd "$peer" && apt-get download libopenblas0-openmp >/dev/null && dpkg -x libopenblas0-openmp_*.deb .)
fi
tunables=glibc.malloc.trim_threshold=4000000000:glibc.malloc.mmap_threshold=4000000000
echo "== attnlab, $threads threads"
BENCH_THREADS=$threads GLIBC_TUNABLES=$tunables "$build/attnlab" "$src/attention.lua"
echo
BENCH_THREADS=$threads GLIBC_TUNABLES=$tunables "$build/attnlab" "$src/gpt2.lua"
echo
echo "== PyTorch $("$python" -c 'import torch; print(torch.__version__)'), OpenMP OpenBLAS, $threads threads"
OMP_NUM_THREADS=$threads LD_LIBRARY_PATH="$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
    GLIBC_TUNABLES=$tunables "$python" "$src/torch_peer.py" "$threads"
