#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The correlation index (docs/analysis.md), with baselines in the same run:
#
# 1. `cairn import` of N generated objects (bench_genbundle: indicators,
#    SCOs, sightings, relationships) with the index kept current, in
#    objects/s; with BASELINE=/path/to/an/older/cairn (one without the
#    index, e.g. built from the commit before it), the same import by that
#    binary, and the ratio. Then the index's size: rows, and bytes per row
#    (SQLite's dbstat).
# 2. The latency of cairn_lookup for M values drawn from the store
#    (domains looked up as a subdomain, "x.DOMAIN", so that every parent
#    is probed; addresses, which probe all 33 prefixes; URLs; hashes):
#    p50, p99, max. Baseline: plain SQLite SELECTs of the same probes on
#    a table vals(v TEXT, rid) of the same values with an index on v,
#    joined to the objects, in the same file.
#
#   [BASELINE=OLD_CAIRN] [KEEP=DIR] bench/lookup.sh [BUILD_DIR [N [M]]]
#   (defaults: build, 1000000 objects, 20000 lookups)
#
# KEEP=DIR works in DIR and leaves the store there; a later run with the
# same DIR skips the import and times the lookups again (big N take long
# to import; delete DIR when done).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
n=${2:-1000000}
m=${3:-20000}
case $build in /*) ;; *) build=$here/$build ;; esac
cairn=$build/cairn
gen=$build/bench/bench_genbundle
bl=$build/bench/bench_lookup
baseline=${BASELINE:-}
for p in "$cairn" "$gen" "$bl"; do
    [ -x "$p" ] || { echo "missing $p: build first" >&2; exit 2; }
done
command -v sqlite3 >/dev/null || { echo "sqlite3 is needed" >&2; exit 2; }

if [ -n "${KEEP:-}" ]; then
    tmp=$KEEP
    mkdir -p "$tmp"
    trap 'rm -f "$tmp/bundle.json"' EXIT
else
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
fi
coll=11111111-1111-4111-8111-111111111111
echo "lookup: $n objects, $m lookups ($(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg))"
db=$tmp/new/cairn.db
if [ -f "$tmp/done" ]; then
    echo "(the store of $tmp, imported before: $(cat "$tmp/done"))"
else
"$gen" "$n" >"$tmp/bundle.json"

# import_with BINARY DIR: prints the wall seconds of importing the bundle
import_with() {
    "$1" collection add --data "$2" --title bench --id $coll >/dev/null 2>&1
    t0=$(date +%s.%N)
    if [ -x /usr/bin/time ]; then
        /usr/bin/time -f '%U %S' -o "$tmp/import.cpu" \
            "$1" import --data "$2" --collection $coll "$tmp/bundle.json" 2>"$tmp/import.err" ||
            { cat "$tmp/import.err" >&2; exit 1; }
    else
        "$1" import --data "$2" --collection $coll "$tmp/bundle.json" 2>"$tmp/import.err" ||
            { cat "$tmp/import.err" >&2; exit 1; }
        echo '0 0' >"$tmp/import.cpu"
    fi
    t1=$(date +%s.%N)
    echo "$t0 $t1" | awk '{ printf "%.2f", $2 - $1 }'
}

if [ -n "$baseline" ]; then
    old_s=$(import_with "$baseline" "$tmp/old")
    rm -rf "$tmp/old"
fi
new_s=$(import_with "$cairn" "$tmp/new")
rm -f "$tmp/bundle.json"
sqlite3 "$db" 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null
awk -v n="$n" -v s="$new_s" -v c="$(awk '{ print $1 + $2 }' "$tmp/import.cpu")" 'BEGIN {
    printf "import with the index: %.2f s, %.0f objects/s; %.2f s of CPU, %.0f objects per CPU second\n",
        s, n / s, c, (c > 0 ? n / c : 0) }' | tee "$tmp/done"
if [ -n "$baseline" ]; then
    awk -v n="$n" -v s="$new_s" -v o="$old_s" 'BEGIN {
        printf "import by BASELINE (no index): %.2f s, %.0f objects/s\n", o, n / o
        printf "ratio with/without the index: %.2fx the objects/s\n", o / s }'
fi
rows=$(sqlite3 "$db" 'SELECT count(*) FROM obj_keys')
bytes=$(sqlite3 "$db" "SELECT sum(pgsize) FROM dbstat WHERE name = 'obj_keys'" 2>/dev/null || echo 0)
awk -v r="$rows" -v b="${bytes:-0}" -v n="$n" 'BEGIN {
    printf "index: %d keys for %d objects, %.1f MB, %.1f bytes per key\n", r, n, b / 1e6, (r ? b / r : 0) }'

fi

# values to look up, drawn from the indicators' patterns
sqlite3 "$db" "SELECT json_extract(json, '\$.pattern') FROM objects
    WHERE type = 'indicator' ORDER BY random() LIMIT $m" |
    sed -n "s/^\[\([a-z0-9-]*\):[^=]*= '\([^']*\)'\]\$/\1 \2/p" |
    awk '$1 == "domain-name" { print "x." $2; next } { print $2 }' >"$tmp/values"
# the baseline's table: the same values, each with its object's row
sqlite3 "$db" "DROP TABLE IF EXISTS vals; CREATE TABLE vals(v TEXT NOT NULL, rid INTEGER NOT NULL);
    INSERT INTO vals SELECT substr(p, instr(p, '''') + 1,
            length(p) - instr(p, '''') - 2), rid
        FROM (SELECT rid, json_extract(json, '\$.pattern') AS p FROM objects
              WHERE type = 'indicator');
    INSERT INTO vals SELECT json_extract(json, '\$.value'), rid FROM objects
        WHERE json_extract(json, '\$.value') IS NOT NULL;
    CREATE INDEX vals_v ON vals(v);"
"$bl" cairn "$db" "$tmp/values" | tee "$tmp/cairn.out"
"$bl" sqlite "$db" "$tmp/values" | tee "$tmp/sqlite.out"
awk '/^cairn/ { for (i = 1; i <= NF; i++) if ($i == "p99") c = $(i + 1) }
     /^sqlite/ { for (i = 1; i <= NF; i++) if ($i == "p99") b = $(i + 1) }
     END { printf "ratio p99 cairn_lookup / SQLite probes: %.2fx; goal p99 < 5 ms: %s\n",
           (b > 0 ? c / b : 0), (c < 5 ? "met" : "NOT met") }' "$tmp/cairn.out" "$tmp/sqlite.out"
