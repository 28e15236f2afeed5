#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Validation throughput: generate a bundle of N mixed objects (default
# 1,000,000), time `cairn validate --quiet` on it and `jq empty` on the same
# file as a baseline, and print objects/s, MB/s and peak memory of each.
# cairn runs twice: with its JSON fast path (src/stix/json.c) and with
# CAIRN_JSON_FAST=0, jansson alone; the ratio of the two is printed.
#
#   bench/validate.sh [BUILD_DIR [N]]      (BUILD_DIR defaults to build)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
n=${2:-1000000}
case $build in /*) ;; *) build=$here/$build ;; esac
cairn=$build/cairn
gen=$build/bench/bench_genbundle
goal=300000

for tool in "$cairn" "$gen"; do
    [ -x "$tool" ] || {
        echo "missing $tool: build first (cmake --build $build)" >&2
        exit 2
    }
done
command -v jq >/dev/null || { echo "jq is needed (apt-get install jq)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time is needed (apt-get install time)" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bundle=$tmp/bundle.json

"$gen" "$n" >"$bundle"
bytes=$(wc -c <"$bundle")
mb=$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1e6 }')
echo "bundle: $n objects, $mb MB ($(nproc) cores, one used)"

# time_it NAME CMD...: runs CMD once with the file in the page cache; sets
# $secs and $kb (peak resident set, KiB).
time_it() {
    name=$1
    shift
    cat "$bundle" >/dev/null
    if ! /usr/bin/time -f '%e %M' -o "$tmp/time" "$@" >"$tmp/out" 2>"$tmp/err"; then
        echo "$name failed:" >&2
        head -20 "$tmp/out" "$tmp/err" >&2
        exit 1
    fi
    secs=$(cut -d' ' -f1 "$tmp/time")
    kb=$(cut -d' ' -f2 "$tmp/time")
}

report() {
    awk -v name="$1" -v n="$n" -v b="$bytes" -v s="$secs" -v kb="$kb" 'BEGIN {
        if (s <= 0) s = 0.01
        printf "%-16s %8.2f s %12.0f objects/s %8.1f MB/s %8.1f MB peak RSS\n",
            name, s, n / s, b / 1e6 / s, kb / 1024
    }'
}

time_it "cairn validate" "$cairn" validate --quiet "$bundle"
cairn_secs=$secs
report "cairn validate"
time_it "  jansson only" env CAIRN_JSON_FAST=0 "$cairn" validate --quiet "$bundle"
slow_secs=$secs
report "  jansson only"
time_it "jq empty" jq empty "$bundle"
jq_secs=$secs
report "jq empty"

echo "(peak RSS of cairn counts the pages of the mapped file it touched:"
echo " page cache, shared and reclaimable, not heap; jq holds the parsed tree)"
awk -v c="$cairn_secs" -v s="$slow_secs" -v j="$jq_secs" -v n="$n" -v goal="$goal" 'BEGIN {
    if (c <= 0) c = 0.01
    printf "cairn validate takes %.2fx the time of jq empty\n", c / j
    printf "JSON fast path: %.2fx faster end to end than jansson alone (CAIRN_JSON_FAST=0)\n", s / c
    rate = n / c
    printf "goal %d objects/s on one core: %s (%.0f)\n", goal,
        (rate >= goal ? "met" : "NOT met"), rate
}'
