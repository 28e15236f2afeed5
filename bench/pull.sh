#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# `cairn pull` of N objects (default 1,000,000; bench_genbundle's mix) from
# another cairn node on loopback: objects per second and the puller's peak
# memory (/usr/bin/time %M). Baseline in the same run: curl fetching the
# same pages (limit=LIMIT, paged by X-TAXII-Date-Added-Last) to /dev/null,
# the transfer floor; the pull is reported as a multiple of it.
#
#   bench/pull.sh [BUILD_DIR [N [LIMIT]]]   (BUILD_DIR defaults to build)
#   CAIRN=/path/to/cairn bench/pull.sh ...  (another binary)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
n=${2:-1000000}
limit=${3:-10000}
case $build in /*) ;; *) build=$here/$build ;; esac
cairn=${CAIRN:-$build/cairn}
gen=$build/bench/bench_genbundle
goal=50000

for tool in "$cairn" "$gen"; do
    [ -x "$tool" ] || {
        echo "missing $tool: build first (cmake --build $build)" >&2
        exit 2
    }
done
for tool in curl awk /usr/bin/time; do
    command -v $tool >/dev/null || {
        echo "$tool is needed" >&2
        exit 2
    }
done

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

TAXII='application/taxii+json;version=2.1'
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { if (s <= 0) s = 0.001; printf "%.0f", n / s }'; }

src=$tmp/src
dst=$tmp/dst
echo "generating $n objects ..."
"$gen" "$n" >"$tmp/bundle.json"
printf 'pw\n' | "$cairn" user add puller --data "$src" >/dev/null
coll=$("$cairn" collection add --title source --data "$src")
"$cairn" grant puller "$coll" --read --data "$src" >/dev/null
t=$(now)
"$cairn" import --collection "$coll" --data "$src" "$tmp/bundle.json" \
    >/dev/null 2>&1
echo "source filled by cairn import in $(since "$t") s"
rm -f "$tmp/bundle.json"
into=$("$cairn" collection add --title copy --data "$dst")

"$cairn" serve --data "$src" --listen 127.0.0.1:0 \
    --port-file "$tmp/port" --log "$tmp/access.log" 2>"$tmp/serve.err" &
pid=$!
i=0
while [ ! -s "$tmp/port" ] && [ $i -lt 200 ]; do
    sleep 0.05
    i=$((i + 1))
done
port=$(cat "$tmp/port")
base=http://127.0.0.1:$port/api1/collections/$coll/objects/

# ---- baseline: the same pages through curl, to /dev/null ----------------------
t=$(now)
after=""
pages=0
while :; do
    q="limit=$limit&match%5Bversion%5D=all"
    [ -n "$after" ] && q="$q&added_after=$after"
    curl -sS -u puller:pw -H "Accept: $TAXII" -D "$tmp/h" -o /dev/null \
        "$base?$q"
    pages=$((pages + 1))
    last=$(tr -d '\r' <"$tmp/h" | awk -F': ' \
        'tolower($1) == "x-taxii-date-added-last" { print $2 }')
    grep -qi '^x-taxii-date-added-last' "$tmp/h" || break
    [ "$last" = "$after" ] && break
    after=$(printf '%s' "$last" | sed 's/+/%2B/g; s/:/%3A/g')
    [ $pages -lt 100000 ] || break
done
curl_s=$(since "$t")
echo "curl floor: $pages pages in $curl_s s ($(rate "$n" "$curl_s") objects/s)"

# ---- the pull ------------------------------------------------------------------
t=$(now)
CAIRN_PASSWORD=pw /usr/bin/time -f '%e %M' -o "$tmp/time" \
    "$cairn" pull "http://127.0.0.1:$port/taxii2/" --user puller \
    --collection "$coll" --into "$into" --data "$dst" --limit "$limit" \
    2>"$tmp/pull.err" || {
    cat "$tmp/pull.err" >&2
    exit 1
}
pull_s=$(since "$t")
peak_kib=$(awk '{ print $2 }' "$tmp/time")
tail -n 1 "$tmp/pull.err"
r=$(rate "$n" "$pull_s")
echo "cairn pull: $n objects in $pull_s s: $r objects/s, peak RSS" \
    "$((peak_kib / 1024)) MiB (goal $goal objects/s:" \
    "$(awk -v r="$r" -v g="$goal" 'BEGIN { print (r >= g ? "met" : "MISSED") }'))"
echo "pull / curl floor: $(awk -v a="$pull_s" -v b="$curl_s" \
    'BEGIN { printf "%.1fx the time", a / b }')"
