#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# `cairn serve` runs its peers side by side: a peer that accepts
# connections and never answers (a hub stopped with SIGSTOP) does not hold
# up the others. And `cairn pull` against a peer that keeps paging stops
# at --max-pages with its progress kept, exit 1, and goes on next time.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${CAIRN_SRC:?CAIRN_SRC must name the source tree}/tests/cli/lib.sh"
need curl jq
pid_hub=""
pid_stuck=""
pid_m=""
at_exit='[ -n "$pid_stuck" ] && kill -CONT $pid_stuck 2>/dev/null
reap $pid_hub $pid_stuck $pid_m
[ "$failed" = 0 ] || cat "$tmp"/*.err'

indicator() {
    printf '{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-%012d","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"ioc %d","pattern":"[ipv4-addr:value = '"'"'10.0.%d.%d'"'"']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}' \
        "$1" "$1" $(($1 / 256)) $(($1 % 256))
}
count() { # count NODE COLLECTION
    eval "p=\$port_$1"
    curl -sS --max-time 30 -u "reader:pw" -H "Accept: $TAXII" \
        "http://127.0.0.1:$p/api1/collections/$2/objects/?match%5Bversion%5D=all&limit=10000" |
        jq -r '.objects // [] | length'
}
has_count() { [ "$(count "$1" "$2")" = "$3" ]; } # has_count NODE COLL N
# wait_for DESCRIPTION COMMAND...: up to 30 s for COMMAND to succeed
wait_for() {
    what=$1
    shift
    i=0
    while ! "$@" >/dev/null 2>&1 && [ $i -lt 300 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    check "$what" "$@"
}

for n in hub stuck m; do
    printf 'pw\n' | "$CAIRN" user add reader --data "$tmp/$n" >/dev/null 2>&1 ||
        fail "user add on $n"
done
hub_ind=$("$CAIRN" collection add --title Indicators --data "$tmp/hub" \
    2>/dev/null)
stuck_ind=$("$CAIRN" collection add --title Indicators --data "$tmp/stuck" \
    2>/dev/null)
m_ind=$("$CAIRN" collection add --title "From the hub" --data "$tmp/m" \
    2>/dev/null)
m_other=$("$CAIRN" collection add --title "From the other" --data "$tmp/m" \
    2>/dev/null)
"$CAIRN" grant reader "$hub_ind" --read --data "$tmp/hub" >/dev/null 2>&1 &&
    "$CAIRN" grant reader "$stuck_ind" --read --data "$tmp/stuck" \
        >/dev/null 2>&1 &&
    "$CAIRN" grant reader "$m_ind" --read --data "$tmp/m" >/dev/null 2>&1 &&
    "$CAIRN" grant reader "$m_other" --read --data "$tmp/m" >/dev/null 2>&1 ||
    fail "grants"
{
    printf '{"type":"bundle","id":"bundle--00000000-0000-4000-8000-000000000002","objects":['
    series indicator 1 30
    printf ']}'
} >"$tmp/hub.json"
"$CAIRN" import --collection "$hub_ind" --data "$tmp/hub" "$tmp/hub.json" \
    >/dev/null 2>&1 || fail "import on the hub"

check "the hub starts" start_node hub
check "the stuck peer starts" start_node stuck
# Stopped, its socket still accepts connections, and nothing answers.
kill -STOP "$pid_stuck"
printf 'pw\n' >"$tmp/pw"
# The stuck peer comes first, as it did in the one thread of before.
cat >"$tmp/m.ini" <<EOF
[server]
data = m
[peer stuck]
url = http://127.0.0.1:$port_stuck/taxii2/
user = reader
password_file = pw
interval = 3600
pull = $stuck_ind -> $m_other
[peer hub]
url = http://127.0.0.1:$port_hub/taxii2/
user = reader
password_file = pw
interval = 3600
pull = $hub_ind -> $m_ind
EOF
check "the member starts with both peers" start_node m 127.0.0.1:0 "$tmp/m.ini"
wait_for "the hub's 30 indicators arrive while the other peer hangs" \
    has_count m "$m_ind" 30
check "...and the member logged the hub's run" \
    grep -q "peer hub: pull $hub_ind -> $m_ind: 30 new" "$tmp/m.err"
check "...while the stuck peer's run has not ended" \
    sh -c "! grep -q 'peer stuck: pull' '$tmp/m.err'"
stop_node m
check "a stop interrupts the stuck run at once" \
    grep -q "peer stuck: pull.*cancelled" "$tmp/m.err"
kill -CONT "$pid_stuck"
stop_node stuck

# ---- a run is bounded, and the next one goes on ---------------------------
pull() {
    CAIRN_PASSWORD=pw "$CAIRN" pull "http://127.0.0.1:$port_hub/taxii2/" \
        --user reader --collection "$hub_ind" --into "$m_other" \
        --data "$tmp/m" --limit 4 "$@"
}
pull --max-pages 2 2>"$tmp/pull.err"
rc=$?
check "a pull stopped by --max-pages exits 1 ($rc)" [ $rc = 1 ]
check "...says where it stopped" grep -q "stopped after 2 pages and 8 objects \
(the most pages a run takes); the next run goes on from there" "$tmp/pull.err"
pull --max-objects 10 2>"$tmp/pull.err"
rc=$?
check "the next run goes on from there, bounded by objects ($rc)" [ $rc = 1 ]
check "...from the last date seen" \
    grep -q "12 received in 3 pages, 11 new, 1 already present" "$tmp/pull.err"
pull 2>"$tmp/pull.err"
rc=$?
check "a run to the end exits 0 ($rc)" [ $rc = 0 ]
check "...with the rest" \
    grep -q "12 received in 3 pages, 11 new, 1 already present" "$tmp/pull.err"
"$CAIRN" pull "http://127.0.0.1:$port_hub/taxii2/" --collection x \
    --into "$m_other" --data "$tmp/m" --max-pages 0 2>"$tmp/pull.err"
check "--max-pages 0 is a usage error" grep -q "at least 1" "$tmp/pull.err"
check "the member restarts" start_node m
check "...and the member holds all 30 once" has_count m "$m_other" 30
stop_node m
stop_node hub
check "no sanitizer report from any node or run" no_crash_report "$tmp"/*.err
echo "federation_peers: $passed passed, $failed failed"
[ "$failed" = 0 ]
