#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# `cairn report sightings` over N sightings from 40 organisations of
# N/100 indicators (docs/analysis.md), with a baseline in the same run:
# SQLite's own GROUP BY over the same rows in the same file (json_extract
# of sighting_of_ref and where_sighted_refs[0], count(DISTINCT), sum,
# max), which computes the same counts without scores, collections or
# the threshold. The goal: under 1 s at 1,000,000 sightings.
#
#   bench/report.sh [BUILD_DIR [N]]   (defaults: build, 1000000)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
n=${2:-1000000}
case $build in /*) ;; *) build=$here/$build ;; esac
cairn=$build/cairn
[ -x "$cairn" ] || { echo "missing $cairn: build first" >&2; exit 2; }
command -v sqlite3 >/dev/null || { echo "sqlite3 is needed" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
coll=11111111-1111-4111-8111-111111111111
ni=$((n / 100))
[ "$ni" -gt 0 ] || ni=1
echo "report sightings: $n sightings, $ni indicators, 40 organisations ($(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg))"

awk -v n="$n" -v ni="$ni" 'BEGIN {
    printf "{\"type\":\"bundle\",\"id\":\"bundle--00000000-0000-4000-8000-000000000000\",\"objects\":[\n"
    for (i = 0; i < ni; i++)
        printf "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--00000000-0000-4000-8000-%012d\",\"created\":\"2026-01-01T00:00:00.000Z\",\"modified\":\"2026-01-01T00:00:00.000Z\",\"pattern\":\"[domain-name:value = '"'"'d%d.example'"'"']\",\"pattern_type\":\"stix\",\"valid_from\":\"2026-01-01T00:00:00Z\"},\n", i, i
    srand(1)
    for (i = 0; i < n; i++) {
        d = 1 + int(rand() * 28)
        printf "{\"type\":\"sighting\",\"spec_version\":\"2.1\",\"id\":\"sighting--10000000-0000-4000-8000-%012d\",\"created\":\"2026-02-%02dT00:00:00.000Z\",\"modified\":\"2026-02-%02dT00:00:00.000Z\",\"sighting_of_ref\":\"indicator--00000000-0000-4000-8000-%012d\",\"where_sighted_refs\":[\"identity--20000000-0000-4000-8000-%012d\"],\"count\":%d,\"last_seen\":\"2026-02-%02dT00:00:00Z\"}%s\n", i, d, d, int(rand() * ni), int(rand() * 40), 1 + int(rand() * 5), d, (i < n - 1 ? "," : "")
    }
    printf "]}\n"
}' >"$tmp/bundle.json"
"$cairn" collection add --data "$tmp/d" --title bench --id $coll >/dev/null 2>&1
"$cairn" import --data "$tmp/d" --collection $coll -q "$tmp/bundle.json"
rm -f "$tmp/bundle.json"; [ -n "${KEEP:-}" ] && cp -r "$tmp/d" "$KEEP"
db=$tmp/d/cairn.db

secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
# CPU seconds (user + system) of a command, when /usr/bin/time is there:
# on a shared machine they say more than the wall time
cpu() {
    if [ -x /usr/bin/time ]; then
        /usr/bin/time -f '%U %S' -o "$tmp/cpu" "$@"
        awk '{ printf "%.2f", $1 + $2 }' "$tmp/cpu"
    else
        "$@"; printf '?'
    fi
}
t0=$(date +%s.%N)
cc=$(cpu sh -c "'$cairn' report sightings --data '$tmp/d' --json >'$tmp/report.json'")
t1=$(date +%s.%N)
bc=$(cpu sh -c "sqlite3 '$db' \"SELECT json_extract(json, '\\\$.sighting_of_ref') AS i,
        count(DISTINCT json_extract(json, '\\\$.where_sighted_refs[0]')),
        sum(json_extract(json, '\\\$.count')), max(json_extract(json, '\\\$.last_seen'))
    FROM objects WHERE type = 'sighting' GROUP BY i\" >'$tmp/sqlite.out'")
t2=$(date +%s.%N)
echo "CPU (user + system): cairn report sightings $cc s, SQLite GROUP BY $bc s"
c=$(secs "$t0" "$t1")
b=$(secs "$t1" "$t2")
echo "cairn report sightings: $c s ($(jq '.indicators | length' "$tmp/report.json" 2>/dev/null || echo '?') indicators)"
echo "SQLite GROUP BY baseline: $b s ($(wc -l <"$tmp/sqlite.out") indicators)"
awk -v c="$c" -v b="$b" -v cc="$cc" 'BEGIN { printf "ratio cairn / SQLite: %.2fx; goal under 1 s: %s wall, %s CPU\n", (b > 0 ? c / b : 0), (c < 1 ? "met" : "NOT met"), (cc + 0 < 1 ? "met" : "NOT met") }'
