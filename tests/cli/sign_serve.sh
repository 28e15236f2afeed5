#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# `[server] sign = KEY`: what a serving node creates itself is signed
# before it is stored (docs/signing.md). The response loop hunts the
# node's archive for a new indicator and stores a sighting (and the
# node's identity): `cairn verify` accepts them with the node's public
# key, a member pulling them with `signatures require` and that key
# accepts every one, a member trusting another key refuses them. A feed
# imported through the web console is signed too; a bundle imported
# there as it is, or POSTed, is not (the node did not create it), and
# goes through its collection's signature policy as a POST does.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${CAIRN_SRC:?CAIRN_SRC must name the source tree}/tests/cli/lib.sh"
need curl jq
pid_p=""
at_exit='reap $pid_p
[ "$failed" = 0 ] || cat "$tmp"/*.err'
cd "$tmp" || exit 2
ID_N=identity--5d1f0c1e-8a7b-4c3d-9e2f-0a1b2c3d4e5f
WAIT=1200 # tenths of a second, at most, for the loop

# served COLL > FILE: what the node serves of COLL, as a bundle
served() {
    curl -sS --max-time 30 -u reader:pw -H "Accept: $TAXII" \
        "http://127.0.0.1:$port_p/api1/collections/$1/objects/?limit=1000" |
        jq '{type: "bundle", id: "bundle--00000000-0000-4000-8000-000000000009",
             objects: (.objects // [])}'
}
sightings_in() { [ "$(served "$1" | jq '[.objects[] | select(.type == "sighting")] | length')" -ge 1 ]; }

printf 'pw\n' | "$CAIRN" user add reader --data p >/dev/null 2>&1 ||
    fail "user add"
ind=$("$CAIRN" collection add --title Indicators --data p 2>/dev/null)
sight=$("$CAIRN" collection add --title Sightings --data p 2>/dev/null)
feed=$("$CAIRN" collection add --title Feed --data p 2>/dev/null)
guarded=$("$CAIRN" collection add --title Guarded --data p 2>/dev/null)
check "collections created" [ -n "$ind" -a -n "$sight" -a -n "$feed" -a -n "$guarded" ]
"$CAIRN" grant reader "$sight" --read --data p >/dev/null 2>&1 &&
    "$CAIRN" grant reader "$feed" --read --write --data p >/dev/null 2>&1 &&
    "$CAIRN" grant reader "$guarded" --read --write --data p >/dev/null 2>&1 ||
    fail "grants"
"$CAIRN" key new node --identity "$ID_N" --data p >/dev/null 2>&1 ||
    fail "key new node"
"$CAIRN" key export node --data p >node.pub 2>/dev/null
"$CAIRN" key new stranger --data other >/dev/null 2>&1 &&
    "$CAIRN" key export stranger --data other >stranger.pub 2>/dev/null ||
    fail "key new stranger"
printf 'ts,query\n2024-03-01T10:00:00Z,c2.signed.example\n2024-03-01T10:00:01Z,benign.example\n' >dns.csv
run archive add --data p --sensor dns1 dns.csv
expect 0 "the node's DNS history is archived"

# A public key cannot sign: the server refuses to start.
printf '[server]\nsign = %s/node.pub\n' "$tmp" >pub.ini
run serve --data p --listen 127.0.0.1:0 --config pub.ini
expect 2 "[server] sign with a public key is refused"

cat >p.ini <<EOF
[server]
sign = node
[hunt]
indicators = $ind
sightings = $sight
org = the signing node
[collection $guarded]
signatures = require
trust = node.pub
EOF
check "the node starts" start_node p 127.0.0.1:0 "$tmp/p.ini"
i=0
while ! grep -q "response loop: hunting" p.err && [ $i -lt $WAIT ]; do
    sleep 0.1
    i=$((i + 1))
done
printf '{"type":"bundle","id":"bundle--00000000-0000-4000-8000-000000000001","objects":[{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-000000000001","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"c2","pattern":"[domain-name:value = '"'"'c2.signed.example'"'"']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}]}' >ind.json
run import --collection "$ind" --data p ind.json
expect 0 "an indicator arrives"
i=0
while ! sightings_in "$sight" && [ $i -lt $WAIT ]; do
    sleep 0.1
    i=$((i + 1))
done
served "$sight" >sight.json
check "the loop stored a sighting" sightings_in "$sight"
check "...and the node's identity" \
    [ "$(jq '[.objects[] | select(.type == "identity")] | length' sight.json)" = 1 ]
run verify --trust node.pub sight.json
expect 0 "cairn verify accepts the loop's objects with the node's key"
check "...signed for the node's identity" [ "$(jq -r --arg e \
    extension-definition--718342c2-66d1-4e46-a012-623a7b551ddb \
    '[.objects[].extensions[$e].signer] | unique | join(" ")' sight.json)" = "$ID_N" ]
run verify --trust stranger.pub sight.json
expect 1 "...and not with another key"

# A member pulls them under `require`.
m_coll=$("$CAIRN" collection add --title Member --data m 2>/dev/null)
printf 'pw\n' >pw
run pull "http://127.0.0.1:$port_p/taxii2/" --collection "$sight" \
    --into "$m_coll" --data m --user reader --password-file pw \
    --signatures require --trust node.pub
expect 0 "a member with require trusting the node's key accepts them"
n_objs=$(jq '.objects | length' sight.json)
check "...every one" said "signatures (require): $n_objs valid, 0 not"
m2_coll=$("$CAIRN" collection add --title Member2 --data m 2>/dev/null)
run pull "http://127.0.0.1:$port_p/taxii2/" --collection "$sight" \
    --into "$m2_coll" --data m --user reader --password-file pw \
    --signatures require --trust stranger.pub
expect 1 "a member trusting another key refuses them"
check "...saying why" said "refused: signature untrusted"

# ---- the web console ------------------------------------------------------------
ui=http://127.0.0.1:$port_p/ui
curl -sS -c jar -b jar -o login.html "$ui/login"
tok=$(sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' login.html | head -1)
curl -sS -c jar -b jar -o /dev/null --data-urlencode user=reader \
    --data-urlencode password=pw --data-urlencode "csrf=$tok" "$ui/login"
curl -sS -b jar -o import.html "$ui/import"
tok=$(sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' import.html | head -1)
check "the console's import form" [ -n "$tok" ]
printf 'list.signed.example\n203.0.113.77\n' >list.txt
curl -sS -b jar -o r.html -F "csrf=$tok" -F collection="$feed" -F store=1 \
    -F format=list -F "file=@list.txt" "$ui/import"
contains r.html '2 new' "the console stores the converted list"
printf '{"type":"bundle","id":"bundle--00000000-0000-4000-8000-000000000002","objects":[{"type":"malware","spec_version":"2.1","id":"malware--00000000-0000-4000-8000-000000000002","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"as given","is_family":true}]}' >given.json
curl -sS -b jar -o r.html -F "csrf=$tok" -F collection="$feed" -F store=1 \
    -F "file=@given.json" "$ui/import"
contains r.html '1 new' "the console stores a bundle as it is"
served "$feed" >feed.json
jq '.objects |= map(select(.type != "malware"))' feed.json >converted.json
check "...the list's indicators are there" \
    [ "$(jq '.objects | length' converted.json)" -ge 2 ]
run verify --trust node.pub converted.json
expect 0 "the console's conversions are signed with the node's key"
jq '.objects |= map(select(.type == "malware"))' feed.json >given-out.json
run verify --trust node.pub given-out.json
expect 1 "...a bundle imported as it is is not"
check "...it is unsigned" said "unsigned"

# A bundle imported through the console into a collection whose policy
# is require: the signed indicator (and the definition) are stored, the
# unsigned malware refused, with its reason, as a POST would.
run sign --key node --data p -o signed-ind.json ind.json
expect 0 "the node signs an indicator"
jq -c --slurpfile g given.json '.objects += $g[0].objects' signed-ind.json \
    >mixed.json
curl -sS -b jar -o r.html -F "csrf=$tok" -F collection="$guarded" -F store=1 \
    -F "file=@mixed.json" "$ui/import"
contains r.html '2 new, 0 already there, 1 invalid' \
    "the console stores the signed objects into the require collection"
contains r.html 'malware--00000000-0000-4000-8000-000000000002' \
    "...and names the unsigned one"
contains r.html 'refused: signature unsigned' "...refused as unsigned"
check "...which is not stored" [ "$(served "$guarded" | jq -r \
    '[.objects[].type] | sort | join(" ")')" = "extension-definition indicator" ]
served "$guarded" >guarded.json
run verify --trust node.pub guarded.json
expect 0 "...what it stored is the producer's bytes, still verified"

stop_node p
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
