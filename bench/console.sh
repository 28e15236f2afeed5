#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The web console with N stored objects (default 1,000,000, the mix of
# bench_genbundle: indicators, malware, relationships, sightings, SCOs):
# the median time of each page over 5 requests, measured by curl on
# loopback (so close to the server's time), and its weight in bytes,
# against the goals (100 ms a page, 50 ms a search). Baseline in the same
# run: the TAXII discovery document of the same server (no store work),
# each page's time printed as a ratio to it.
#
#   bench/console.sh [BUILD_DIR [N]]   (BUILD_DIR defaults to build)
#
# The bundle is generated straight into `cairn import` (no file). With
# CAIRN_BENCH_DATA=DIR the store is kept in DIR and reused by later runs
# with the same N (a million objects take minutes to import): only the
# first run generates and imports.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
n=${2:-1000000}
case $build in /*) ;; *) build=$here/$build ;; esac
cairn=${CAIRN:-$build/cairn}
gen=$build/bench/bench_genbundle
for tool in "$cairn" "$gen"; do
    [ -x "$tool" ] || {
        echo "missing $tool: build first (cmake --build $build)" >&2
        exit 2
    }
done
command -v curl >/dev/null || {
    echo "curl is needed" >&2
    exit 2
}

tmp=$(mktemp -d)
pid=""
cleanup() {
    if [ -n "$pid" ]; then
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 2' INT TERM
data=${CAIRN_BENCH_DATA:-$tmp/data}
case $data in /*) ;; *) data=$(pwd)/$data ;; esac
fresh=yes
[ -f "$data/bench-objects" ] && [ "$(cat "$data/bench-objects")" = "$n" ] &&
    fresh=no
if [ $fresh = yes ] && [ -e "$data" ] && [ "$data" != "$tmp/data" ]; then
    echo "$data holds another store: remove it or choose another" >&2
    exit 2
fi
mkdir -p "$data"

echo "cairn console benchmark: $n objects, $(nproc) cores"
echo "disk free where the store goes: $(df -Pk "$data" | awk 'NR == 2 { printf "%.1f GB", $4 / 1048576 }')"
"$cairn" serve --data "$data" --listen 127.0.0.1:0 --port-file "$tmp/port" \
    2>"$tmp/serve.err" &
pid=$!
i=0
while [ ! -s "$tmp/port" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
port=$(cat "$tmp/port")
base=http://127.0.0.1:$port
if [ $fresh = yes ]; then
    col=$(sed -n 's/^ *collection: *\([0-9a-f-]*\) .*/\1/p' "$tmp/serve.err" | head -1)
    echo "$col" >"$data/bench-collection"
else
    col=$(cat "$data/bench-collection")
fi
printf 'bench\n' | "$cairn" user add bench --admin --data "$data" >/dev/null 2>&1
"$cairn" grant bench "$col" --read --write --data "$data" >/dev/null 2>&1
if [ $fresh = yes ]; then
    t0=$(date +%s)
    "$gen" "$n" | "$cairn" import --collection "$col" --data "$data" - \
        >/dev/null 2>"$tmp/import.err" || {
        echo "import failed:" >&2
        head "$tmp/import.err" >&2
        exit 1
    }
    echo "$n" >"$data/bench-objects"
    echo "generated and imported in $(($(date +%s) - t0)) s"
else
    echo "reusing the store in $data"
fi

jar=$tmp/jar
curl -sS -c "$jar" -b "$jar" -o "$tmp/login.html" "$base/ui/login"
tok=$(sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' "$tmp/login.html")
curl -sS -c "$jar" -b "$jar" -o /dev/null --data-urlencode user=bench \
    --data-urlencode password=bench --data-urlencode "csrf=$tok" "$base/ui/login"
# A sighted indicator (what its page draws), from the first sighting.
ind=$(curl -sS -u bench:bench -H 'Accept: application/taxii+json;version=2.1' \
    "$base/api1/collections/$col/objects/?match%5Btype%5D=sighting&limit=1" |
    sed -n 's/.*"sighting_of_ref":"\(indicator--[0-9a-f-]*\)".*/\1/p' | head -1)

# median PATH: the median seconds of 5 GETs (after one to warm up) and the
# bytes of the last, as "SECONDS BYTES".
median() {
    curl -sS -b "$jar" -o /dev/null "$base$1"
    for k in 1 2 3 4 5; do
        curl -sS -b "$jar" -o /dev/null -w '%{time_total} %{size_download}\n' "$base$1"
    done | sort -n | sed -n 3p
}
set -- $(median /taxii2/)
floor=$1
printf '%-28s %9s %9s %8s  %s\n' page ms bytes ratio goal
for p in "/ui/ 100" "/ui/search?q=c2-3.example.net 50" \
    "/ui/search?q=10.0.0.7 50" "/ui/search?q=$ind 50" \
    "/ui/object?id=$ind 100" "/ui/sightings 100" "/ui/hunt 100" \
    "/ui/import 100" "/ui/admin 100" "/ui/static/console.css 100"; do
    set -- $p
    goal=$2
    set -- $(median "$1") "$1"
    awk -v s="$1" -v b="$2" -v f="$floor" -v g="$goal" -v p="$3" 'BEGIN {
        if (f <= 0) f = 0.0001
        printf "%-28.28s %9.1f %9d %8.1f  %s (%d ms)\n", p, s * 1000, b,
            s / f, s * 1000 < g ? "met" : "MISSED", g }'
done
kill -TERM "$pid"
wait "$pid" || true
pid=""
