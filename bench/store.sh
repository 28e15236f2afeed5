#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Store throughput: insert N generated indicators (default 1,000,000) into a
# new SQLite store through the store API in batches of BATCH (default
# 50,000), page them all out with limit=1000, and report objects/s, seconds
# and peak memory. Baseline in the same run: the sqlite3 shell importing the
# same rows from CSV (.import, one transaction) into a table with cairn's
# schema, pragmas and indexes, and dumping them back in date_added order.
#
# The CPU seconds printed next to each phase vary less than wall time when
# the machine is busy. For the cost of status recording (TAXII POST), run
# build/bench/bench_store DB N BATCH status.
#
#   bench/store.sh [BUILD_DIR [N [BATCH]]]      (BUILD_DIR defaults to build)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
n=${2:-1000000}
batch=${3:-50000}
case $build in /*) ;; *) build=$here/$build ;; esac
bench=$build/bench/bench_store
insert_goal=200000
page_goal=10

[ -x "$bench" ] || {
    echo "missing $bench: build first (cmake --build $build)" >&2
    exit 2
}
command -v sqlite3 >/dev/null || { echo "sqlite3 is needed (apt-get install sqlite3)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time is needed (apt-get install time)" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "store: $n indicators, batches of $batch ($(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg))"

/usr/bin/time -f '%e %M' -o "$tmp/time" "$bench" "$tmp/cairn.db" "$n" "$batch" >"$tmp/out"
cat "$tmp/out"
ins_rate=$(awk '/^insert/ { print $(NF-1) }' "$tmp/out")
page_s=$(awk '/^page/ { for (i = 1; i <= NF; i++) if ($i == "s") { print $(i - 1); exit } }' "$tmp/out")
echo "db size: $(du -m "$tmp/cairn.db" | cut -f1) MB, whole run peak RSS $(awk '{ printf "%.1f", $2 / 1024 }' "$tmp/time") MB"
rm -f "$tmp"/cairn.db*

"$bench" --csv "$n" >"$tmp/rows.csv"
cat >"$tmp/import.sql" <<SQL
PRAGMA page_size=32768;
PRAGMA journal_mode=WAL;
PRAGMA synchronous=FULL;
PRAGMA cache_size=-65536;
CREATE TABLE objects(coll INTEGER NOT NULL, date_added INTEGER NOT NULL,
  idh INTEGER NOT NULL, id TEXT NOT NULL, type TEXT NOT NULL,
  spec_version TEXT NOT NULL, vsec INTEGER NOT NULL, vns INTEGER NOT NULL,
  salt INTEGER NOT NULL, created TEXT, modified TEXT, json TEXT NOT NULL);
CREATE UNIQUE INDEX objects_added ON objects(coll, date_added);
CREATE UNIQUE INDEX objects_version ON objects(coll, idh, vsec, vns, salt);
.mode csv
.import $tmp/rows.csv objects
SQL
cat "$tmp/rows.csv" >/dev/null
/usr/bin/time -f '%e %M' -o "$tmp/time" sqlite3 "$tmp/base.db" <"$tmp/import.sql" >/dev/null
base_s=$(cut -d' ' -f1 "$tmp/time")
got=$(sqlite3 "$tmp/base.db" 'SELECT count(*) FROM objects')
[ "$got" = "$n" ] || { echo "sqlite3 imported $got rows, not $n" >&2; exit 1; }
/usr/bin/time -f '%e %M' -o "$tmp/time2" sqlite3 "$tmp/base.db" \
    'SELECT json FROM objects WHERE coll = 1 ORDER BY date_added' >/dev/null
dump_s=$(cut -d' ' -f1 "$tmp/time2")

awk -v n="$n" -v r="$ins_rate" -v p="$page_s" -v b="$base_s" -v d="$dump_s" \
    -v ig="$insert_goal" -v pg="$page_goal" 'BEGIN {
    if (b <= 0) b = 0.01
    if (d <= 0) d = 0.01
    printf "baseline sqlite3 .import: %.2f s, %.0f rows/s; dump in order: %.2f s\n", b, n / b, d
    printf "ratio insert cairn/sqlite3: %.2fx; paging cairn/sqlite3 dump: %.2fx the time\n", r / (n / b), p / d
    printf "the store API on one thread: %.0f objects/s (%.2fx the %d/s that issue 4 asks of cairn import,\n", r, r / ig, ig
    printf "  which reads on a second thread; bench/server.sh measures that); page all < %d s: %s\n",
        pg, (p < pg ? "met" : "NOT met")
}'
