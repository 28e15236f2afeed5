#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Federation between two real `cairn serve` nodes on loopback: a hub (A)
# publishes, a member (B) pulls incrementally, survives a killed puller and
# a killed hub without losing or duplicating anything, and pushes its
# sightings back; `cairn sync` runs the same flows from a config file.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${CAIRN_SRC:?CAIRN_SRC must name the source tree}/tests/cli/lib.sh"
need curl jq
pid_a=""
pid_b=""
pid_pull=""
at_exit='reap $pid_a $pid_b $pid_pull'

A=$tmp/a
B=$tmp/b

# indicator N: a valid indicator with a fixed id
indicator() {
    printf '{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-%012d","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"ioc %d","pattern":"[ipv4-addr:value = '"'"'10.0.%d.%d'"'"']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}' \
        "$1" "$1" $(($1 / 256)) $(($1 % 256))
}
sighting() {
    printf '{"type":"sighting","spec_version":"2.1","id":"sighting--00000000-0000-4000-8000-%012d","created":"2024-02-01T00:00:00.000Z","modified":"2024-02-01T00:00:00.000Z","sighting_of_ref":"indicator--00000000-0000-4000-8000-%012d","count":1}' \
        "$1" "$1"
}
# bundle KIND FIRST COUNT > FILE
bundle() {
    printf '{"type":"bundle","id":"bundle--00000000-0000-4000-8000-000000000001","objects":['
    series "$@"
    printf ']}'
}

# objects NODE COLLECTION: every version, as "id version" lines, sorted, as
# the user $AS (default reader, who is not a member of the community)
objects() {
    eval "p=\$port_$1"
    curl -sS --max-time 30 -u "${AS:-reader}:pw-${AS:-reader}" \
        -H "Accept: $TAXII" \
        "http://127.0.0.1:$p/api1/collections/$2/objects/?match%5Bversion%5D=all&limit=10000" |
        jq -r '.objects // [] | .[] | "\(.id) \(.modified // "")"' | sort
}
count() { objects "$@" | wc -l | tr -d ' '; }
dups() { objects "$@" | uniq -d | wc -l | tr -d ' '; }

# ---- two nodes, users, collections ----------------------------------------
for n in a b; do
    for u in member reader; do
        printf 'pw-%s\n' "$u" | "$CAIRN" user add "$u" --data "$tmp/$n" \
            >/dev/null 2>&1 || fail "user add $u on $n"
    done
done
col_a=$("$CAIRN" collection add --title "Hub indicators" --alias indicators \
    --data "$A" 2>/dev/null)
sight_a=$("$CAIRN" collection add --title "Sightings" --data "$A" 2>/dev/null)
col_b=$("$CAIRN" collection add --title "From the hub" --data "$B" 2>/dev/null)
mine_b=$("$CAIRN" collection add --title "Our sightings" --data "$B" \
    2>/dev/null)
check "collections created" \
    [ -n "$col_a" -a -n "$sight_a" -a -n "$col_b" -a -n "$mine_b" ]
for g in "a member $col_a --read" "a member $sight_a --read --write" \
    "a reader $col_a --read" "a reader $sight_a --read" \
    "b reader $col_b --read" "b reader $mine_b --read"; do
    set -- $g
    n=$1
    shift
    "$CAIRN" grant "$@" --data "$tmp/$n" >/dev/null 2>&1 || fail "grant $g"
done
# insider on A is a community member: it may read TLP:AMBER objects.
printf 'pw-insider\n' | "$CAIRN" user add insider --member --data "$A" \
    >/dev/null 2>&1 || fail "user add insider --member on a"
"$CAIRN" grant insider "$sight_a" --read --data "$A" >/dev/null 2>&1 ||
    fail "grant insider"
check "hub A starts" start_node a
check "member B starts" start_node b
URL_A=http://127.0.0.1:$port_a/taxii2/

export CAIRN_PASSWORD=pw-member
pull() { # pull [ARGS...]: B pulls the hub's indicators
    "$CAIRN" pull "$URL_A" --user member --collection "$col_a" \
        --into "$col_b" --data "$B" "$@"
}

# ---- an indicator published on A reaches B --------------------------------
bundle indicator 0 50 >"$tmp/first.json"
"$CAIRN" import --collection "$col_a" --data "$A" "$tmp/first.json" \
    >/dev/null 2>&1 || fail "import on A"
pull --limit 20 2>"$tmp/pull.err"
rc=$?
check "first pull exits 0 ($rc)" [ $rc = 0 ]
check "...reports 50 new in 3 pages" \
    grep -q "50 received in 3 pages, 50 new, 0 already present, 0 rejected" \
    "$tmp/pull.err"
check "B holds the 50 indicators ($(count b "$col_b"))" \
    [ "$(count b "$col_b")" = 50 ]
check "...exactly those of A" \
    [ "$(objects b "$col_b")" = "$(objects a "$col_a")" ]
check "the progress is kept in the store" \
    test -n "$(progress "$B" "\"url\":\"$URL_A\"")"

pull 2>"$tmp/pull.err"
rc=$?
check "a second pull exits 0 ($rc)" [ $rc = 0 ]
# It starts at the last date_added seen: that object comes again, found
# present, and nothing is stored.
check "...and fetches nothing new" \
    grep -q "1 received in 1 pages, 0 new, 1 already present" "$tmp/pull.err"

# The alias works as the remote collection, and the API root URL as URL.
bundle indicator 50 5 >"$tmp/more.json"
"$CAIRN" import --collection "$col_a" --data "$A" "$tmp/more.json" \
    >/dev/null 2>&1
"$CAIRN" pull "http://127.0.0.1:$port_a/api1/" --user member \
    --collection indicators --into "$col_b" --data "$B" 2>"$tmp/pull.err"
rc=$?
check "pull by alias from the API root URL exits 0 ($rc)" [ $rc = 0 ]
check "...gets the 5 new ones only" grep -q "5 received in 1 pages, 5 new" \
    "$tmp/pull.err"
check "...B holds 55" [ "$(count b "$col_b")" = 55 ]

# ---- an interrupted pull resumes: nothing lost, nothing duplicated --------
bundle indicator 1000 3000 >"$tmp/big.json"
"$CAIRN" import --collection "$col_a" --data "$A" "$tmp/big.json" \
    >/dev/null 2>&1 || fail "import 3000 on A"
# The flow's progress, which the puller rewrites page by page.
flow="\"url\":\"$URL_A\",\"remote\":\"$col_a\""
before=$(progress "$B" "$flow")
# The puller itself, not a shell around it, is what gets killed.
"$CAIRN" pull "$URL_A" --user member --collection "$col_a" --into "$col_b" \
    --data "$B" --limit 1 2>/dev/null &
pid_pull=$!
# Kill -9 the puller a moment after it has committed its first pages
# (one object a page; the first ones are the 5 the alias flow has).
wait_progress "$B" "$flow" "$before"
sleep 0.3
kill -9 "$pid_pull" 2>/dev/null
wait "$pid_pull" 2>/dev/null
killed=$?
pid_pull=""
mid=$(count b "$col_b")
check "the puller was killed in the middle ($killed, $mid of 3055)" \
    [ "$killed" = 137 -a "$mid" -gt 55 -a "$mid" -lt 3055 ]
pull --limit 500 2>"$tmp/pull.err"
rc=$?
check "the pull after the kill exits 0 ($rc)" [ $rc = 0 ]
check "...B holds all 3055 ($(count b "$col_b"))" \
    [ "$(count b "$col_b")" = 3055 ]
check "...none twice" [ "$(dups b "$col_b")" = 0 ]
check "...the same as A" [ "$(objects b "$col_b")" = "$(objects a "$col_a")" ]

# The hub killed mid-pull and restarted on its port: the retries carry the
# pull through, and it finishes with nothing lost or duplicated.
bundle indicator 5000 3000 >"$tmp/big2.json"
"$CAIRN" import --collection "$col_a" --data "$A" "$tmp/big2.json" \
    >/dev/null 2>&1 || fail "import 3000 more on A"
before=$(progress "$B" "$flow")
"$CAIRN" pull "$URL_A" --user member --collection "$col_a" --into "$col_b" \
    --data "$B" --limit 5 --retries 8 2>"$tmp/pull.err" &
pid_pull=$!
wait_progress "$B" "$flow" "$before"
stop_node a 9
mid=$(count b "$col_b")
check "the hub died in the middle of the pull ($mid of 6055)" \
    [ "$mid" -gt 3055 -a "$mid" -lt 6055 ]
check "the hub restarts on its port" start_node a "127.0.0.1:$port_a"
wait "$pid_pull"
rc=$?
pid_pull=""
check "the pull across the hub's restart exits 0 ($rc)" [ $rc = 0 ]
check "...B holds all 6055 ($(count b "$col_b"))" \
    [ "$(count b "$col_b")" = 6055 ]
check "...none twice" [ "$(dups b "$col_b")" = 0 ]

# ---- sightings pushed back from B to A --------------------------------------
bundle sighting 1 4 >"$tmp/sightings.json"
"$CAIRN" import --collection "$mine_b" --data "$B" "$tmp/sightings.json" \
    >/dev/null 2>&1 || fail "import sightings on B"
bundle indicator 9000 2 >"$tmp/local.json"
"$CAIRN" import --collection "$mine_b" --data "$B" "$tmp/local.json" \
    >/dev/null 2>&1
push() {
    "$CAIRN" push "$URL_A" --user member --collection "$sight_a" \
        --from "$mine_b" --type sighting --data "$B" "$@"
}
push 2>"$tmp/push.err"
rc=$?
check "push exits 0 ($rc)" [ $rc = 0 ]
check "...sent the 4 sightings" grep -q "4 sent in 1 envelopes, 4 accepted" \
    "$tmp/push.err"
check "A holds the 4 sightings, and no indicator from B" \
    [ "$(objects a "$sight_a" | grep -c '^sighting--')" = 4 -a \
    "$(count a "$sight_a")" = 4 ]
push 2>"$tmp/push.err"
check "a second push sends nothing" grep -q "^.*: 0 sent" "$tmp/push.err"

# ---- TLP 2.0 on the way out: --member, --identity, --anonymize --------------
# amber N [EXTRA]: a TLP:AMBER sighting; EXTRA is more JSON members
amber() {
    printf '{"type":"sighting","spec_version":"2.1","id":"sighting--00000000-0000-4000-8000-%012d","created":"2024-02-01T00:00:00.000Z","modified":"2024-02-01T00:00:00.000Z","sighting_of_ref":"indicator--00000000-0000-4000-8000-%012d","count":1,"object_marking_refs":["marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"]%s}' \
        "$1" "$1" "${2:-}"
}
import_b() { # import_b JSON: one object into B's sightings
    printf '{"type":"bundle","id":"bundle--00000000-0000-4000-8000-000000000002","objects":[%s]}' \
        "$1" >"$tmp/one.json"
    "$CAIRN" import --collection "$mine_b" --data "$B" "$tmp/one.json" \
        >/dev/null 2>&1 || fail "import on B: $1"
}
has_a() { (AS=insider && objects a "$sight_a") | grep -q "^$1 "; }
import_b "$(amber 100)"
push 2>"$tmp/push.err"
rc=$?
check "a push without --member exits 0 ($rc)" [ $rc = 0 ]
check "...withholds the TLP:AMBER sighting and says so" \
    grep -q ": 0 sent in 0 envelopes, 0 accepted, 0 rejected, 1 withheld (TLP)" \
    "$tmp/push.err"
check "...and why: TLP:AMBER, the peer is not a member" \
    grep -q ": 1 withheld: TLP:AMBER, the reader is not a community member" \
    "$tmp/push.err"
if has_a sighting--00000000-0000-4000-8000-000000000100; then
    fail "a withheld TLP:AMBER sighting reached A"
else ok; fi
check "...while A's member user does see the 4 sent before" \
    [ "$(AS=insider && count a "$sight_a")" = 4 ]
import_b "$(amber 101 ',"created_by_ref":"identity--00000000-0000-4000-8000-0000000000b0","where_sighted_refs":["identity--00000000-0000-4000-8000-0000000000b0"]')"
push --member --anonymize remove 2>"$tmp/push.err"
rc=$?
check "a push with --member exits 0 ($rc)" [ $rc = 0 ]
check "...sends the TLP:AMBER sighting, withholds nothing" \
    grep -q ": 1 sent in 1 envelopes, 1 accepted, 0 rejected, 0 withheld (TLP)" \
    "$tmp/push.err"
check "...A has it" has_a sighting--00000000-0000-4000-8000-000000000101
check "...without its identities (--anonymize remove)" \
    [ "$(curl -sS -u insider:pw-insider -H "Accept: $TAXII" \
    "http://127.0.0.1:$port_a/api1/collections/$sight_a/objects/sighting--00000000-0000-4000-8000-000000000101/" |
    jq -c '.objects[0] | [.created_by_ref, .where_sighted_refs, .count]')" = \
    '[null,null,1]' ]
check "...and not the one withheld before (the state moved past it)" \
    [ "$(AS=insider && count a "$sight_a")" = 5 ]
for bad in "--anonymize maybe" "--identity identity--nope" "--identity x"; do
    push $bad 2>"$tmp/push.err"
    rc=$?
    check "push $bad is a usage error ($rc)" [ $rc = 2 ]
done
pull --member 2>/dev/null
check "--member is for push only" [ $? = 2 ]

# ---- errors and their exit codes ---------------------------------------------
CAIRN_PASSWORD=wrong pull 2>"$tmp/pull.err"
rc=$?
check "a wrong password exits 2 ($rc)" [ $rc = 2 ]
check "...and says the credentials were refused" \
    grep -q "did not accept the credentials" "$tmp/pull.err"
"$CAIRN" push "$URL_A" --user member --collection "$col_a" --from "$mine_b" \
    --data "$B" 2>"$tmp/push.err"
rc=$?
check "a push to a read-only collection exits 2 ($rc)" [ $rc = 2 ]
(unset CAIRN_PASSWORD; pull 2>"$tmp/pull.err")
rc=$?
check "--user without a password exits 2 ($rc)" [ $rc = 2 ]
check "...and says where the password comes from" \
    grep -q "CAIRN_PASSWORD" "$tmp/pull.err"
"$CAIRN" pull "$URL_A" --collection "$col_a" --data "$B" 2>/dev/null
check "pull without --into exits 2" [ $? = 2 ]
"$CAIRN" pull "http://127.0.0.1:1/taxii2/" --user member --retries 1 \
    --collection "$col_a" --into "$col_b" --data "$B" 2>"$tmp/pull.err"
rc=$?
check "an unreachable peer exits 2 after the retries ($rc)" [ $rc = 2 ]
check "...saying so" grep -q "gave up after 2 attempts" "$tmp/pull.err"
printf 'pw-member\n' >"$tmp/pw"
bundle indicator 20000 3 >"$tmp/last.json"
"$CAIRN" import --collection "$col_a" --data "$A" "$tmp/last.json" \
    >/dev/null 2>&1
(unset CAIRN_PASSWORD; pull --password-file "$tmp/pw" 2>"$tmp/pull.err")
check "--password-file works" grep -q "3 new" "$tmp/pull.err"

# ---- cairn sync from a configuration file -----------------------------------
bundle indicator 30000 4 >"$tmp/sync.json"
"$CAIRN" import --collection "$col_a" --data "$A" "$tmp/sync.json" \
    >/dev/null 2>&1
bundle sighting 40 2 >"$tmp/sync-s.json"
"$CAIRN" import --collection "$mine_b" --data "$B" "$tmp/sync-s.json" \
    >/dev/null 2>&1
cat >"$tmp/b.ini" <<EOF
[server]
data = b
[peer hub]
url = $URL_A
user = member
password_file = pw
pull = indicators -> $col_b
push = $mine_b -> $sight_a sighting
EOF
(unset CAIRN_PASSWORD; "$CAIRN" sync --config "$tmp/b.ini" 2>"$tmp/sync.err")
rc=$?
check "cairn sync exits 0 ($rc)" [ $rc = 0 ]
check "...pulled the 4 new indicators" \
    grep -q "pull indicators -> $col_b: 4 new" "$tmp/sync.err"
check "...pushed the 2 new sightings" \
    [ "$(AS=insider && count a "$sight_a")" = 7 ]
check "...B holds 6062, none twice" \
    [ "$(count b "$col_b")" = 6062 -a "$(dups b "$col_b")" = 0 ]
printf '[peer hub]\nurl = %s\n' "$URL_A" >"$tmp/bad.ini"
"$CAIRN" sync --config "$tmp/bad.ini" --data "$B" 2>"$tmp/sync.err"
rc=$?
check "a peer without flows is a config error, exit 2 ($rc)" [ $rc = 2 ]
check "...naming the file" grep -q "bad.ini" "$tmp/sync.err"

stop_node a
stop_node b
echo "federation: $passed passed, $failed failed"
[ "$failed" = 0 ]
