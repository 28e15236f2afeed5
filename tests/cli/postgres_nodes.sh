#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Two `cairn serve` nodes over one PostgreSQL database (a throwaway cluster
# of tests/tools/pg.sh): what one node stores, the other serves; a status
# made on one is read on the other; a token revoked or a grant withdrawn
# on one is refused at once by the other; writers on both nodes lose
# nothing and a reader paging with added_after sees every object once; a
# node killed with -9 loses nothing it acknowledged; the password of the
# connection URL is never printed.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${CAIRN_SRC:?CAIRN_SRC must name the source tree}/tests/cli/lib.sh"
need curl jq
: "${CAIRN_DATA:?CAIRN_DATA must name tests/data}"

pga=""
pgb=""
pgstate=$tmp/pg
at_exit='reap $pga $pgb; sh "$CAIRN_SRC/tests/tools/pg.sh" stop "$pgstate"'

sh "$CAIRN_SRC/tests/tools/pg.sh" start "$pgstate" || {
    echo "FAIL: tests/tools/pg.sh could not start a cluster"
    exit 1
}
if [ ! -s "$pgstate.url" ]; then
    echo "skipped: no PostgreSQL cluster (see above)"
    exit 0
fi
# A password the cluster does not ask for (trust), that must never show.
url="$(cat "$pgstate.url")&password=Sekr1tPw"

# launch NODE: `cairn serve` for NODE over the shared database; node a
# names it with --data, node b with [store] url in its configuration.
printf '[store]\nurl = %s\n' "$url" >"$tmp/b.ini"
launch() {
    if [ "$1" = a ]; then
        set -- "$1" --data "$url"
    else
        set -- "$1" --config "$tmp/b.ini"
    fi
    node=$1
    shift
    "$CAIRN" serve "$@" --listen 127.0.0.1:0 \
        --port-file "$tmp/$node.port" 2>>"$tmp/$node.err" &
}

printf '[server]\ndata = %s/d\n[store]\nurl = %s\n' "$tmp" "$url" >"$tmp/both.ini"
run serve --config "$tmp/both.ini" --listen 127.0.0.1:0
expect 2 "a configuration naming the store twice"
check "the error says why" said "\[store\] url and \[server\] data"

# Both start at once on an empty database: one first collection only.
launch a
pga=$!
launch b
pgb=$!
if ! wait_port "$tmp/a.port" "$pga" || ! wait_port "$tmp/b.port" "$pgb"; then
    echo "FAIL: the nodes did not start"
    cat "$tmp/a.err" "$tmp/b.err"
    exit 1
fi
port_a=$(cat "$tmp/a.port")
port_b=$(cat "$tmp/b.port")
A=http://127.0.0.1:$port_a
B=http://127.0.0.1:$port_b
col=$(cat "$tmp/a.err" "$tmp/b.err" | sed -n 's/^ *collection: *\([0-9a-f-]*\) .*/\1/p' | sort -u)
check "two nodes starting at once make one first collection" \
    test "$(printf '%s\n' "$col" | grep -c .)" -eq 1

printf 'pw\n' | "$CAIRN" user add w --data "$url" >/dev/null 2>"$tmp/admin.err"
"$CAIRN" grant w "$col" --read --write --data "$url" >/dev/null 2>>"$tmp/admin.err"
"$CAIRN" token new w --data "$url" >"$tmp/token" 2>>"$tmp/admin.err"
token=$(cat "$tmp/token")
check "the admin commands work on --data postgresql://" \
    grep -qx '[0-9a-f]\{64\}' "$tmp/token"

# objects W N: N indicators of writer W, as an envelope
objects() {
    printf '{"objects":['
    k=0
    while [ $k -lt "$2" ]; do
        [ $k -gt 0 ] && printf ','
        printf '{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8%03d-%012d","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","pattern":"[domain-name:value = '"'"'w%d-%d.example'"'"']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}' \
            "$1" "$k" "$1" "$k"
        k=$((k + 1))
    done
    printf ']}'
}

# post NODE_URL FILE OUT: POST an envelope as w; prints the HTTP code
post() {
    curl -sS --max-time 60 -u w:pw -o "$3" -w '%{http_code}' \
        -H "Accept: $TAXII" -H "Content-Type: $TAXII" \
        --data-binary "@$2" "$1/api1/collections/$col/objects/"
}

objects 1 20 >"$tmp/e1.json"
code=$(post "$A" "$tmp/e1.json" "$tmp/p1.out")
check "a POST to node a is accepted" test "$code" = 202
sid=$(jq -r .id "$tmp/p1.out")
curl -sS --max-time 30 -u w:pw -H "Accept: $TAXII" \
    -o "$tmp/st.out" "$B/api1/status/$sid/"
check "node b serves the status node a made" \
    test "$(jq -r .success_count "$tmp/st.out")" = 20
curl -sS --max-time 30 -H "Authorization: Bearer $token" \
    -H "Accept: $TAXII" -o "$tmp/g.out" \
    "$B/api1/collections/$col/objects/?limit=100"
check "node b serves the objects written through node a" \
    test "$(jq '.objects | length' "$tmp/g.out")" = 20

# ---- writers on both nodes, a reader paging on b --------------------------
WRITES=6
writer() { # W NODE_URL: WRITES envelopes of 25 objects; acknowledged counts
    i=0
    while [ $i -lt $WRITES ]; do
        objects $(($1 * 100 + i)) 25 >"$tmp/w$1.json"
        c=$(post "$2" "$tmp/w$1.json" "$tmp/w$1.out")
        [ "$c" = 202 ] || echo "writer $1: POST answered $c" >>"$tmp/errors"
        jq -r .success_count "$tmp/w$1.out" >>"$tmp/acked.$1"
        i=$((i + 1))
    done
}
reader() { # pages b with added_after until the writers are done
    after=""
    : >"$tmp/seen"
    spins=0
    while [ $spins -lt 3000 ]; do
        spins=$((spins + 1))
        done_before=0
        [ -f "$tmp/writers.done" ] && done_before=1
        q="limit=50"
        [ -n "$after" ] && q="$q&added_after=$after"
        curl -sS --max-time 30 -u w:pw -H "Accept: $TAXII" -D "$tmp/r.h" \
            -o "$tmp/r.out" "$B/api1/collections/$col/objects/?$q" ||
            echo "reader: GET failed" >>"$tmp/errors"
        jq -r '.objects[]?.id' "$tmp/r.out" >>"$tmp/seen"
        last=$(tr -d '\r' <"$tmp/r.h" |
            sed -n 's/^[Xx]-[Tt][Aa][Xx][Ii][Ii]-[Dd]ate-[Aa]dded-[Ll]ast: //p')
        [ -n "$last" ] && after=$last
        n=$(jq '.objects | length' "$tmp/r.out" 2>/dev/null || echo 0)
        [ "$n" = 0 ] && [ $done_before = 1 ] && break
        [ "$n" = 0 ] && sleep 0.05
    done
}
reader &
rd=$!
writer 2 "$A" &
w2=$!
writer 3 "$B" &
w3=$!
wait $w2 $w3
: >"$tmp/writers.done"
wait $rd
check "no writer was refused" test ! -s "$tmp/errors"
total=$(cat "$tmp/acked.2" "$tmp/acked.3" | awk '{s += $1} END {print s}')
check "every object of both writers acknowledged" test "$total" = $((2 * WRITES * 25))
check "the reader paging on b saw every object once" \
    test "$(sort "$tmp/seen" | uniq | wc -l)" = $((20 + 2 * WRITES * 25)) -a \
    "$(wc -l <"$tmp/seen")" = $((20 + 2 * WRITES * 25))

# ---- rights and tokens take effect on every node at once -------------------
"$CAIRN" token revoke "$token" --data "$url" >/dev/null 2>>"$tmp/admin.err"
code=$(curl -sS --max-time 30 -o /dev/null -w '%{http_code}' \
    -H "Authorization: Bearer $token" -H "Accept: $TAXII" \
    "$B/api1/collections/$col/objects/?limit=1")
check "a token revoked is refused by node b at once" test "$code" = 401
"$CAIRN" revoke w "$col" --write --data "$url" >/dev/null 2>>"$tmp/admin.err"
code=$(post "$B" "$tmp/e1.json" "$tmp/p2.out")
check "a write right withdrawn is refused by node b at once" \
    test "$code" = 403 -o "$code" = 404

# ---- kill -9 of a node: what it acknowledged stays --------------------------
"$CAIRN" grant w "$col" --read --write --data "$url" >/dev/null 2>>"$tmp/admin.err"
objects 7 30 >"$tmp/e7.json"
code=$(post "$A" "$tmp/e7.json" "$tmp/p7.out")
kill -9 "$pga"
wait "$pga" 2>/dev/null
pga=""
curl -sS --max-time 30 -u w:pw -H "Accept: $TAXII" -o "$tmp/k.out" \
    "$B/api1/collections/$col/objects/?limit=100&match%5Bid%5D=indicator--00000000-0000-4000-8007-000000000029"
check "what node a acknowledged before kill -9 is on node b" \
    test "$code" = 202 -a "$(jq '.objects | length' "$tmp/k.out")" = 1

# ---- console admins, counts, the correlation index ---------------------------
printf 'pw\n' >"$tmp/pw"
stdin=$tmp/pw run user add adm --admin --data "$url"
expect 0 "cairn user add --admin on PostgreSQL"
L=33333333-3333-4333-8333-333333333333
run collection add --data "$url" --title L --id $L
expect 0 "a collection for the lookups"
run import --data "$url" --collection $L "$CAIRN_DATA/lookup/a.json"
expect 0 "an import into it"
run lookup --data "$url" --json 10.1.2.3
expect 0 "cairn lookup on PostgreSQL"
check "the address finds the CIDR block's indicator through the index" \
    sh -c "jq -e '.matches[0].id == \"indicator--a1000000-0000-4000-8000-000000000002\"' '$out'"
check "and no command printed the password" \
    sh -c "! grep -q Sekr1tPw '$out' '$err'"

# ---- secrets ------------------------------------------------------------------
check "the banner names the database without its password" \
    grep -q 'serving postgresql:.*password=\*\*\*' "$tmp/a.err" "$tmp/b.err"
check "no node and no command printed the password" \
    sh -c "! grep -q Sekr1tPw '$tmp/a.err' '$tmp/b.err' '$tmp/admin.err'"

kill -TERM "$pgb"
wait "$pgb"
check "node b stops cleanly" test $? -eq 0
pgb=""
no_crash_report "$tmp/a.err" "$tmp/b.err" || fail "a sanitizer report"

echo "postgres_nodes: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
