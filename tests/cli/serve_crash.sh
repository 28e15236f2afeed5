#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Crash safety of `cairn serve`: a writer posts bundles in a loop while the
# server is killed with SIGKILL at random moments and started again. Every
# object whose POST was acknowledged (202 and its status complete) must be
# there afterwards; the store must open after every kill.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${CAIRN_SRC:?CAIRN_SRC must name the source tree}/tests/cli/lib.sh"
need curl jq

KILLS=10
PER=40   # objects per small envelope (answered synchronously)
BIG=1200 # every 4th envelope: over the synchronous limit, written by a job

pid=""
wpid=""
at_exit='reap $pid $wpid'

data=$tmp/data
# start: the server on $data (start_server sets $pid, $port and $base)
start() { start_server --data "$data" --listen 127.0.0.1:0; }

check "first start" start
col=$(banner_collection "$errf")
printf 'pw\n' | "$CAIRN" user add w --data "$data" >/dev/null 2>&1
"$CAIRN" grant w "$col" --read --write --data "$data" >/dev/null 2>&1
: >"$tmp/acked"

# writer ROUND: posts until the server goes away; appends the ids of every
# acknowledged envelope to $tmp/acked.
writer() {
    r=$1
    b=0
    base=http://127.0.0.1:$port
    while [ $b -lt 400 ]; do
        n=$PER
        [ $((b % 4)) -eq 3 ] && n=$BIG
        k=0
        : >"$tmp/ids"
        {
            printf '{"objects":['
            while [ $k -lt $n ]; do
                [ $k -gt 0 ] && printf ','
                id=$(printf 'indicator--00000000-0000-4000-8%03d-%06d%06d' \
                    "$r" "$b" "$k")
                echo "$id" >>"$tmp/ids"
                printf '{"type":"indicator","spec_version":"2.1","id":"%s","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","pattern":"[url:value = '"'"'http://x.example/%d'"'"']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}' \
                    "$id" "$k"
                k=$((k + 1))
            done
            printf ']}'
        } >"$tmp/env.json"
        code=$(curl -sS --max-time 20 -u w:pw -o "$tmp/w.out" \
            -w '%{http_code}' -H "Accept: $TAXII" \
            -H "Content-Type: $TAXII" --data-binary "@$tmp/env.json" \
            "$base/api1/collections/$col/objects/" 2>/dev/null)
        [ "$code" = 202 ] || return 0
        sid=$(jq -r .id "$tmp/w.out")
        st=$(jq -r .status "$tmp/w.out")
        t=0
        while [ "$st" != complete ] && [ $t -lt 200 ]; do
            sleep 0.05
            curl -sS --max-time 20 -u w:pw -H "Accept: $TAXII" \
                -o "$tmp/w.out" "$base/api1/status/$sid/" 2>/dev/null ||
                return 0
            st=$(jq -r .status "$tmp/w.out")
            t=$((t + 1))
        done
        [ "$st" = complete ] || return 0
        [ "$(jq -r .failure_count "$tmp/w.out")" = 0 ] ||
            echo "round $r batch $b: failures" >>"$tmp/errors"
        cat "$tmp/ids" >>"$tmp/acked"
        b=$((b + 1))
    done
}

round=1
restarts_ok=0
while [ $round -le $KILLS ]; do
    if [ $round -gt 1 ]; then
        start && restarts_ok=$((restarts_ok + 1))
    fi
    before=$(wc -l <"$tmp/acked")
    writer $round &
    wpid=$!
    # Kill after progress, not after a fixed time (a loaded machine may
    # not have answered anything yet): wait for this round's first
    # acknowledged envelope (60 s at most, or until the writer gives up),
    # then 0 to 1.3 s more, so kills land in parsing, writing, committing
    # and answering.
    t=0
    while [ "$(wc -l <"$tmp/acked")" -eq "$before" ] && [ $t -lt 1200 ] &&
        kill -0 "$wpid" 2>/dev/null; do
        sleep 0.05
        t=$((t + 1))
    done
    ms=$(( $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 1300 ))
    sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
    stop_server KILL 2>/dev/null
    wait "$wpid"
    wpid=""
    round=$((round + 1))
done
check "the server came back after every kill ($restarts_ok of $((KILLS - 1)))" \
    [ "$restarts_ok" -eq $((KILLS - 1)) ]

check "start after the last kill" start
taxii_ids "$base/api1/collections/$col/manifest/?limit=5000" w:pw \
    >"$tmp/present"
acked=$(sort -u "$tmp/acked" | wc -l)
check "some envelopes were acknowledged between kills ($acked objects)" \
    [ "$acked" -gt 0 ]
sort -u "$tmp/present" >"$tmp/present.s"
sort -u "$tmp/acked" >"$tmp/acked.s"
lost=$(comm -23 "$tmp/acked.s" "$tmp/present.s" | wc -l)
check "every acknowledged object survived ($lost of $acked lost)" \
    [ "$lost" -eq 0 ]
check "no acknowledged envelope had failures" [ ! -s "$tmp/errors" ]
# A large POST is answered 202 with its status pending while its job still
# writes; SIGKILL right after the answer loses the unwritten objects (never
# acknowledged as written), but the status must not stay pending forever:
# the next start finishes it with those objects failed.
jq -nc '{objects: [range(30000) | {type: "indicator", spec_version: "2.1",
    id: ("indicator--00000000-0000-4000-9000-" +
         ("000000000000" + tostring)[-12:]),
    created: "2024-01-01T00:00:00.000Z", modified: "2024-01-01T00:00:00.000Z",
    pattern: "[url:value = '"'"'http://y.example/\(.)'"'"']",
    pattern_type: "stix", valid_from: "2024-01-01T00:00:00Z"}]}' \
    >"$tmp/big.json"
base=http://127.0.0.1:$port
code=$(curl -sS --max-time 60 -u w:pw -o "$tmp/big.out" -w '%{http_code}' \
    -H "Accept: $TAXII" -H "Content-Type: $TAXII" \
    --data-binary "@$tmp/big.json" "$base/api1/collections/$col/objects/")
stop_server KILL 2>/dev/null
check "a 30000-object POST answers 202 ($code)" [ "$code" = 202 ]
check "...with its status pending" [ "$(jq -r .status "$tmp/big.out")" = pending ]
sid=$(jq -r .id "$tmp/big.out")
lines=$(wc -l <"$errf")
check "start after killing its job" start
check "...says it finished one status left pending" \
    sh -c "tail -n +$((lines + 1)) '$errf' |
        grep -q '1 status left pending'"
curl -sS --max-time 30 -u w:pw -H "Accept: $TAXII" -o "$tmp/st.out" \
    "http://127.0.0.1:$port/api1/status/$sid/"
check "the killed POST's status is complete now ($(jq -r .status "$tmp/st.out"))" \
    [ "$(jq -r .status "$tmp/st.out")" = complete ]
check "...with nothing pending" \
    [ "$(jq -r .pending_count "$tmp/st.out")" = 0 ]
check "...success + failure == total" \
    [ "$(jq -r '.success_count + .failure_count' "$tmp/st.out")" = \
        "$(jq -r .total_count "$tmp/st.out")" ]
check "...and the objects its job never wrote are failures" \
    [ "$(jq -r .failure_count "$tmp/st.out")" -gt 0 ]
jq -r '.successes[]?.id' "$tmp/st.out" | sort -u >"$tmp/succ.s"
taxii_ids "$base/api1/collections/$col/manifest/?limit=10000" w:pw \
    >"$tmp/present"
sort -u "$tmp/present" >"$tmp/present.s"
check "...it lists its successes ($(wc -l <"$tmp/succ.s"))" \
    [ -s "$tmp/succ.s" ]
check "...and every one of them is stored" \
    [ "$(comm -23 "$tmp/succ.s" "$tmp/present.s" | wc -l)" -eq 0 ]

stop_server TERM
check "a clean SIGTERM at the end exits 0 ($rc)" [ "$rc" -eq 0 ]
check "no sanitizer report from the server" no_crash_report "$errf"

echo "$passed passed, $failed failed ($acked objects acknowledged)"
[ "$failed" -eq 0 ]
