#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Two `cairn serve` nodes over one PostgreSQL database run the same [peer]
# (pull indicators from a hub, push sightings back) and the same response
# loop (one organisation, each node with the same archived DNS history).
# One node runs the peer; killed with -9, the other takes over and goes on
# from the progress kept in the store: it fetches only what came since,
# and an idle pull is one request to the hub (counted in the hub's access
# log). The loops of both nodes make one sighting per indicator and
# organisation, one version each, and the hub receives each once.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${CAIRN_SRC:?CAIRN_SRC must name the source tree}/tests/cli/lib.sh"
need curl jq

pid_a=""
pid_b=""
pid_hub=""
pgstate=$tmp/pg
at_exit='reap $pid_a $pid_b $pid_hub; sh "$CAIRN_SRC/tests/tools/pg.sh" stop "$pgstate"
[ "$failed" = 0 ] || tail -n 20 "$tmp"/*.err'

sh "$CAIRN_SRC/tests/tools/pg.sh" start "$pgstate" || {
    echo "FAIL: tests/tools/pg.sh could not start a cluster"
    exit 1
}
if [ ! -s "$pgstate.url" ]; then
    echo "skipped: no PostgreSQL cluster (see above)"
    exit 0
fi
url=$(cat "$pgstate.url")
need psql
sql() { psql -X -q -At "$url" -c "$1" 2>>"$tmp/sql.err"; }

# wait_for DESCRIPTION COMMAND...: COMMAND succeeds within 60 s.
wait_for() {
    what=$1
    shift
    i=0
    while ! "$@" >/dev/null 2>&1 && [ $i -lt 600 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    check "$what" "$@"
}

# indicators FROM N: N indicators of domains dFROM.example ..., as a bundle
indicators() {
    printf '{"type":"bundle","id":"bundle--00000000-0000-4000-8000-000000000001","objects":['
    k=$1
    while [ "$k" -lt $(($1 + $2)) ]; do
        [ "$k" -gt "$1" ] && printf ','
        printf '{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-%012d","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","pattern":"[domain-name:value = '"'"'d%d.example'"'"']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}' \
            "$k" "$k"
        k=$((k + 1))
    done
    printf ']}'
}

# A Zeek dns.log of 100 queries, among them d3, d7 and d42 (twice each,
# the last one only indicated later) and look-alikes.
{
    printf '#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n'
    printf '#unset_field\t-\n#path\tdns\n#open\t2020-12-14-00-00-00\n'
    printf '#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tquery\tqtype_name\trcode_name\tanswers\n'
    printf '#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tstring\tstring\tvector[string]\n'
    i=1
    while [ $i -le 100 ]; do
        case $i in
        10 | 60) q=d3.example ;;
        20 | 70) q=d7.example ;;
        30 | 80) q=d42.example ;;
        40) q=d3.example.net ;;
        *) q=host$i.benign.test ;;
        esac
        printf '%d.000000\tC%d\t10.1.0.1\t5353\t10.53.0.1\t53\tudp\t%s\tA\tNOERROR\t10.2.0.1\n' \
            $((1607904000 + i * 60)) $i $q
        i=$((i + 1))
    done
    printf '#close\t2020-12-14-23-59-59\n'
} >"$tmp/dns.log"

# ---- the hub (SQLite), with an access log --------------------------------------
printf 'pw\n' | "$CAIRN" user add member --data "$tmp/hub" >/dev/null 2>&1 ||
    fail "the hub's user"
hub_ind=$("$CAIRN" collection add --title Indicators --data "$tmp/hub" 2>/dev/null)
hub_sight=$("$CAIRN" collection add --title Sightings --data "$tmp/hub" 2>/dev/null)
"$CAIRN" grant member "$hub_ind" --read --data "$tmp/hub" >/dev/null 2>&1 &&
    "$CAIRN" grant member "$hub_sight" --read --write --data "$tmp/hub" \
        >/dev/null 2>&1 || fail "the hub's collections"
indicators 1 40 >"$tmp/first.json"
"$CAIRN" import --collection "$hub_ind" --data "$tmp/hub" "$tmp/first.json" \
    >/dev/null 2>&1 || fail "the hub's first 40 indicators"
"$CAIRN" serve --data "$tmp/hub" --listen 127.0.0.1:0 --log "$tmp/access.log" \
    --port-file "$tmp/hub.port" 2>>"$tmp/hub.err" &
pid_hub=$!
wait_port "$tmp/hub.port" "$pid_hub" || fail "the hub starts"
port_hub=$(cat "$tmp/hub.port")

# ---- two nodes, one database, one configuration ---------------------------------
"$CAIRN" collection list --data "$url" >/dev/null 2>"$tmp/admin.err" ||
    fail "the database is set up"
m_ind=$("$CAIRN" collection add --title "From the hub" --data "$url" 2>>"$tmp/admin.err")
m_sight=$("$CAIRN" collection add --title Sightings --data "$url" 2>>"$tmp/admin.err")
printf 'pw\n' >"$tmp/pw"
cat >"$tmp/node.ini" <<EOF
[store]
url = $url
[hunt]
indicators = $m_ind
sightings = $m_sight
org = Example Org
[peer hub]
url = http://127.0.0.1:$port_hub/taxii2/
user = member
password_file = pw
interval = 1
pull = $hub_ind -> $m_ind
push = $m_sight -> $hub_sight sighting identity
EOF
# Each node archives its own copy of the organisation's DNS history in its
# local data directory.
for n in a b; do
    CAIRN_DATA_DIR=$tmp/local_$n "$CAIRN" archive add --data "$tmp/local_$n" \
        --sensor resolver "$tmp/dns.log" >/dev/null 2>"$tmp/$n.add.err" ||
        fail "node $n's archive"
done
launch() { # NODE
    CAIRN_DATA_DIR=$tmp/local_$1 "$CAIRN" serve --config "$tmp/node.ini" \
        --listen 127.0.0.1:0 --port-file "$tmp/$1.port" 2>>"$tmp/$1.err" &
    eval "pid_$1=$!"
    wait_port "$tmp/$1.port" "$!"
}
count() { sql "SELECT count(*) FROM objects o JOIN collections c ON c.pk = o.coll WHERE c.id = '$1' AND o.type = '${2:-indicator}'"; }
runs_it() { grep -q "peer hub: this node runs it" "$tmp/$1.err"; }
holds() { test "$(count "$1")" = "$2"; } # COLLECTION N: holds N indicators

launch a || fail "node a starts"
wait_for "node a runs the peer" runs_it a
launch b || fail "node b starts"
wait_for "node b runs its response loop" grep -q "response loop: hunting" "$tmp/b.err"
wait_for "node a pulled the hub's 40 indicators" holds "$m_ind" 40
hub_sightings() {
    curl -sS --max-time 30 -u member:pw -H "Accept: $TAXII" \
        "http://127.0.0.1:$port_hub/api1/collections/$hub_sight/objects/?match%5Bversion%5D=all&limit=1000" |
        jq -c '.objects // [] | .[] | select(.type == "sighting")'
}
hub_has() { [ "$(hub_sightings | jq -s 'map(.id) | unique | length')" = "$1" ]; }
wait_for "the hub holds the 2 sightings (d3, d7)" hub_has 2
check "node b did not run the peer meanwhile" \
    sh -c "! grep -q 'peer hub: this node runs it' '$tmp/b.err'"

# ---- node a killed; node b takes over from the stored progress ------------------
kill -9 "$pid_a"
wait "$pid_a" 2>/dev/null
pid_a=""
indicators 41 10 >"$tmp/more.json"
"$CAIRN" import --collection "$hub_ind" --data "$tmp/hub" "$tmp/more.json" \
    >/dev/null 2>&1 || fail "10 more indicators at the hub"
wait_for "node b takes the peer over" runs_it b
wait_for "node b pulled the 10 new ones" holds "$m_ind" 50
first=$(grep -m1 "peer hub: pull $hub_ind -> $m_ind: [1-9]" "$tmp/b.err")
check "node b fetched only what came since ($first)" \
    sh -c "echo '$first' | grep -Eq ': 10 new, [0-9] already present'"
wait_for "the hub holds the sighting of d42 too" hub_has 3

# ---- an idle pull is one request to the hub ---------------------------------------
# Runs of node b with nothing new, and the hub's log lines in between:
# each run asks for objects once, and nothing else (no discovery, no API
# root, no collections; the push with nothing to send asks nothing).
idle() { grep -c "peer hub: pull $hub_ind -> $m_ind: 0 new" "$tmp/b.err"; }
hub_lines() { grep -c '"GET \|"POST ' "$tmp/access.log"; }
r0=$(idle)
l0=$(hub_lines)
idle_runs() { test "$(idle)" -ge "$1"; }
wait_for "node b ran the peer 5 times more" idle_runs $((r0 + 5))
r1=$(idle)
l1=$(hub_lines)
runs=$((r1 - r0))
reqs=$((l1 - l0))
sed -n "$((l0 + 1)),${l1}p" "$tmp/access.log" >"$tmp/idle.log"
echo "idle runs: $runs, requests to the hub meanwhile: $reqs"
# The hub logs a request once it is answered, and a run may be under way
# while the lines are counted: one more or one less at most (3 a run
# before: discovery, the API root, the objects).
check "one request per idle run ($reqs for $runs runs)" \
    [ "$reqs" -ge $((runs - 1)) -a "$reqs" -le $((runs + 1)) ]
check "...each of them a GET of the objects after the saved point" \
    sh -c "! grep -v '\"GET /api1/collections/$hub_ind/objects/?added_after=' '$tmp/idle.log'"

# ---- one sighting per indicator and organisation -----------------------------------
check "the store holds 3 sightings, one version each" \
    test "$(count "$m_sight" sighting)" = 3
check "...one identity" test "$(count "$m_sight" identity)" = 1
hub_sightings >"$tmp/hub.json"
check "the hub holds one sighting per indicator, one version each" \
    test "$(jq -s 'length' "$tmp/hub.json")" = 3 -a \
    "$(jq -s 'map(.sighting_of_ref) | unique | length' "$tmp/hub.json")" = 3
check "...each of the one organisation, counting its two queries" \
    test "$(jq -s 'map(.where_sighted_refs[0]) | unique | length' "$tmp/hub.json")" = 1 -a \
    "$(jq -s 'map(.count) | unique | .[]' "$tmp/hub.json")" = 2

kill -TERM "$pid_b"
wait "$pid_b"
check "node b stops cleanly" test $? -eq 0
pid_b=""
no_crash_report "$tmp/a.err" "$tmp/b.err" "$tmp/hub.err" || fail "a sanitizer report"

echo "postgres_peer: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
