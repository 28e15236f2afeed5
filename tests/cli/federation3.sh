#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Three real `cairn serve` nodes on loopback, a hub and members A and B:
# the members' serve runs its pulls and pushes on schedule; TLP 2.0 decides
# what leaves (RED never to the wrong identity, AMBER only to the community
# member A); A's sightings reach the hub anonymised; `cairn sync` does the
# same flows once; the hub killed mid-pull loses and duplicates nothing.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${CAIRN_SRC:?CAIRN_SRC must name the source tree}/tests/cli/lib.sh"
need curl jq
pid_hub=""
pid_a=""
pid_b=""
pid_pull=""
# On failure, what the nodes said is shown too.
at_exit='reap $pid_hub $pid_a $pid_b $pid_pull
[ "$failed" = 0 ] || cat "$tmp"/*.err'

RED=marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1
AMBER=marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421
GREEN=marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb
ID_HUB=identity--11111111-1111-4111-8111-111111111111
ID_A=identity--aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa
ID_B=identity--bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb

# indicator N [MARKING [CREATED_BY]]
indicator() {
    extra=""
    [ -n "${2:-}" ] && extra=",\"object_marking_refs\":[\"$2\"]"
    [ -n "${3:-}" ] && extra="$extra,\"created_by_ref\":\"$3\""
    printf '{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-%012d","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"ioc %d","pattern":"[ipv4-addr:value = '"'"'10.0.%d.%d'"'"']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"%s}' \
        "$1" "$1" $(($1 / 256)) $(($1 % 256)) "$extra"
}
# sighting N EXTRA: a sighting by A, seen at A, with more members
sighting() {
    printf '{"type":"sighting","spec_version":"2.1","id":"sighting--00000000-0000-4000-8000-%012d","created":"2024-02-01T00:00:00.000Z","modified":"2024-02-01T00:00:00.000Z","sighting_of_ref":"indicator--00000000-0000-4000-8000-%012d","count":2,"created_by_ref":"%s","where_sighted_refs":["%s"]%s}' \
        "$1" "$1" "$ID_A" "$ID_A" "${2:-}"
}
wrap() { # wrap OBJECT... > FILE: a bundle of the objects
    printf '{"type":"bundle","id":"bundle--00000000-0000-4000-8000-000000000001","objects":['
    sep=""
    for o in "$@"; do
        printf '%s%s' "$sep" "$o"
        sep=","
    done
    printf ']}'
}
many() { # many FIRST COUNT > FILE: green indicators
    printf '{"type":"bundle","id":"bundle--00000000-0000-4000-8000-000000000002","objects":['
    series indicator "$1" "$2"
    printf ']}'
}

# objects NODE COLLECTION [USER]: each version as "id modified", sorted
objects() {
    eval "p=\$port_$1"
    curl -sS --max-time 30 -u "${3:-reader}:pw" -H "Accept: $TAXII" \
        "http://127.0.0.1:$p/api1/collections/$2/objects/?match%5Bversion%5D=all&limit=10000" |
        jq -r '.objects // [] | .[] | "\(.id) \(.modified // "")"' | sort
}
count() { objects "$@" | wc -l | tr -d ' '; }
dups() { objects "$@" | uniq -d | wc -l | tr -d ' '; }
has() { objects "$1" "$2" | grep -q "^$3 "; } # has NODE COLLECTION ID
# wait_for DESCRIPTION COMMAND...: up to 20 s for COMMAND to succeed
wait_for() {
    what=$1
    shift
    i=0
    while ! "$@" >/dev/null 2>&1 && [ $i -lt 200 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    check "$what" "$@"
}
ind() { printf 'indicator--00000000-0000-4000-8000-%012d' "$1"; }
# runs NODE WHAT: how many scheduled runs of flow WHAT ("pull", "push")
# NODE's serve has logged.
runs() {
    grep -cE "peer hub: $2 .*: [0-9]+ (new|accepted), " "$tmp/$1.err" \
        2>/dev/null || true
}
# more_runs NODE WHAT N: waits (60 s at most) for N more runs than now: a
# check that something never arrives means something only after the runs
# that would have brought it (a fixed sleep proves nothing on a busy
# machine).
more_runs() {
    want=$(($(runs "$1" "$2") + $3))
    i=0
    while [ "$(runs "$1" "$2")" -lt "$want" ] && [ $i -lt 600 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    check "$1 ran its $2 $3 more times" [ "$(runs "$1" "$2")" -ge "$want" ]
}
sid() { printf 'sighting--00000000-0000-4000-8000-%012d' "$1"; }
import() { # import NODE COLLECTION FILE
    "$CAIRN" import --collection "$2" --data "$tmp/$1" "$3" >/dev/null 2>&1 ||
        fail "import $3 on $1"
}

# ---- three nodes ---------------------------------------------------------------
# Each node's "reader" is the node itself: its identity, a member.
user() { # user NODE NAME [SHARING...]
    n=$1 u=$2
    shift 2
    printf 'pw\n' | "$CAIRN" user add "$u" --data "$tmp/$n" "$@" \
        >/dev/null 2>&1 || fail "user add $u on $n"
}
user hub reader --identity "$ID_HUB" --member
user hub member-a --identity "$ID_A" --member
user hub member-b --identity "$ID_B"
user a reader --identity "$ID_A" --member
user b reader --identity "$ID_B" --member
"$CAIRN" user list --sharing --data "$tmp/hub" >"$tmp/sharing" 2>&1
check "user list --sharing shows identities and membership" \
    grep -qx "member-a  $ID_A  member" "$tmp/sharing"
check "...and a user that is not a member" \
    grep -qx "member-b  $ID_B  -" "$tmp/sharing"

hub_ind=$("$CAIRN" collection add --title Indicators --alias indicators \
    --data "$tmp/hub" 2>/dev/null)
hub_sight=$("$CAIRN" collection add --title Sightings --alias sightings \
    --data "$tmp/hub" 2>/dev/null)
a_ind=$("$CAIRN" collection add --title "From the hub" --data "$tmp/a" \
    2>/dev/null)
a_sight=$("$CAIRN" collection add --title "Our sightings" --data "$tmp/a" \
    2>/dev/null)
b_ind=$("$CAIRN" collection add --title "From the hub" --data "$tmp/b" \
    2>/dev/null)
check "collections created" [ -n "$hub_ind" -a -n "$hub_sight" -a \
    -n "$a_ind" -a -n "$a_sight" -a -n "$b_ind" ]
for g in "hub reader $hub_ind --read" "hub reader $hub_sight --read" \
    "hub member-a $hub_ind --read" "hub member-a $hub_sight --write" \
    "hub member-b $hub_ind --read" "a reader $a_ind --read" \
    "a reader $a_sight --read" "b reader $b_ind --read"; do
    set -- $g
    n=$1
    shift
    "$CAIRN" grant "$@" --data "$tmp/$n" >/dev/null 2>&1 || fail "grant $g"
done
check "the hub starts" start_node hub
URL=http://127.0.0.1:$port_hub/taxii2/
printf 'pw\n' >"$tmp/pw"

# Member A: a community member; its sightings go out under pseudonyms.
cat >"$tmp/a.ini" <<EOF
[server]
data = a
[peer hub]
url = $URL
user = member-a
password_file = pw
interval = 1
identity = $ID_HUB
member = yes
anonymize = pseudonym
pull = indicators -> $a_ind
push = $a_sight -> $hub_sight sighting
EOF
# Member B: not a member of the community.
cat >"$tmp/b.ini" <<EOF
[server]
data = b
[peer hub]
url = $URL
user = member-b
password_file = pw
interval = 1
pull = indicators -> $b_ind
EOF
check "member A starts, with its peers" start_node a 127.0.0.1:0 "$tmp/a.ini"
check "member B starts, with its peers" start_node b 127.0.0.1:0 "$tmp/b.ini"

# ---- published on the hub: what reaches whom, by serve's schedule -----------
wrap "$(indicator 1 "$GREEN")" "$(indicator 2 "$AMBER" "$ID_HUB")" \
    "$(indicator 3 "$RED" "$ID_HUB")" "$(indicator 4)" \
    "$(indicator 5 "$RED" "$ID_B")" >"$tmp/pub.json"
import hub "$hub_ind" "$tmp/pub.json"
wait_for "the GREEN indicator reaches A on schedule" has a "$a_ind" "$(ind 1)"
wait_for "...and B" has b "$b_ind" "$(ind 1)"
wait_for "the unmarked one reaches A" has a "$a_ind" "$(ind 4)"
wait_for "...and B" has b "$b_ind" "$(ind 4)"
wait_for "the AMBER one reaches A, the community member" \
    has a "$a_ind" "$(ind 2)"
wait_for "the RED one created by B reaches B, whom it names" \
    has b "$b_ind" "$(ind 5)"
more_runs b pull 2
objects b "$b_ind" >"$tmp/b-now"
check "the AMBER one never reaches B" sh -c "! grep -q '$(ind 2)' '$tmp/b-now'"
check "A holds exactly the GREEN, AMBER and unmarked ones" \
    [ "$(objects a "$a_ind" | cut -d' ' -f1 | tr '\n' ' ')" = \
    "$(ind 1) $(ind 2) $(ind 4) " ]
check "B holds exactly the GREEN, unmarked and its RED ones" \
    [ "$(objects b "$b_ind" | cut -d' ' -f1 | tr '\n' ' ')" = \
    "$(ind 1) $(ind 4) $(ind 5) " ]
# A member asking the hub itself gets no further than its schedule did.
red=$(curl -sS -o /dev/null -w '%{http_code}' -u member-a:pw \
    -H "Accept: $TAXII" \
    "http://127.0.0.1:$port_hub/api1/collections/$hub_ind/objects/$(ind 3)/")
check "the hub's RED object is 404 to member A ($red)" [ "$red" = 404 ]
check "...and not in its manifest" sh -c "curl -sS -u member-a:pw \
    'http://127.0.0.1:$port_hub/api1/collections/$hub_ind/manifest/' |
    jq -e '[.objects[].id] | index(\"$(ind 3)\") == null'"
check "the hub's own reader sees 4: not the RED one naming only B" \
    [ "$(count hub "$hub_ind")" = 4 ]
check "member A's serve logged its scheduled runs" \
    grep -q "peer hub: pull indicators -> $a_ind" "$tmp/a.err"

# ---- A's sightings reach the hub anonymised ---------------------------------
wrap "$(sighting 1)" "$(sighting 2 ",\"object_marking_refs\":[\"$RED\"]")" \
    "$(sighting 3 ",\"object_marking_refs\":[\"$RED\"],\"x_cairn_recipients\":[\"$ID_HUB\"]")" \
    >"$tmp/sightings.json"
import a "$a_sight" "$tmp/sightings.json"
wait_for "A's sighting reaches the hub on schedule" \
    has hub "$hub_sight" "$(sid 1)"
wait_for "the RED sighting naming the hub reaches it" \
    has hub "$hub_sight" "$(sid 3)"
more_runs a push 2
check "the RED sighting naming nobody never leaves A" \
    sh -c "! curl -sS -u reader:pw \
    'http://127.0.0.1:$port_hub/api1/collections/$hub_sight/objects/' |
    grep -q '$(sid 2)'"
curl -sS -u reader:pw -H "Accept: $TAXII" \
    "http://127.0.0.1:$port_hub/api1/collections/$hub_sight/objects/" \
    >"$tmp/hub-sightings.json"
s1=$(jq -c ".objects[] | select(.id == \"$(sid 1)\")" "$tmp/hub-sightings.json")
pseudo=$(printf '%s' "$s1" | jq -r .created_by_ref)
check "A's identity appears nowhere at the hub" \
    sh -c "! grep -q '$ID_A' '$tmp/hub-sightings.json'"
check "the sighting is by a pseudonym ($pseudo)" \
    sh -c "printf '%s' '$pseudo' | grep -Eq '^identity--[0-9a-f-]{36}$'"
check "...seen at the same pseudonym" \
    [ "$(printf '%s' "$s1" | jq -r '.where_sighted_refs[0]')" = "$pseudo" ]
check "...its count and indicator intact" \
    [ "$(printf '%s' "$s1" | jq -r '"\(.count) \(.sighting_of_ref)"')" = \
    "2 $(ind 1)" ]
check "the pseudonym's identity came along: 'anonymous member'" \
    [ "$(jq -r ".objects[] | select(.id == \"$pseudo\") | .name" \
    "$tmp/hub-sightings.json")" = "anonymous member" ]
check "...once" [ "$(jq "[.objects[] | select(.type == \"identity\")] |
    length" "$tmp/hub-sightings.json")" = 1 ]

# ---- a stop interrupts the schedule promptly; cairn sync runs it once -------
t0=$(date +%s)
stop_node a
t1=$(date +%s)
check "member A stops within 5 s of SIGTERM ($((t1 - t0)) s)" \
    [ $((t1 - t0)) -le 5 ]
wrap "$(indicator 6)" "$(indicator 7 "$RED" "$ID_HUB")" >"$tmp/pub2.json"
import hub "$hub_ind" "$tmp/pub2.json"
wrap "$(sighting 8)" "$(sighting 9 ",\"object_marking_refs\":[\"$RED\"]")" \
    >"$tmp/s8.json"
import a "$a_sight" "$tmp/s8.json"
"$CAIRN" sync --config "$tmp/a.ini" 2>"$tmp/sync.err"
rc=$?
check "cairn sync on A exits 0 ($rc)" [ $rc = 0 ]
check "...pulled the new indicator, not the RED one" \
    grep -q "pull indicators -> $a_ind: 1 new" "$tmp/sync.err"
check "...pushed the new sighting" has hub "$hub_sight" "$(sid 8)"
check "...anonymised with the same pseudonym" [ "$(curl -sS -u reader:pw \
    "http://127.0.0.1:$port_hub/api1/collections/$hub_sight/objects/$(sid 8)/" |
    jq -r '.objects[0].created_by_ref')" = "$pseudo" ]
check "...and said what it withheld" grep -q "1 withheld (TLP)" \
    "$tmp/sync.err"
check "...and never the RED sighting" \
    sh -c "! curl -sS -u reader:pw \
    'http://127.0.0.1:$port_hub/api1/collections/$hub_sight/objects/' |
    grep -Eq '$(sid 2)|$(sid 9)'"
check "A restarts with its peers" start_node a 127.0.0.1:0 "$tmp/a.ini"

# ---- the hub killed in the middle of a pull ------------------------------------
# B serves without its schedule now, so that the pull below is the only
# run of its flow.
stop_node b
check "B restarts without peers" start_node b
many 1000 3000 >"$tmp/big.json"
wrap "$(indicator 9000 "$AMBER")" "$(indicator 9001 "$RED")" >"$tmp/mixed.json"
import hub "$hub_ind" "$tmp/big.json"
import hub "$hub_ind" "$tmp/mixed.json"
many 5000 500 >"$tmp/big2.json"
import hub "$hub_ind" "$tmp/big2.json"
flow="\"local\":\"$b_ind\""
before=$(progress "$tmp/b" "$flow")
# The same flow as B's [peer hub] (same URL and collections), so it
# continues B's progress; small pages to be in the middle when the hub dies;
# retries enough to ride out a restart on a loaded machine.
"$CAIRN" pull "$URL" --user member-b --password-file "$tmp/pw" \
    --collection indicators --into "$b_ind" --data "$tmp/b" --limit 5 \
    --retries 8 2>"$tmp/pull.err" &
pid_pull=$!
wait_progress "$tmp/b" "$flow" "$before"
stop_node hub 9
mid=$(count b "$b_ind" 2>/dev/null)
check "the hub died in the middle of the pull ($mid of 3504)" \
    [ "$mid" -gt 4 -a "$mid" -lt 3504 ]
check "the hub restarts on its port" start_node hub "127.0.0.1:$port_hub"
wait "$pid_pull"
rc=$?
pid_pull=""
check "the pull across the hub's restart exits 0 ($rc)" [ $rc = 0 ]
check "...B holds all 3504 it may ($(count b "$b_ind"))" \
    [ "$(count b "$b_ind")" = 3504 ]
check "...none twice" [ "$(dups b "$b_ind")" = 0 ]
check "...the same as the hub shows member B" \
    [ "$(objects b "$b_ind")" = "$(objects hub "$hub_ind" member-b)" ]
objects b "$b_ind" >"$tmp/b-final"
check "...neither the AMBER nor the RED one" \
    sh -c "! grep -Eq '$(ind 9000)|$(ind 9001)|$(ind 2) |$(ind 3) ' \
    '$tmp/b-final'"

# ---- administration of the sharing attributes ---------------------------------
"$CAIRN" collection set "$hub_sight" --tlp amber --data "$tmp/hub" \
    >/dev/null 2>&1
check "collection set --tlp amber" [ $? = 0 ]
"$CAIRN" collection set "$hub_sight" --tlp purple --data "$tmp/hub" \
    >/dev/null 2>&1
check "an unknown TLP level is a usage error" [ $? = 2 ]
"$CAIRN" user set member-b --identity hub --data "$tmp/hub" >/dev/null 2>&1
check "an identity that is not identity--UUID is refused" [ $? = 2 ]

stop_node a
stop_node b
stop_node hub
check "no sanitizer report from any node or run" no_crash_report "$tmp"/*.err
echo "federation3: $passed passed, $failed failed"
[ "$failed" = 0 ]
