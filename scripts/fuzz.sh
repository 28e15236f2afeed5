#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Build the libFuzzer targets with clang and run each one for SECONDS
# (default 60) over a copy of its corpus, one target per processor at a
# time (FUZZ_JOBS to change). A crash leaves its input in
# BUILD_DIR/crashes/; add it to fuzz/corpus/NAME/ once fixed, so the normal
# test run replays it.
#   usage: scripts/fuzz.sh [BUILD_DIR] [SECONDS] [TARGET...]
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build-fuzz}
seconds=${2:-60}
[ $# -ge 2 ] && shift 2 || shift $#

CC=clang cmake -S "$top" -B "$build" -DCAIRN_FUZZ=ON -DCAIRN_SANITIZE=ON \
    -DCAIRN_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null

targets=$*
if [ -z "$targets" ]; then
    for f in "$top"/fuzz/fuzz_*.c; do
        n=$(basename "$f" .c)
        targets="$targets ${n#fuzz_}"
    done
fi

mkdir -p "$build/crashes"

# run_one TARGET: fuzz it for $seconds; 1 and its log's tail when it fails.
run_one() {
    t=$1
    work="$build/corpus-$t"
    mkdir -p "$work"
    cp -r "$top/fuzz/corpus/$t/." "$work/" 2>/dev/null || true
    if ! "$build/fuzz/fuzz_$t" -max_total_time="$seconds" -max_len=65536 \
        -rss_limit_mb=2048 -print_final_stats=0 \
        -artifact_prefix="$build/crashes/$t-" "$work" \
        >"$build/fuzz_$t.log" 2>&1; then
        echo "fuzz_$t FAILED; see $build/fuzz_$t.log and $build/crashes/"
        tail -n 30 "$build/fuzz_$t.log"
        return 1
    fi
    echo "fuzz_$t: ${seconds}s, no crash"
}

# One target per processor at a time.
jobs=${FUZZ_JOBS:-$(nproc)}
status=0
set -- $targets
while [ $# -gt 0 ]; do
    pids=""
    i=0
    while [ $# -gt 0 ] && [ $i -lt "$jobs" ]; do
        run_one "$1" &
        pids="$pids $!"
        shift
        i=$((i + 1))
    done
    for p in $pids; do
        wait "$p" || status=1
    done
done
exit $status
