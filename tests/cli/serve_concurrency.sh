#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# `cairn serve` under 8 concurrent writers and 8 concurrent readers: every
# POST is acknowledged, and every reader that pages with added_after (and
# a final reader) sees every object exactly once -- nothing skipped,
# nothing repeated, nothing lost.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${CAIRN_SRC:?CAIRN_SRC must name the source tree}/tests/cli/lib.sh"
need curl jq

WRITERS=8
READERS=8
BATCHES=6 # envelopes per writer
PER=25    # objects per envelope
BIG=1500  # one envelope over the synchronous limit: written by a job

pid=""
at_exit='reap $pid'

data=$tmp/data
start_server --data "$data" --listen 127.0.0.1:0 --log "$tmp/access.log" || {
    echo "FAIL: the server did not start"
    cat "$errf"
    exit 1
}
col=$(banner_collection "$errf")
printf 'pw\n' | "$CAIRN" user add w --data "$data" >/dev/null 2>&1
"$CAIRN" grant w "$col" --read --write --data "$data" >/dev/null 2>&1
C=$base/api1/collections/$col

# objects W B N: N indicators of writer W, batch B, as an envelope
objects() {
    printf '{"objects":['
    k=0
    while [ $k -lt "$3" ]; do
        [ $k -gt 0 ] && printf ','
        printf '{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8%03d-%06d%06d","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","pattern":"[domain-name:value = '"'"'w%d-%d-%d.example'"'"']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}' \
            "$1" "$2" "$k" "$1" "$2" "$k"
        k=$((k + 1))
    done
    printf ']}'
}

writer() { # W: posts its batches; one line per acknowledged object count
    w=$1
    b=0
    while [ $b -lt $BATCHES ]; do
        n=$PER
        [ "$w" -eq 1 ] && [ $b -eq $((BATCHES - 1)) ] && n=$BIG
        objects "$w" "$b" "$n" >"$tmp/w$w.json"
        code=$(curl -sS --max-time 60 -u w:pw -o "$tmp/w$w.out" \
            -w '%{http_code}' -H "Accept: $TAXII" \
            -H "Content-Type: $TAXII" --data-binary "@$tmp/w$w.json" \
            "$C/objects/")
        [ "$code" = 202 ] || echo "writer $w: POST answered $code" \
            >>"$tmp/errors"
        sid=$(jq -r .id "$tmp/w$w.out")
        st=$(jq -r .status "$tmp/w$w.out")
        t=0
        while [ "$st" != complete ] && [ $t -lt 600 ]; do
            sleep 0.1
            curl -sS --max-time 30 -u w:pw -H "Accept: $TAXII" \
                -o "$tmp/w$w.out" "$base/api1/status/$sid/"
            st=$(jq -r .status "$tmp/w$w.out")
            t=$((t + 1))
        done
        jq -r .success_count "$tmp/w$w.out" >>"$tmp/acked.$w"
        b=$((b + 1))
    done
}

reader() { # R: pages with added_after until the writers are done and
    # a page comes back empty; every id seen goes to seen.R
    r=$1
    after=""
    : >"$tmp/seen.$r"
    spins=0
    while [ $spins -lt 3000 ]; do
        spins=$((spins + 1))
        q="limit=$((7 + r * 13))"
        [ -n "$after" ] && q="$q&added_after=$after"
        curl -sS --max-time 30 -u w:pw -H "Accept: $TAXII" \
            -D "$tmp/r$r.hdr" -o "$tmp/r$r.out" "$C/objects/?$q" || continue
        jq -r '.objects[]?.id' "$tmp/r$r.out" >>"$tmp/seen.$r"
        last=$(tr -d '\r' <"$tmp/r$r.hdr" |
            sed -n 's/^X-TAXII-Date-Added-Last: //Ip')
        if [ -n "$last" ]; then
            after=$last
        elif [ -e "$tmp/writers-done" ]; then
            break
        else
            sleep 0.05
        fi
    done
}

i=1
wpids=""
while [ $i -le $WRITERS ]; do
    writer $i &
    wpids="$wpids $!"
    i=$((i + 1))
done
i=1
rpids=""
while [ $i -le $READERS ]; do
    reader $i &
    rpids="$rpids $!"
    i=$((i + 1))
done
for p in $wpids; do wait "$p"; done
: >"$tmp/writers-done"
for p in $rpids; do wait "$p"; done

total=$((WRITERS * BATCHES * PER - PER + BIG))
check "every POST answered 202 ($(head -3 "$tmp/errors" 2>/dev/null))" \
    [ ! -s "$tmp/errors" ]
acked=$(cat "$tmp"/acked.* | awk '{s += $1} END {print s}')
check "every object was acknowledged ($acked of $total)" [ "$acked" -eq "$total" ]
i=1
while [ $i -le $READERS ]; do
    n=$(wc -l <"$tmp/seen.$i")
    u=$(sort -u "$tmp/seen.$i" | wc -l)
    check "reader $i saw every object ($u of $total)" [ "$u" -eq "$total" ]
    check "reader $i saw none twice ($n lines)" [ "$n" -eq "$u" ]
    i=$((i + 1))
done

# A final reader with next-cursors, from the start.
taxii_ids "$C/objects/?limit=1000" w:pw >"$tmp/final"
check "the final reader sees every object once ($(wc -l <"$tmp/final"))" \
    [ "$(wc -l <"$tmp/final")" -eq "$total" ] &&
    [ "$(sort -u "$tmp/final" | wc -l)" -eq "$total" ]
check "one access-log line per request" \
    [ "$(grep -c '"POST ' "$tmp/access.log")" -eq $((WRITERS * BATCHES)) ]

stop_server TERM
check "SIGTERM after the load exits 0 ($rc)" [ "$rc" -eq 0 ]
check "no sanitizer report from the server" no_crash_report "$errf"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
