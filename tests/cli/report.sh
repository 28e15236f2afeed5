#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Analysis at the hub (docs/analysis.md): `cairn report sightings` (distinct
# organisations, the privacy threshold, false positives, collections,
# --since, scores and --min-score), warninglists flagged on import and
# named by lookup, malformed warninglists, and GET /ROOT/cairn/sightings
# for users of each right.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${CAIRN_SRC:?CAIRN_SRC must name the source tree}/tests/cli/lib.sh"
: "${CAIRN_DATA:?CAIRN_DATA must name tests/data}"
need curl jq

cd "$tmp" || exit 2
data=$tmp/data
d=$CAIRN_DATA/report
wl=$CAIRN_SRC/examples/warninglists
A=11111111-1111-4111-8111-111111111111
B=22222222-2222-4222-8222-222222222222
I1=indicator--c1000000-0000-4000-8000-000000000001
I2=indicator--c1000000-0000-4000-8000-000000000002
I3=indicator--c1000000-0000-4000-8000-000000000003
pw='Report-Test-Password-5517'
printf '%s\n' "$pw" >pw.txt
# the indicators are valid from today, so that they have not decayed
sed "s/VALID_FROM/$(date -u +%Y-%m-%dT00:00:00Z)/" "$d/a.json" >a.json

for u in alice bob carol; do
    stdin=pw.txt run user add "$u" --data "$data"
done
run collection add --data "$data" --title A --id $A
run collection add --data "$data" --title B --id $B
run grant alice $A --read --data "$data"
run grant bob $B --read --data "$data"
run grant carol $A --write --data "$data"

# ---- warninglists on import ----------------------------------------------------
run import --data "$data" --collection $A --warninglists "$wl" a.json
expect 0 "import with warninglists"
check "the value on a list is reported with the list's name" \
    said "$I2: warning: 203.0.113.9 is on warninglist 'Special-purpose address ranges' (stored, flagged)"
check "and counted; nothing is dropped" said "16 stored, 0 already present, 0 rejected, 1 flagged"
run import --data "$data" --collection $B "$d/b.json"
expect 0 "import into B"
run import --data "$data" --collection $B --warninglists "$CAIRN_DATA/warninglists-bad" "$d/b.json"
expect 0 "malformed warninglists do not stop an import"
check "a malformed list is named with its file and place" \
    said "a-broken.json: line 2: warning: not JSON"
check "a bad entry is named with its index" \
    said "b-entries.json: list\[1\]: warning: not a valid cidr entry"
run import --data "$data" --collection $B --warninglists /nonexistent "$d/b.json"
expect 2 "an unreadable warninglist path is an error"

# ---- the report ------------------------------------------------------------------
run report sightings --data "$data" --json
expect 0 "report sightings"
check "newest sighting first" \
    jq -e "[.indicators[].id] == [\"$I2\", \"$I1\", \"$I3\"]" out
check "distinct organisations: where_sighted_refs, else the creator" \
    jq -e ".indicators[1].organisations == 4 and .indicators[1].sightings == 8" out
check "a pseudonym counts as one organisation; false positives apart" \
    jq -e '.indicators[0].organisations == 3 and .indicators[0].false_positive_organisations == "fewer than 3"' out
check "below the threshold: fewer than 3, and no identities" \
    jq -e '(.indicators[2].organisations == "fewer than 3") and (.indicators[2] | has("identities") | not) and .threshold == 3' out
check "sightings per collection" \
    jq -e ".indicators[0].collections == [{\"collection\": \"$A\", \"sightings\": 2}, {\"collection\": \"$B\", \"sightings\": 5}]" out
check "an expired indicator scores 0, a fresh one sighted by 4 scores 100" \
    jq -e '.indicators[2].score == 0 and .indicators[1].score == 100' out
run report sightings --data "$data" --json --identities --threshold 5
check "--identities: exact counts and who" \
    jq -e '.indicators[2].organisations == 1 and .indicators[2].identities == ["identity--c0000002-0000-4000-8000-000000000000"] and .threshold == 5' out
# A sighting by two organisations counts for each of them.
check "--identities: each organisation's sightings, the one organisation's all of them" \
    jq -e '([.indicators[] | .sightings as $t | (.identity_sightings | length) == (.identities | length) and all(.identity_sightings[]; . >= 1 and . <= $t) and (.identity_sightings | add) >= $t] | all) and .indicators[2].identity_sightings == [.indicators[2].sightings]' out
run report sightings --data "$data" --json --threshold 5
check "--threshold 5 hides 4" jq -e '.indicators[1].organisations == "fewer than 5"' out
run report sightings --data "$data" --json --by day
expect 0 "report sightings --by day"
check "per day: the periods add up to the sightings, oldest first" \
    jq -e '.by == "day" and ([.indicators[] | ([.periods[].sightings] | add) == .sightings] | all) and ([.indicators[] | [.periods[].start] | . == sort] | all)' out
run report sightings --data "$data" --json --by week
check "per week: each period starts on a Monday" \
    jq -e '.by == "week" and ([.indicators[].periods[].start + "T00:00:00Z" | fromdateiso8601 | strftime("%u") == "1"] | all) and ([.indicators[] | ([.periods[].sightings] | add) == .sightings] | all)' out
run report sightings --data "$data" --by day
check "the text report lists the days" sh -c "grep -Eq '^    [0-9]{4}-[0-9]{2}-[0-9]{2}  sightings [0-9]+$' '$out'"
run report sightings --data "$data" --by month
expect 2 "--by month is refused"
run report sightings --data "$data" --json --collection $B
check "--collection: that collection's sightings only" \
    jq -e ".indicators | length == 1 and .[0].id == \"$I2\" and .[0].sightings == 5" out
run report sightings --data "$data" --json --since 2026-11-03T00:00:00Z
check "--since: sightings last seen since then" \
    jq -e ".indicators | map(.id) == [\"$I2\", \"$I1\"] and .[1].sightings == 5" out
run report sightings --data "$data" --json --min-score 60
check "--min-score" jq -e "[.indicators[].id] == [\"$I1\"]" out
run report sightings --data "$data" --json --warninglists "$wl"
check "a warninglisted indicator scores a quarter" \
    jq -e '.indicators[0].score == 12' out
run report sightings --data "$data"
check "text: one line per indicator" printed "^$I1  organisations 4  sightings 8  last 2026-11-04T00:00:00Z  score 100  Widespread C2"
run report --data "$data"
expect 2 "no report named"
run report sightings --data "$data" --threshold 0
expect 2 "a threshold of 0"

# ---- lookup: scores and warninglists ---------------------------------------------
run lookup --data "$data" --json --warninglists "$wl" 203.0.113.9
check "lookup names the warninglist" \
    jq -e '.warninglists == ["Special-purpose address ranges"] and .matches[0].score == 12' out
run lookup --data "$data" c2.widespread.example
check "lookup shows the score" printed "$I1  matched c2.widespread.example  in $A  score 100"

# ---- hunting skips warninglisted indicators ---------------------------------------
printf 'query c2.widespread.example from 203.0.113.9\n' >log.txt
run hunt --data "$data" --collection $A --warninglists "$wl" --jsonl log.txt
expect 1 "hunt with warninglists finds the domain"
check "the warninglisted indicator is not hunted, with the list's name" \
    said "$I2: not hunted: 203.0.113.9 is on warninglist 'Special-purpose address ranges'"
check "only the domain hits" sh -c "jq -r .indicator '$out' | tr '\n' ' ' | grep -qx '$I1 '"
CAIRN_WARNINGLISTS=$wl run hunt --data "$data" --collection $A --include-warninglisted --jsonl log.txt
check "--include-warninglisted hunts it too" \
    sh -c "jq -r .indicator '$out' | sort | tr '\n' ' ' | grep -qx '$I1 $I2 '"

# ---- [analysis] score settings ------------------------------------------------------
printf '[server]\ndata = %s\n[analysis]\ndecay = ipv4 30 0.3, domain -1 2\n' "$data" >bad.ini
run serve --config bad.ini --listen 127.0.0.1:0
expect 2 "a bad decay setting stops serve"
check "naming the entry and the line" said "bad.ini:4: decay: 'domain -1 2' is not TYPE DAYS SPEED"

# ---- over HTTP ---------------------------------------------------------------------
printf '[server]\ndata = %s\n[analysis]\nwarninglists = %s\ndefault_confidence = 60\nsource_confidence = identity--c0000001-0000-4000-8000-000000000000 70\ndecay = ipv4 60 0.5\n' "$data" "$wl" >serve.ini
start_server --config serve.ini --listen 127.0.0.1:0 || fail "serve starts"
at_exit='reap $pid'
get() {
    curl -sS --max-time 30 -o "$tmp/body" -w '%{http_code}' -u "$1:$pw" "$base$2"
}
S=/api1/cairn/sightings
check "alice: 200" [ "$(get alice $S)" = 200 ]
check "alice counts A's sightings only, under the threshold as fewer than 3" \
    jq -e "[.indicators[].id] == [\"$I2\", \"$I1\", \"$I3\"] and .indicators[0].organisations == \"fewer than 3\" and .indicators[0].sightings == 2 and .indicators[1].organisations == 4 and (.indicators[1] | has(\"identities\") | not)" body
check "bob: B's sighting only" [ "$(get bob $S)" = 200 ]
check "bob sees one sighting, no score of an indicator he cannot read" \
    jq -e ".indicators | length == 1 and .[0].sightings == 5 and (.[0] | has(\"score\") | not) and (.[0] | has(\"name\") | not)" body
check "carol (write only): 200, nothing" [ "$(get carol $S)" = 200 ]
cp body carol.json
check "carol sees an empty report" jq -e '.indicators == []' carol.json
c1=$(get bob "$S?collection=$A")
cp body hidden.json
c2=$(get bob "$S?collection=33333333-3333-4333-8333-333333333333")
check "a collection bob may not read is as absent as one nowhere ($c1, $c2)" \
    sh -c "[ $c1 = 404 ] && [ $c2 = 404 ] && cmp -s hidden.json body"
run user set alice --identities --data "$data"
expect 0 "user set --identities"
run user list --sharing --data "$data"
check "user list --sharing names the entitlement" printed "alice  -  -  identities"
check "alice, entitled to the identities: 200" [ "$(get alice $S)" = 200 ]
check "exact counts below the threshold and the organisations' ids" \
    jq -e '(.indicators[0].organisations | type) == "number" and (.indicators[0].identities | length) == .indicators[0].organisations' body
check "bob, not entitled, still sees the threshold" [ "$(get bob $S)" = 200 ]
check "fewer than 3 for bob" \
    jq -e '.indicators[0].organisations == "fewer than 3" and (.indicators[0] | has("identities") | not)' body
run user set alice --no-identities --data "$data"
check "--no-identities: 200" [ "$(get alice $S)" = 200 ]
check "and the threshold again" jq -e '.indicators[0].organisations == "fewer than 3"' body
check "HTTP lookup: 200" [ "$(get alice "/api1/cairn/lookup?value=c2.widespread.example")" = 200 ]
check "with the indicator's score" jq -e ".matches[0].id == \"$I1\" and .matches[0].score == 100" body
check "?since" [ "$(get alice "$S?since=2026-11-05T00:00:00Z")" = 200 ]
check "filters" jq -e "[.indicators[].id] == [\"$I2\"]" body
check "a bad since: 400" [ "$(get alice "$S?since=yesterday")" = 400 ]
check "?by=week: 200" [ "$(get alice "$S?by=week")" = 200 ]
check "with periods" jq -e '.by == "week" and ([.indicators[] | ([.periods[].sightings] | add) == .sightings] | all)' body
check "?by=year: 400" [ "$(get alice "$S?by=year")" = 400 ]
run grant carol $A --write --data "$data"
cat >post.json <<'EOB'
{"type": "bundle", "id": "bundle--c0000000-0000-4000-8000-0000000000aa", "objects": [{"type": "indicator", "spec_version": "2.1", "id": "indicator--c1000000-0000-4000-8000-0000000000aa", "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z", "pattern": "[ipv4-addr:value = '8.8.8.8']", "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z"}]}
EOB
code=$(curl -sS --max-time 30 -o body -w '%{http_code}' -u "carol:$pw" -X POST \
    -H 'Accept: application/taxii+json;version=2.1' \
    -H 'Content-Type: application/taxii+json;version=2.1' \
    --data-binary @post.json "$base/api1/collections/$A/objects/")
check "POST of a warninglisted indicator: stored ($code)" \
    sh -c "[ $code = 202 ] && jq -e '.success_count == 1' body >/dev/null"
check "and flagged in the server's log with the list's name" \
    grep -q "indicator--c1000000-0000-4000-8000-0000000000aa: 8.8.8.8 is on warninglist 'Public DNS resolvers' (stored, flagged)" "$errf"
# ---- pull with warninglists, outside the server -----------------------------------
run collection add --data "$tmp/d2" --title copy --id $B
CAIRN_PASSWORD=$pw run pull "$base/api1/" --collection $A --into $B \
    --data "$tmp/d2" --user alice --warninglists "$wl"
expect 0 "pull with warninglists"
check "a pulled indicator on a list is flagged with the list's name" \
    said "$I2: 203.0.113.9 is on warninglist 'Special-purpose address ranges' (stored, flagged)"
stop_server
check "the server stops cleanly" [ "$rc" -eq 0 ]
check "no sanitizer report from the server" no_crash_report "$errf"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
