#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# `cairn lookup` and GET /ROOT/cairn/lookup and /neighbourhood: the
# correlation index with the hunt's semantics (parent domains, CIDR
# blocks, URL hosts, defanged values), what refers to the objects found,
# the index built for a store written before it, and users who see only
# what they may read, with nothing else leaking through counts or errors.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${CAIRN_SRC:?CAIRN_SRC must name the source tree}/tests/cli/lib.sh"
: "${CAIRN_DATA:?CAIRN_DATA must name tests/data}"
need curl jq sqlite3

cd "$tmp" || exit 2
data=$tmp/data
d=$CAIRN_DATA/lookup
A=11111111-1111-4111-8111-111111111111
B=22222222-2222-4222-8222-222222222222
pw='Lookup-Test-Password-8231'
printf '%s\n' "$pw" >pw.txt

for u in alice bob carol dave; do
    stdin=pw.txt run user add "$u" --data "$data"
done
run collection add --data "$data" --title A --id $A
run collection add --data "$data" --title B --id $B
run import --data "$data" --collection $A "$d/a.json" "$d/red.json"
expect 0 "import into A"
run import --data "$data" --collection $B "$d/b.json"
expect 0 "import into B"
run grant alice $A --read --data "$data"
run grant bob $B --read --data "$data"
run grant carol $A --write --data "$data"

# ---- the command ---------------------------------------------------------------
run lookup --data "$data" x.avsvmcloud.com
expect 0 "lookup of a subdomain"
check "the subdomain finds its parent's indicator" \
    printed "indicator--a1000000-0000-4000-8000-000000000001  matched avsvmcloud.com "
check "and the subdomain's own" \
    printed "indicator--b1000000-0000-4000-8000-000000000001  matched x.avsvmcloud.com "
check "the sightings of the indicator, in both collections" \
    sh -c "grep -c 'sighting_of_ref indicator--a1' '$out' | grep -qx 2"
check "the report that lists it" \
    printed "report--a3000000-0000-4000-8000-000000000001  object_refs"
run lookup --data "$data" --json 10.1.2.3
expect 0 "lookup of an address"
check "the address finds the CIDR block's indicator" \
    sh -c "jq -e '.matches[0].matched == \"10.0.0.0/8\" and .matches[0].id == \"indicator--a1000000-0000-4000-8000-000000000002\"' '$out'"
check "and the sighting of it" \
    sh -c "jq -e '[.related[].id] == [\"sighting--a2000000-0000-4000-8000-000000000002\"]' '$out'"
run lookup --data "$data" --json 198.51.100.7
check "an SCO, the observed-data that holds it, the sighting of that" \
    sh -c "jq -e '([.matches[].id] == [\"ipv4-addr--a4000000-0000-4000-8000-000000000001\"]) and ([.related[].id] | sort == [\"observed-data--a5000000-0000-4000-8000-000000000001\", \"sighting--a2000000-0000-4000-8000-000000000002\"])' '$out'"
run lookup --data "$data" --json 'hxxp://EVIL[.]example:80/a'
check "a defanged URL, normalised, finds the URL in a pattern" \
    sh -c "jq -e '.matches[0].id == \"indicator--a1000000-0000-4000-8000-000000000003\"' '$out'"
run lookup --data "$data" --json D5B4E8D6B0E1F8C1E9A1D5B4E8D6B0E1F8C1E9A1D5B4E8D6B0E1F8C1E9A1D5B4
check "a hash in upper case finds the same indicator" \
    sh -c "jq -e '.matches[0].id == \"indicator--a1000000-0000-4000-8000-000000000003\"' '$out'"
run lookup --data "$data" avsvmcloud.net
expect 1 "a value nowhere: exit 1"
check "and says so" printed "0 objects, 0 related"
run lookup --data "$data" --object indicator--a1000000-0000-4000-8000-000000000001
expect 0 "the neighbourhood of an indicator"
check "referred to by two sightings and a report" \
    sh -c "jq -e '[.referred_by[].id] | sort == [\"report--a3000000-0000-4000-8000-000000000001\", \"sighting--a2000000-0000-4000-8000-000000000001\", \"sighting--b2000000-0000-4000-8000-000000000001\"]' '$out'"
run lookup --data "$data" --object sighting--a2000000-0000-4000-8000-000000000001
check "a sighting refers to its indicator and the identity" \
    sh -c "jq -e '[.refers_to[] | .via] | sort == [\"sighting_of_ref\", \"where_sighted_refs\"]' '$out'"
run lookup --data "$data" --object indicator--ffffffff-0000-4000-8000-000000000001
expect 1 "the neighbourhood of an object not there"
run lookup --data "$data"
expect 2 "no operand"

# ---- a store written before the index -------------------------------------------
cp "$data/cairn.db" old.db
sqlite3 old.db 'DROP TABLE obj_keys; ALTER TABLE users DROP COLUMN admin;
    UPDATE schema_version SET version = 4'
mkdir old && mv old.db old/cairn.db && chmod 700 old
run lookup --data old --json x.avsvmcloud.com
expect 0 "lookup in a store of schema 4"
check "the migration indexed the objects it held" \
    sh -c "jq -e '.matches | length == 2' '$out'"
check "and the store is at the latest schema (7)" \
    [ "$(sqlite3 old/cairn.db 'SELECT version FROM schema_version')" = 7 ]

# ---- over HTTP, for users of each right -----------------------------------------
start_server --data "$data" --listen 127.0.0.1:0 || fail "serve starts"
at_exit='reap $pid'
# get USER PATH: the body to $tmp/body, the status printed
get() {
    if [ "$1" = - ]; then
        curl -sS --max-time 30 -o "$tmp/body" -w '%{http_code}' "$base$2"
    else
        curl -sS --max-time 30 -o "$tmp/body" -w '%{http_code}' \
            -u "$1:$pw" "$base$2"
    fi
}
L=/api1/cairn/lookup
check "no credentials: 401" [ "$(get - "$L?value=avsvmcloud.com")" = 401 ]
check "alice: 200" [ "$(get alice "$L?value=x.avsvmcloud.com")" = 200 ]
check "alice sees the indicator of A, not the one of B" \
    jq -e '[.matches[].id] == ["indicator--a1000000-0000-4000-8000-000000000001"]' body
check "alice sees the sighting and report of A, not the sighting of B" \
    jq -e '[.related[].id] | sort == ["report--a3000000-0000-4000-8000-000000000001", "sighting--a2000000-0000-4000-8000-000000000001"]' body
check "bob: 200" [ "$(get bob "$L/?value=x.avsvmcloud.com")" = 200 ]
check "bob sees only B's indicator, nothing through A's" \
    jq -e '([.matches[].id] == ["indicator--b1000000-0000-4000-8000-000000000001"]) and (.related == [])' body
get alice "$L?value=red.example" >/dev/null
check "a TLP:RED object that names nobody is hidden from alice" \
    jq -e '.matches == [] and .related == []' body
# A value only in unreadable collections answers exactly as one nowhere.
for u in carol dave bob; do
    get "$u" "$L?value=10.1.2.3" >/dev/null
    sed 's/10\.1\.2\.3/V/' body >there.json
    get "$u" "$L?value=10.1.2.4" >/dev/null # in 10.0.0.0/8 too
    get "$u" "$L?value=192.0.2.9" >/dev/null
    sed 's/192\.0\.2\.9/V/' body >nowhere.json
    check "$u: a value in A's objects answers as one nowhere" \
        cmp -s there.json nowhere.json
done
N=/api1/cairn/neighbourhood
check "alice: the neighbourhood of A's indicator" \
    [ "$(get alice "$N?id=indicator--a1000000-0000-4000-8000-000000000001")" = 200 ]
check "lists what alice may read only" \
    jq -e '[.referred_by[].id] | sort == ["report--a3000000-0000-4000-8000-000000000001", "sighting--a2000000-0000-4000-8000-000000000001"]' body
for u in bob carol dave; do
    c1=$(get "$u" "$N?id=indicator--a1000000-0000-4000-8000-000000000001")
    cp body hidden.json
    c2=$(get "$u" "$N?id=indicator--a1000000-0000-4000-8000-0000000000ff")
    check "$u: an object of A is as absent as one nowhere ($c1, $c2)" \
        sh -c "[ $c1 = 404 ] && [ $c2 = 404 ] && cmp -s hidden.json body"
done
check "no value: 400" [ "$(get alice "$L")" = 400 ]
check "bad percent-encoding: 400" [ "$(get alice "$L?value=%zz")" = 400 ]
check "an unknown cairn endpoint: 404" [ "$(get alice /api1/cairn/nothing)" = 404 ]
check "an unknown API root: 404" [ "$(get alice "/nope/cairn/lookup?value=a.b")" = 404 ]
code=$(curl -sS --max-time 30 -o /dev/null -w '%{http_code}' -X POST \
    -u "alice:$pw" "$base$L?value=a.b")
check "POST: 405" [ "$code" = 405 ]
stop_server
check "the server stops cleanly" [ "$rc" -eq 0 ]
check "no sanitizer report from the server" no_crash_report "$errf"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
