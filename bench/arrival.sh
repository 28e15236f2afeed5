#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# From an indicator's arrival at a member to its sighting stored there
# (issue 10, goal under 2 s with 10,000,000 archived events). Usage:
#   sh bench/arrival.sh [BUILD-DIR [SIZE_MB]]   (defaults: build, 64)
#
# Archives a Zeek dns.log of SIZE_MB (bench_genlogs; 2450 MB is about
# 10,000,000 events) into a member's data directory, where one name is
# planted on every 9,973rd line (and once in the small log). The member is a `cairn serve` with a
# [hunt] section. An indicator for that name is POSTed over TAXII to its
# indicators collection; the time is taken from the POST to the sighting
# being readable from its sightings collection, the hub's credential
# known to the member: a member checks a password once (scrypt, about
# 0.2 s of CPU on purpose) and keeps it for `credential_cache_seconds`
# (300 s, renewed in the background while it is in use), so a hub that
# pushes every few seconds never waits for it. The first request after
# the member starts (a GET of the sightings, which checks the password)
# is timed apart and printed. Baseline in the same run:
# the same with an archive of the log's first MB (the floor of the loop:
# noticing the indicator, one retro-hunt and one sighting written), and
# `cairn archive hunt` of the same indicator over the big archive (CPU).
# The work files (in $TMPDIR, default /tmp) are deleted at the end.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
size=${2:-64}
case $build in /*) ;; *) build=$here/$build ;; esac
CAIRN=${CAIRN:-$build/cairn}
gen=$build/bench/bench_genlogs
for t in "$CAIRN" "$gen"; do
    [ -x "$t" ] || { echo "bench/arrival.sh: no $t (build it first)" >&2; exit 2; }
done
[ -x /usr/bin/time ] || { echo "bench/arrival.sh: needs /usr/bin/time" >&2; exit 2; }
# shellcheck source-path=SCRIPTDIR source=../tests/cli/lib.sh
. "$here/tests/cli/lib.sh"
need curl jq awk
need_kb=$((size * 1024 * 16 / 10))
free_kb=$(df -Pk "${TMPDIR:-/tmp}" | awk 'NR == 2 { print $4 }')
if [ "$free_kb" -lt "$need_kb" ]; then
    echo "bench/arrival.sh: $size MB of log needs about $((need_kb / 1024)) MB free in ${TMPDIR:-/tmp}" >&2
    exit 2
fi
# start_node sets pid_NODE; lib.sh's EXIT trap runs at_exit
# shellcheck disable=SC2034
pid_big=""
# shellcheck disable=SC2034
pid_small=""
# shellcheck disable=SC2016 # expanded when the trap runs
at_exit='reap $pid_big $pid_small'
now_ms() { echo $(($(date +%s%N) / 1000000)); }
hz=$(getconf CLK_TCK)
# cpu_ticks PID: the process's user and system CPU so far, in ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
name=c2-arrival.qzvkpt.example-bad.net
p="" # a node's port, set by eval

printf '%s\n' "$name" >"$tmp/plant.txt"
"$gen" dns "$size" --plant "$tmp/plant.txt" --every 9973 >"$tmp/dns.log" \
    2>"$tmp/gen.err" || { cat "$tmp/gen.err" >&2; exit 2; }
# the small log: its first MB, and the first line naming the indicator
head -c 1048576 "$tmp/dns.log" | sed '$d' >"$tmp/small.log"
grep -m 1 -F "$name" "$tmp/dns.log" >>"$tmp/small.log"

# A member's store: the user, its two collections; then its archive.
printf 'pw\n' | "$CAIRN" user add member --data "$tmp/template" >/dev/null 2>&1 ||
    { echo "bench/arrival.sh: cannot add the user" >&2; exit 2; }
ind=$("$CAIRN" collection add --title Indicators --data "$tmp/template" 2>/dev/null)
sight=$("$CAIRN" collection add --title Sightings --data "$tmp/template" 2>/dev/null)
if ! "$CAIRN" grant member "$ind" --read --write --data "$tmp/template" \
    >/dev/null 2>&1 ||
    ! "$CAIRN" grant member "$sight" --read --data "$tmp/template" >/dev/null 2>&1; then
    echo "bench/arrival.sh: cannot grant the collections" >&2
    exit 2
fi
cat >"$tmp/member.ini" <<EOF
[hunt]
indicators = $ind
sightings = $sight
org = member
EOF
for node in big small; do
    cp -R "$tmp/template" "$tmp/$node"
done
/usr/bin/time -f "%U %S %e %M" -o "$tmp/add.time" \
    "$CAIRN" archive add --data "$tmp/big" --sensor bench "$tmp/dns.log" \
    >/dev/null 2>"$tmp/add.err" || { cat "$tmp/add.err" >&2; exit 2; }
"$CAIRN" archive add --data "$tmp/small" --sensor bench "$tmp/small.log" \
    >/dev/null 2>&1 || { echo "bench/arrival.sh: cannot archive the small log" >&2; exit 2; }
events=$(sed -n 's/.* \([0-9]*\) events archived.*/\1/p' "$tmp/add.err")
small_events=$("$CAIRN" archive stats --data "$tmp/small" | awk '/^events/ { print $2 }')
hits=$(grep -c -F "$name" "$tmp/dns.log")
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
small_hits=$(grep -c -F "$name" "$tmp/small.log")
echo "log: $size MB, $events events archived ($(cut -d' ' -f1,2 "$tmp/add.time" | awk '{ printf "%.1f", $1 + $2 }') s CPU), $hits lines with the planted name"

# The indicator, POSTed as a hub's push would store it.
now=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
cat >"$tmp/ind.json" <<EOF
{"objects": [{"type": "indicator", "spec_version": "2.1",
 "id": "indicator--7d1f2c3e-4b5a-4c6d-8e9f-0a1b2c3d4e5f",
 "created": "$now", "modified": "$now", "valid_from": "2020-01-01T00:00:00Z",
 "pattern_type": "stix", "pattern": "[domain-name:value = '$name']"}]}
EOF

# sighted NODE: the sighting is readable from the node's collection.
sighted() {
    eval "p=\$port_$1"
    curl -sS --max-time 30 -u member:pw -H "Accept: $TAXII" \
        "http://127.0.0.1:$p/api1/collections/$sight/objects/?match%5Btype%5D=sighting" |
        jq -e '(.objects // []) | length > 0' >/dev/null
}
loop_ready() { grep -q "response loop: hunting 1 collection" "$tmp/$1.err"; }

# arrival NODE: starts the node, logs in once (sets $login_ms), POSTs the
# indicator, sets $ms to the milliseconds until its sighting is stored
# (fails after 120 s).
arrival() {
    start_node "$1" 127.0.0.1:0 "$tmp/member.ini" || { echo "$1 does not start" >&2; return 1; }
    i=0
    while ! loop_ready "$1" && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
    eval "p=\$port_$1"
    t0=$(now_ms)
    if sighted "$1"; then echo "$1 has a sighting before the POST" >&2; return 1; fi
    login_ms=$(($(now_ms) - t0))
    eval "c0=\$(cpu_ticks \$pid_$1)"
    t0=$(now_ms)
    code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 30 -u member:pw \
        -H "Accept: $TAXII" -H "Content-Type: $TAXII" --data-binary "@$tmp/ind.json" \
        "http://127.0.0.1:$p/api1/collections/$ind/objects/")
    [ "$code" = 202 ] || { echo "the POST answered $code" >&2; return 1; }
    while ! sighted "$1" && [ $(($(now_ms) - t0)) -lt 120000 ]; do
        sleep 0.01
    done
    t1=$(now_ms)
    sighted "$1" || { echo "no sighting at $1 after 120 s" >&2; return 1; }
    ms=$((t1 - t0))
    eval "c1=\$(cpu_ticks \$pid_$1)"
    cpu=$(awk -v a="$c0" -v b="$c1" -v hz="$hz" 'BEGIN { printf "%.2f", (b - a) / hz }')
}

arrival small || exit 1
small_ms=$ms
small_login=$login_ms
small_cpu=$cpu
stop_node small
arrival big || exit 1
big_ms=$ms
big_login=$login_ms
big_cpu=$cpu
stop_node big
printf '%s\n' "$name" >"$tmp/one.txt"
/usr/bin/time -f "%U %S %e" -o "$tmp/hunt.time" \
    "$CAIRN" archive hunt -j1 --data "$tmp/big" -i "$tmp/one.txt" >"$tmp/hunt.out" 2>/dev/null
hunt_cpu=$(tail -n 1 "$tmp/hunt.time" | awk '{ printf "%.2f", $1 + $2 }')
# where the time went, as the members logged it (times to the ms): from
# the POST's start (its log line's time less its duration) to the line
# saying the sighting is stored
stamp_ms() { # ISO time of a log line -> ms since midnight
    awk '{ split(substr($1, 12, 12), t, "[:.]"); print ((t[1] * 60 + t[2]) * 60 + t[3]) * 1000 + t[4] }'
}
for node in small big; do
    post=$(grep '"POST .*" 202 ' "$tmp/$node.err" | tail -n 1)
    post_ms=$(echo "$post" | awk '{ print $NF }')
    start=$(echo "$post" | stamp_ms | awk -v d="$post_ms" '{ printf "%d", $1 - d }')
    stored=$(grep 'info: hunt: 1 new version of sightings stored' "$tmp/$node.err" | tail -n 1 | stamp_ms)
    printf '%s: POST %s ms; %s; POST start to sighting stored (server log): %s ms\n' "$node" "$post_ms" \
        "$(sed -n 's/.*info: hunt: \(retro-hunted .*\)/\1/p' "$tmp/$node.err" | tail -n 1)" \
        "$((stored - start))"
done
echo "first request after start (the password checked): $small_login ms (small), $big_login ms (big); not counted below"
echo "baseline, $small_events events archived ($small_hits hits): arrival to sighting $small_ms ms ($small_cpu s CPU of the member)"
echo "cairn archive hunt of the indicator over $events events: $hunt_cpu s CPU, $(wc -l <"$tmp/hunt.out") hits"
awk -v b="$big_ms" -v s="$small_ms" -v e="$events" -v c="$big_cpu" 'BEGIN {
    printf "arrival to sighting with %d events archived: %d ms (%.2f x the baseline; %s s CPU of the member); goal under 2000 ms: %s\n",
        e, b, (s > 0 ? b / s : 0), c, (b < 2000 ? "met" : "NOT met")
}'
