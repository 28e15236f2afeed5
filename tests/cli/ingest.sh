#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# One way into the store, as real intelligence arrives: statement markings
# (MITRE's copyright on every ATT&CK object) do not hide objects, custom
# _ref properties holding "" are warnings, an indicator whose pattern does
# not parse is refused by import and by TAXII POST alike, and what a push
# withholds is counted with the reason.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${CAIRN_SRC:?CAIRN_SRC must name the source tree}/tests/cli/lib.sh"
: "${CAIRN_DATA:?CAIRN_DATA must name tests/data}"
need curl jq
pid=""
at_exit='reap $pid'
d=$CAIRN_DATA/ingest
data=$tmp/data
cd "$tmp" || exit 2

printf 'pw-reader\n' >reader.pw
printf 'pw-writer\n' >writer.pw

# ---- a server with a plain reader (no identity, not a member) -------------
start_server --data "$data" --listen 127.0.0.1:0 ||
    { fail "cairn serve did not start"; cat "$errf"; exit 1; }
col=$(banner_collection "$errf")
check "the default collection is named in the banner" [ -n "$col" ]
stdin=reader.pw run user add reader --data "$data"
expect 0 "user add reader"
run grant reader "$col" --read --data "$data"
expect 0 "grant reader --read"
stdin=writer.pw run user add writer --data "$data"
run grant writer "$col" --read --write --data "$data"
expect 0 "grant writer"

# ---- statement markings and custom _ref values ----------------------------
run import -c "$col" --data "$data" "$d/attack-like.json"
expect 0 "import of ATT&CK-like objects (statement marking, x_..._ref \"\")"
check "...stores all 5 (got: $(tail -1 "$err"))" \
    grep -q ": 5 stored, 0 already present, 0 rejected" "$err"
n=$(curl -sS -u reader:pw-reader -H "Accept: $TAXII" \
    "$base/api1/collections/$col/objects/" | jq '.objects | length')
check "a plain reader sees all 5: a statement does not restrict ($n)" \
    [ "$n" = 5 ]

# ---- an indicator whose pattern does not parse -----------------------------
run import -c "$col" --data "$data" "$d/bad-pattern.json"
expect 1 "import of a bundle with an unparsable pattern"
check "...names the pattern's path and the parser's position" \
    grep -q "objects\[1\]\.pattern: error: the STIX pattern does not parse at character 38" \
    "$err"
check "...stores the good one and rejects the other" \
    grep -q ": 1 stored, 0 already present, 1 rejected" "$err"

bad=$(jq -c '{objects: [.objects[1]]}' "$d/bad-pattern.json")
st=$(curl -sS -u writer:pw-writer -H "Accept: $TAXII" \
    -H "Content-Type: $TAXII" --data-binary "$bad" \
    "$base/api1/collections/$col/objects/")
check "TAXII POST refuses it as well ($st)" \
    [ "$(printf '%s' "$st" | jq -c '[.success_count, .failure_count]')" = '[0,1]' ]
check "...saying why, at the pattern" \
    sh -c "printf '%s' '$st' | jq -r '.failures[0].message' |
        grep -q '^pattern: the STIX pattern does not parse'"

# ---- a push says what it withheld and why ---------------------------------
other=$("$CAIRN" collection add --title other --data "$data" 2>/dev/null)
run grant writer "$other" --read --write --data "$data"
red=$("$CAIRN" collection add --title red --data "$data" 2>/dev/null)
run import -c "$red" --data "$data" "$d/red-unnamed.json"
expect 0 "import of a GREEN and an unnamed RED indicator"
CAIRN_PASSWORD=pw-writer run push "$base/taxii2/" --collection "$other" \
    --from "$red" --user writer --data "$data"
expect 0 "push of GREEN and RED"
check "...sends the GREEN one, withholds the RED one ($(cat "$err"))" \
    grep -q ": 1 sent in 1 envelopes, 1 accepted, 0 rejected, 1 withheld (TLP)" \
    "$err"
check "...and says why: it names no one who may have it" \
    grep -q ": 1 withheld: TLP:RED .*no created_by_ref or x_cairn_recipients" \
    "$err"

# ---- MITRE ATT&CK for ICS, when the reference data is there ---------------
ics=${CAIRN_REF:-}/attack-ics/ics-attack-18.1.json
if [ -n "${CAIRN_REF:-}" ] && [ -f "$ics" ]; then
    attack=$("$CAIRN" collection add --title attack --data "$data" 2>/dev/null)
    run grant reader "$attack" --read --data "$data"
    run import -c "$attack" --data "$data" "$ics"
    expect 0 "import of ATT&CK for ICS 18.1"
    total=$(jq '.objects | length' "$ics")
    check "...stores every object ($(tail -1 "$err"), $total in the file)" \
        grep -q ": $total stored, 0 already present, 0 rejected" "$err"
    seen=$(taxii_ids "$base/api1/collections/$attack/objects/?limit=1000" \
        reader:pw-reader | wc -l | tr -d ' ')
    check "...and a plain reader reads all $total ($seen)" [ "$seen" = "$total" ]
else
    echo "skipped: ATT&CK for ICS (no \$CAIRN_REF/attack-ics)"
fi

stop_server
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
