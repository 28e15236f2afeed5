#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The store on PostgreSQL against SQLite, in the same run: insert N
# generated indicators (default 1,000,000) through the store API in batches
# of BATCH (default 50,000), then page them all out with limit=1000
# (bench_store), once into a new SQLite store and once into a throwaway
# PostgreSQL 15 cluster (tests/tools/pg.sh, fsync on, on a Unix socket).
# Prints both runs and the ratios PostgreSQL/SQLite, and the goals of
# issue 13: insert at least 100,000 objects/s, page 1,000,000 in < 10 s.
#
#   bench/postgres.sh [BUILD_DIR [N [BATCH]]]   (BUILD_DIR defaults to build)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
n=${2:-1000000}
batch=${3:-50000}
case $build in /*) ;; *) build=$here/$build ;; esac
bench=$build/bench/bench_store
[ -x "$bench" ] || {
    echo "missing $bench: build first (cmake --build $build)" >&2
    exit 2
}

tmp=$(mktemp -d)
trap 'sh "$here/tests/tools/pg.sh" stop "$tmp/pg"; rm -rf "$tmp"' EXIT
# The tests' cluster runs with fsync off; a benchmark must not.
CAIRN_REQUIRE_PG=1 CAIRN_PG_FSYNC=on sh "$here/tests/tools/pg.sh" start "$tmp/pg"
url=$(cat "$tmp/pg.url")

echo "store: $n indicators, batches of $batch ($(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg))"
echo "--- SQLite"
"$bench" "$tmp/cairn.db" "$n" "$batch" | tee "$tmp/sqlite.out"
rm -f "$tmp"/cairn.db*
echo "--- PostgreSQL"
"$bench" "$url" "$n" "$batch" | tee "$tmp/pg.out"

rate() { awk '/^insert/ { print $(NF-1) }' "$1"; }
pages() { awk '/^page/ { for (i = 1; i <= NF; i++) if ($i == "s") { print $(i - 1); exit } }' "$1"; }
awk -v n="$n" -v sr="$(rate "$tmp/sqlite.out")" -v pr="$(rate "$tmp/pg.out")" \
    -v sp="$(pages "$tmp/sqlite.out")" -v pp="$(pages "$tmp/pg.out")" 'BEGIN {
    if (sp <= 0) sp = 0.01
    printf "ratio PostgreSQL/SQLite: insert %.2fx the rate, paging %.2fx the time\n", pr / sr, pp / sp
    printf "goals on PostgreSQL: insert >= 100000/s: %.0f/s %s; page %d in < 10 s (scaled to 1,000,000): %.2f s %s\n",
        pr, (pr >= 100000 ? "met" : "NOT met"), n, pp * 1000000 / n,
        (pp * 1000000 / n < 10 ? "met" : "NOT met")
}'
