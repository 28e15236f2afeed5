#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The web console with N stored objects (default 1,000,000, the mix of
# bench_genbundle: indicators, malware, relationships, sightings, SCOs):
# each page's median time over 20 requests as curl sees it on loopback,
# the server's CPU time per request (user + system from /proc, the
# server's own time, which a loaded machine does not stretch), and its
# weight in bytes, against the goals (100 ms a page, 50 ms a search).
# Baseline in the same run: the TAXII discovery document of the same
# server (no store work), each page's CPU time printed as a ratio to it.
# Then, with chromium and chromedriver, each page in the browser: its
# weight and the time to a usable page (navigation timing), against the
# style sheet loaded as a page.
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
printf 'bench\n' | "$cairn" user add bench --admin --data "$data" >/dev/null 2>&1 || true
"$cairn" grant bench "$col" --read --write --data "$data" >/dev/null 2>&1 || true
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

# measure PATH: requests PATH (after one to warm up; 20 times, or 3 when
# it takes over a second) and prints "WALL CPU BYTES": the median seconds
# of a request as curl saw it, the server's CPU seconds per request (user
# and system, from /proc: the server's own time, which a loaded machine
# does not stretch as it stretches the wall clock), and the page's bytes.
tck=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }
measure() {
    w=$(curl -sS -b "$jar" -o /dev/null -w '%{time_total}' "$base$1")
    reps=$(awk -v w="$w" 'BEGIN { print (w > 1 ? 3 : 20) }')
    c0=$(cpu_ticks)
    k=0
    while [ $k -lt "$reps" ]; do
        curl -sS -b "$jar" -o /dev/null -w '%{time_total} %{size_download}\n' "$base$1"
        k=$((k + 1))
    done >"$tmp/times"
    c1=$(cpu_ticks)
    sort -n "$tmp/times" | awk -v n="$reps" -v c=$((c1 - c0)) -v t="$tck" \
        'NR == int((n + 1) / 2) { print $1, c / t / n, $2 }'
}
set -- $(measure /taxii2/)
floor=$2
printf 'server CPU per request, baseline /taxii2/ (no store work): %.2f ms\n' \
    "$(awk -v f="$floor" 'BEGIN { print f * 1000 }')"
printf '%-28s %8s %8s %9s %8s  %s\n' page wall-ms cpu-ms bytes cpu-ratio goal
for p in "/ui/ 100" "/ui/search?q=c2-3.example.net 50" \
    "/ui/search?q=10.0.0.7 50" "/ui/search?q=$ind 50" \
    "/ui/object?id=$ind 100" "/ui/sightings 100" "/ui/hunt 100" \
    "/ui/import 100" "/ui/admin 100" "/ui/static/console.css 100"; do
    set -- $p
    goal=$2
    set -- $(measure "$1") "$1"
    awk -v w="$1" -v c="$2" -v b="$3" -v f="$floor" -v g="$goal" -v p="$4" 'BEGIN {
        printf "%-28.28s %8.1f %8.2f %9d %8.1f  %s (%d ms of server time)\n",
            p, w * 1000, c * 1000, b, (f > 0 ? c / f : 0),
            (c * 1000 < g ? "met" : "MISSED"), g }'
done

# In Chromium, when it is installed: each page's weight (the HTML and the
# style sheet, script and icon it loads, uncompressed) and the time to a
# usable page (navigation timing: domInteractive and loadEventEnd from the
# start of the navigation), the median of 3 loads; baseline: the style
# sheet (a static file, no store work) loaded as a page in the same browser.
if command -v chromium >/dev/null && command -v chromedriver >/dev/null &&
    command -v jq >/dev/null; then
    . "$here/tests/tools/webdriver.sh"
    trap 'end_browser || :; cleanup' EXIT
    if start_driver && new_session 1200,900; then
        wd POST "$s/timeouts" '{"implicit": 20000, "pageLoad": 120000}'
        go /ui/login
        type_in '#user' bench
        type_in '#password' bench
        click '#login'
        el '#h-colls'
        # What every page loads besides its HTML (cached after the first).
        assets=0
        for a in console.css console.js favicon.svg; do
            assets=$((assets + $(curl -sS -o /dev/null -w '%{size_download}' \
                "$base/ui/static/$a")))
        done
        # timing PATH: "INTERACTIVE LOAD HTML_BYTES", the median of 3 loads.
        timing() {
            for k in 1 2 3; do
                go "$1"
                js 'var n = performance.getEntriesByType("navigation")[0];
                    return [n.domInteractive - n.startTime,
                            n.loadEventEnd - n.startTime,
                            n.decodedBodySize].join(" ");'
                jq -r .value "$tmp/wd.json"
            done | sort -n | sed -n 2p
        }
        set -- $(timing /ui/static/console.css)
        bfloor=$1
        echo
        echo "in Chromium: time to a usable page (ms, median of 3 loads; baseline: /ui/static/console.css as a page, interactive at $bfloor ms)"
        printf '%-28s %11s %8s %10s %10s %6s\n' page interactive loaded \
            html-bytes all-bytes ratio
        for p in /ui/ "/ui/search?q=10.0.0.7" "/ui/search?q=$ind" \
            "/ui/object?id=$ind" /ui/sightings /ui/hunt /ui/import /ui/admin; do
            set -- $(timing "$p") "$p"
            awk -v i="$1" -v l="$2" -v h="$3" -v a=$(($3 + assets)) -v f="$bfloor" -v p="$4" 'BEGIN {
                printf "%-28.28s %11.1f %8.1f %10d %10d %6.1f\n", p, i, l, h, a,
                    (f > 0 ? i / f : 0) }'
        done
        echo "(all-bytes: with the style sheet, script and icon, $assets bytes, which later pages take from the cache)"
    else
        echo "chromium or chromedriver would not start: no browser figures"
    fi
    end_browser || :
else
    echo "no chromium and chromedriver: no browser figures"
fi
kill -TERM "$pid"
wait "$pid" || true
pid=""
