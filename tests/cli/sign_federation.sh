#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Three real `cairn serve` nodes on loopback: a producer signs its
# indicators, a hub relays them (and, compromised, alters one and adds
# some of its own), a member with `signatures = require` accepts exactly
# the producer's objects as signed, and says why it refuses each other
# one; `check` stores them all, marked; POST into a collection whose
# policy is require answers each refusal in the status; what the nodes
# serve still verifies (the relay kept the producer's bytes).
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${CAIRN_SRC:?CAIRN_SRC must name the source tree}/tests/cli/lib.sh"
need curl jq
pid_p=""
pid_hub=""
pid_m=""
at_exit='reap $pid_p $pid_hub $pid_m
[ "$failed" = 0 ] || cat "$tmp"/*.err'
cd "$tmp" || exit 2
EXT=extension-definition--718342c2-66d1-4e46-a012-623a7b551ddb
ID_P=identity--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061

indicator() { # indicator N
    printf '{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-%012d","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"ioc %d","pattern":"[ipv4-addr:value = '"'"'10.0.0.%d'"'"']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}' \
        "$1" "$1" "$1"
}
wrap() {
    printf '{"type":"bundle","id":"bundle--00000000-0000-4000-8000-000000000001","objects":['
    sep=""
    for o in "$@"; do
        printf '%s%s' "$sep" "$o"
        sep=","
    done
    printf ']}'
}
ind() { printf 'indicator--00000000-0000-4000-8000-%012d' "$1"; }
user() { # user NODE NAME
    printf 'pw\n' | "$CAIRN" user add "$2" --data "$tmp/$1" >/dev/null 2>&1 ||
        fail "user add $2 on $1"
}
coll() { # coll NODE TITLE: prints the new collection's id
    "$CAIRN" collection add --title "$2" --data "$tmp/$1" 2>/dev/null
}
grant() { # grant NODE USER COLL RIGHTS...
    n=$1
    shift
    "$CAIRN" grant "$@" --data "$tmp/$n" >/dev/null 2>&1 || fail "grant $*"
}
# served NODE COLL > FILE: what NODE serves of COLL, as a bundle
served() {
    eval "p=\$port_$1"
    curl -sS --max-time 30 -u reader:pw -H "Accept: $TAXII" \
        "http://127.0.0.1:$p/api1/collections/$2/objects/?limit=1000" |
        jq '{type: "bundle", id: "bundle--00000000-0000-4000-8000-000000000009",
             objects: (.objects // [])}'
}
ids() { served "$1" "$2" | jq -r '.objects[].id' | sort | tr '\n' ' '; }

for n in p hub m; do user "$n" reader; done
user m writer
p_ind=$(coll p Indicators)
p_feed=$(coll p Feed)
hub_ind=$(coll hub Relayed)
m_req=$(coll m "Required")
m_sync=$(coll m "By sync")
m_chk=$(coll m "Checked")
m_post=$(coll m "Posted")
check "collections created" [ -n "$p_ind" -a -n "$p_feed" -a -n "$hub_ind" \
    -a -n "$m_req" -a -n "$m_sync" -a -n "$m_chk" -a -n "$m_post" ]
grant p reader "$p_ind" --read
grant p reader "$p_feed" --read
grant hub reader "$hub_ind" --read
for c in "$m_req" "$m_sync" "$m_chk" "$m_post"; do grant m reader "$c" --read; done
grant m writer "$m_post" --write

# ---- the producer signs ------------------------------------------------------
"$CAIRN" key new producer --identity "$ID_P" --data p >/dev/null 2>&1 ||
    fail "key new producer"
"$CAIRN" key export producer --data p >producer.pub 2>/dev/null
"$CAIRN" key new rogue --data hub >/dev/null 2>&1 || fail "key new rogue"
wrap "$(indicator 1)" "$(indicator 2)" "$(indicator 3)" "$(indicator 4)" \
    >plain.json
run sign --key producer --data p -o signed.json plain.json
expect 0 "the producer signs its bundle"
run import --collection "$p_ind" --data p signed.json
expect 0 "...and stores it"
# What it creates from a feed is signed before it is stored.
printf 'evil.example\nbad.example\n' >list.txt
run feed import --format list --into "$p_feed" --sign producer --data p list.txt
expect 0 "feed import --sign"

check "the producer starts" start_node p
check "the hub starts" start_node hub
P_URL=http://127.0.0.1:$port_p/taxii2/
HUB_URL=http://127.0.0.1:$port_hub/taxii2/
served p "$p_feed" >feed.json
run verify --trust producer.pub feed.json
expect 0 "the feed's objects, as the producer serves them, verify"
check "...and there were some" [ "$(jq '.objects | length' feed.json)" -ge 2 ]

# ---- the hub: a relay, then compromised ------------------------------------
# It alters indicator 3 before the producer's copy arrives (so it serves
# its own), signs one of its own with a key nobody trusts, adds one
# unsigned.
jq -c '.objects[] | select(.id == "'"$(ind 3)"'") |
       .pattern = "[domain-name:value = '"'"'bank.example'"'"']"' \
    signed.json >altered.obj
wrap "$(indicator 5)" >five.json
"$CAIRN" sign --key rogue --data hub -o rogue.json five.json >/dev/null 2>&1 ||
    fail "rogue signs"
jq -c '.objects[0]' rogue.json >rogue.obj
wrap "$(cat altered.obj)" "$(cat rogue.obj)" "$(indicator 6)" >hub-own.json
run import --collection "$hub_ind" --data hub hub-own.json
expect 0 "the hub stores its own objects"
printf 'pw\n' >pw
run pull "$P_URL" --collection "$p_ind" --into "$hub_ind" --data hub \
    --user reader --password-file pw
expect 1 "the hub relays the producer's collection (its altered 3 conflicts)"
check "the hub serves 1-6 and the definition" \
    [ "$(ids hub "$hub_ind")" = "$EXT $(ind 1) $(ind 2) $(ind 3) $(ind 4) $(ind 5) $(ind 6) " ]
served hub "$hub_ind" >hub.json
run verify -q --trust producer.pub hub.json
expect 1 "verify of what the hub serves finds the bad ones"
check "...the relayed ones verify: only 3, 5 and 6 are named" \
    [ "$(grep -c '^hub.json: ' "$err")" = 3 ]
check "...3 was altered" said "$(ind 3): bad: "
check "...5 signed by a stranger" said "$(ind 5): untrusted: "
check "...6 unsigned" said "$(ind 6): unsigned: "

# ---- the member: require -------------------------------------------------------
run pull "$HUB_URL" --collection "$hub_ind" --into "$m_req" --data m \
    --user reader --password-file pw --signatures require \
    --trust producer.pub
expect 1 "pull --signatures require: some refused, exit 1"
check "...the report refuses 3: altered" \
    said "$(ind 3).*refused: signature bad: .*changed after it was signed"
check "...5: untrusted key" said "$(ind 5).*refused: signature untrusted"
check "...6: unsigned" said "$(ind 6).*refused: signature unsigned"
check "...and counts" said "signatures (require): 4 valid, 3 not (refused)"

cat >m.ini <<EOF
[server]
data = m
[collection $m_post]
signatures = require
trust = producer.pub
EOF
check "the member starts" start_node m 127.0.0.1:0 "$tmp/m.ini"
check "the member holds exactly the producer's 1, 2, 4 and the definition" \
    [ "$(ids m "$m_req")" = "$EXT $(ind 1) $(ind 2) $(ind 4) " ]
served m "$m_req" >m.json
run verify --trust producer.pub m.json
expect 0 "what the member serves verifies: the bytes came through two relays"

# The same through a [peer] section and `cairn sync`.
cat >sync.ini <<EOF
[server]
data = m
[peer hub]
url = $HUB_URL
user = reader
password_file = pw
signatures = require
trust = producer.pub
pull = $hub_ind -> $m_sync
EOF
run sync --config sync.ini
check "sync with signatures = require logs each refusal" \
    said "$(ind 3).*refused: signature bad"
check "...and the count" said "signatures (require): 4 valid, 3 not"
check "...and stores only the producer's" \
    [ "$(ids m "$m_sync")" = "$EXT $(ind 1) $(ind 2) $(ind 4) " ]

# check: everything stored, the others marked.
run pull "$HUB_URL" --collection "$hub_ind" --into "$m_chk" --data m \
    --user reader --password-file pw --signatures check --trust producer.pub
expect 0 "pull --signatures check stores all"
check "...marking 3" said "$(ind 3).*stored, marked: signature bad"
check "...and 6" said "$(ind 6).*stored, marked: signature unsigned"
check "...all seven there" [ "$(ids m "$m_chk" | wc -w)" = 7 ]
# The marks are kept beside the versions, the bytes as they came, and
# `cairn verify --marks` reads them.
run verify --marks --collection "$m_chk" --data m
expect 1 "verify --marks: some versions are marked"
check "...3, 5 and 6 are marked, no other" \
    [ "$(cut -d' ' -f2 "$out" | tr '\n' ' ')" = "$(ind 3) $(ind 5) $(ind 6) " ]
check "...3's mark says why" \
    printed "^$m_chk: $(ind 3) 2024-01-01T00:00:00.000Z: signature bad: "
check "...5's too" printed "^$m_chk: $(ind 5) .*: signature untrusted: "
check "...and counts" said "^3 marked object versions$"
run verify --marks --data m
expect 1 "verify --marks without --collection: every collection's"
check "...the same three (no other collection has marks)" \
    [ "$(wc -l <"$out")" = 3 ]
run verify --marks --collection "$m_sync" --data m
expect 0 "verify --marks: the require collection has none"
check "...prints none" [ ! -s "$out" ]
run verify --marks --collection 5a0ee4a5-8c6b-4e8f-9d2e-3c1f0a9b8d7e --data m
expect 2 "verify --marks of no collection"
check "...says so" said "no collection 5a0ee4a5-8c6b-4e8f-9d2e-3c1f0a9b8d7e"
run verify --collection "$m_chk" --data m hub.json
expect 2 "verify --collection without --marks is a usage error"
run verify --marks --data m hub.json
expect 2 "verify --marks with a FILE is a usage error"
served m "$m_chk" >chk.json
check "...3's bytes are the hub's" [ "$(jq -c '.objects[] | select(.id == "'"$(ind 3)"'")' chk.json)" = "$(jq -c '.objects[] | select(.id == "'"$(ind 3)"'")' hub.json)" ]

# ---- POST under [collection] signatures = require -----------------------------
jq -c '{objects: [.objects[] | select(.id != "'"$EXT"'")]}' hub.json >env.json
curl -sS --max-time 30 -u writer:pw -H "Accept: $TAXII" \
    -H "Content-Type: $TAXII" --data-binary @env.json \
    "http://127.0.0.1:$port_m/api1/collections/$m_post/objects/" >status.json
check "POST: 3 successes (1, 2, 4)" [ "$(jq .success_count status.json)" = 3 ]
check "...3 failures" [ "$(jq .failure_count status.json)" = 3 ]
check "...each with its reason" [ "$(jq -r '.failures[] | "\(.id) \(.message)"' \
    status.json | grep -c 'signature \(bad\|untrusted\|unsigned\)')" = 3 ]
check "...3 is bad" sh -c "jq -r '.failures[] | \"\\(.id) \\(.message)\"' \
    status.json | grep -q '^$(ind 3) signature bad'"

stop_node m
stop_node hub
stop_node p
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
