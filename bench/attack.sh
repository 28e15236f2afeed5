#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# `cairn serve` under attack from clients without credentials (issue 18),
# each against the same token client's idle latency measured in the same
# run: 1,100 slow clients, then 50 connections sending one wrong password,
# then 50 sending distinct wrong passwords. Goal: the token client's p99
# under attack stays under 5x its idle p99, and none of its requests
# fails. Then memory: the server's RSS while 8 readers POST 100 MB each
# (bodies nobody may send: never kept), and while a writer POSTs 100 MB
# (kept, within the body budget). Goal: no request raises the RSS by more
# than the body budget plus one page budget.
#
#   bench/attack.sh [BUILD_DIR [SECONDS]]   (BUILD_DIR defaults to build)
#
# The attacking threads run at the lowest priority (http_attack): on one
# small box they would otherwise measure their own CPU use, not the
# server's. On a box shared with other work the idle p99 itself is noisy;
# run it on a quiet machine for figures to compare.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
secs=${2:-10}
case $build in /*) ;; *) build=$here/$build ;; esac
cairn=${CAIRN:-$build/cairn}
attack=$build/tests/http_attack
for tool in "$cairn" "$attack"; do
    [ -x "$tool" ] || {
        echo "missing $tool: build first (cmake --build $build)" >&2
        exit 2
    }
done
command -v curl >/dev/null || {
    echo "bench/attack.sh needs curl" >&2
    exit 2
}

tmp=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
budget_mb=256
cat >"$tmp/cairn.ini" <<EOF
[server]
per_address_limit = 0
body_budget = ${budget_mb}M
EOF
"$cairn" serve --data "$tmp/data" --listen 127.0.0.1:0 --config \
    "$tmp/cairn.ini" --port-file "$tmp/port" --log "$tmp/access.log" \
    2>"$tmp/serve.err" &
pid=$!
i=0
while [ ! -s "$tmp/port" ] && [ $i -lt 600 ]; do
    sleep 0.1
    i=$((i + 1))
done
port=$(cat "$tmp/port")
col=$(sed -n 's/.*grant NAME \([0-9a-f-]*\) .*/\1/p' "$tmp/serve.err" | head -1)
printf 'pw\n' | "$cairn" user add w --data "$tmp/data" >/dev/null 2>&1
printf 'pw\n' | "$cairn" user add r --data "$tmp/data" >/dev/null 2>&1
"$cairn" grant w "$col" --read --write --data "$tmp/data" >/dev/null 2>&1
"$cairn" grant r "$col" --read --data "$tmp/data" >/dev/null 2>&1
tok=$("$cairn" token new r --data "$tmp/data" 2>/dev/null | tail -1)
url=http://127.0.0.1:$port
O=$url/api1/collections/$col/objects/
taxii='application/taxii+json;version=2.1'
for u in r w; do curl -sS -o /dev/null -u $u:pw "$url/taxii2/"; done

field() { sed -n "s/^$1=//p" "$2"; }
status=0
report() { # NAME FILE
    r=$(field p99_ratio "$2")
    f=$(field fails "$2")
    verdict=met
    if [ "$f" != 0 ] || ! awk -v r="$r" 'BEGIN { exit !(r < 5) }'; then
        verdict=MISSED
        status=1
    fi
    printf '%-34s idle p50 %6s p99 %6s ms | attack p50 %7s p99 %7s ms | p99 x%-6s fails %s | goal <5x: %s\n' \
        "$1" "$(field idle_p50_ms "$2")" "$(field idle_p99_ms "$2")" \
        "$(field attack_p50_ms "$2")" "$(field attack_p99_ms "$2")" \
        "$r" "$f" "$verdict"
}

echo "cairn serve under attack, $secs s each, token client on keep-alive:"
"$attack" slow "$port" 1100 "$secs" "$tok" >"$tmp/slow"
report "1,100 slow clients" "$tmp/slow"
"$attack" flood "$port" 50 "$secs" "$tok" w same >"$tmp/same"
report "50 conns, one wrong password" "$tmp/same"
"$attack" flood "$port" 50 "$secs" "$tok" w distinct >"$tmp/distinct"
report "50 conns, distinct wrong passwords" "$tmp/distinct"
echo "access log: $(wc -l <"$tmp/access.log") lines for" \
    "$(($(field attack_answers "$tmp/same") + $(field attack_answers "$tmp/distinct"))) refused logins answered"

# ---- memory --------------------------------------------------------------------

rss() { sed -n 's/^VmRSS:[^0-9]*\([0-9]*\).*/\1/p' "/proc/$pid/status"; }
# peak_during CMD...: run CMD, sampling the server's RSS; print the peak
# growth over the RSS before, in MB.
peak_during() {
    before=$(rss)
    "$@" &
    job=$!
    peak=$before
    while kill -0 "$job" 2>/dev/null; do
        now=$(rss)
        [ "$now" -gt "$peak" ] && peak=$now
        sleep 0.05
    done
    wait "$job" || true
    echo $(((peak - before) / 1024))
}
head -c $((100 * 1024 * 1024)) /dev/zero | tr '\0' ' ' >"$tmp/body"
readers() {
    for k in 1 2 3 4 5 6 7 8; do
        curl -sS -o /dev/null -u r:pw -H "Content-Type: $taxii" \
            --data-binary "@$tmp/body" "$O" &
    done
    wait
}
writer() {
    curl -sS -o /dev/null -u w:pw -H "Content-Type: $taxii" \
        --data-binary "@$tmp/body" "$O"
}
page_mb=256 # the TAXII layer's cap on one response body
limit=$((budget_mb + page_mb))
m1=$(peak_during readers)
m2=$(peak_during writer)
echo "RSS growth: 8 readers posting 100 MB each: +$m1 MB;" \
    "a writer posting 100 MB: +$m2 MB (goal: under body budget $budget_mb MB" \
    "+ page budget $page_mb MB = $limit MB)"
if [ "$m1" -ge "$limit" ] || [ "$m2" -ge "$limit" ]; then status=1; fi
kill "$pid"
wait "$pid" || true
pid=""
exit $status
