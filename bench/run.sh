#!/bin/sh
# make bench: matmul GFLOP/s through attnlab beside raw cblas_sgemm.
# $1 = the build directory (holds attnlab and bench/raw_sgemm).
set -e
build=$1
src=$(dirname "$0")
raw=$(mktemp) ; lua=$(mktemp)
trap 'rm -f "$raw" "$lua"' EXIT
"$build/bench/raw_sgemm" > "$raw"
"$build/attnlab" "$src/matmul.lua" > "$lua"
echo "matmul GFLOP/s, median of 3-15 runs: raw cblas_sgemm vs the same product through attnlab"
awk 'NR == FNR { raw[$1 " " $5] = $6; next }
     FNR == 1 { printf "%-14s %5s %5s %5s %3s %9s %9s %7s\n", "shape", "M", "K", "N", "thr",
                "raw", "attnlab", "ratio" }
     { r = raw[$1 " " $5];
       printf "%-14s %5d %5d %5d %3d %9.1f %9.1f %6.2fx\n", $1, $2, $3, $4, $5, r, $6, $6 / r }' \
    "$raw" "$lua"
echo
echo "scaled dot-product attention, B=1 H=12 D=64, 2 threads"
"$build/attnlab" "$src/attention.lua"
echo
echo "GPT-2 small forward and a small training step, 2 threads"
"$build/attnlab" "$src/gpt2.lua"
