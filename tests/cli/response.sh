#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The coordinated response, end to end on 127.0.0.1: a hub and N member
# nodes (`cairn serve` with [hunt], [archive] and a [peer] pulling the
# hub's indicators and pushing sightings back), each member with its own
# archived DNS history. Some members once resolved SUNBURST's C2 names
# (subdomains of avsvmcloud.com, a C2 domain's subdomain), the others only
# look-alikes. The hub imports FireEye's indicators; the hub must end up
# with sightings from exactly the members that were hit, one object per
# member and indicator. Member 2 also follows a growing log: a C2 name
# written to it is sighted live, again as a new version of that sighting,
# and no more once the hub revokes the indicator. Then a member is killed
# with SIGKILL while its loop has an indicator to hunt: after a restart
# the hunt runs again and the sighting arrives once. Prints the time from
# the hub's import to its last sighting. CAIRN_LOOP_MEMBERS sets N (5;
# bench/loop.sh runs 40), CAIRN_LOOP_EVENTS the queries in each member's
# history (200).
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${CAIRN_SRC:?CAIRN_SRC must name the source tree}/tests/cli/lib.sh"
: "${CAIRN_EXAMPLES:?CAIRN_EXAMPLES must name the examples/ folder}"
need curl jq

N=${CAIRN_LOOP_MEMBERS:-5}
EVENTS=${CAIRN_LOOP_EVENTS:-200}
# Bound of each wait, in tenths of a second.
WAIT=${CAIRN_LOOP_WAIT:-1200}
nbis=$CAIRN_EXAMPLES/sunburst-fireeye/Indicator_Release_NBIs.csv
pids=""
pid_hub=""
at_exit='reap $pid_hub $pids
[ "$failed" = 0 ] || tail -n 30 "$tmp"/*.err'

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# wait_for DESCRIPTION COMMAND...: COMMAND succeeds within the bound.
wait_for() {
    what=$1
    shift
    i=0
    while ! "$@" >/dev/null 2>&1 && [ $i -lt "$WAIT" ]; do
        sleep 0.1
        i=$((i + 1))
    done
    check "$what" "$@"
}

# objects NODE COLLECTION: every version of every object, one JSON a line.
objects() {
    eval "p=\$port_$1"
    curl -sS --max-time 30 -u "member:pw" -H "Accept: $TAXII" \
        "http://127.0.0.1:$p/api1/collections/$2/objects/?match%5Bversion%5D=all&limit=10000" |
        jq -c '.objects // [] | .[]'
}

# orgs: the names of the organisations whose sightings the hub holds.
orgs() {
    objects hub "$hub_sight" >"$tmp/hub_objs.json" || return 1
    jq -rs '(map(select(.type == "identity")) | map({(.id): .name}) | add // {}) as $n
        | map(select(.type == "sighting") | $n[.where_sighted_refs[0]] // "?")
        | unique | .[]' "$tmp/hub_objs.json"
}
hub_orgs_are() { [ "$(orgs | tr '\n' ' ')" = "$1" ]; }

# The SUNBURST names FireEye published (subdomains of avsvmcloud.com).
set -- 6a57jk2ba1d9keg15cbg.appsync-api.eu-west-1.avsvmcloud.com \
    7sbvaemscs0mc925tb99.appsync-api.us-west-2.avsvmcloud.com \
    gq1h856599gqh538acqn.appsync-api.us-west-2.avsvmcloud.com \
    ihvpgv9psvq02ffo77et.appsync-api.us-east-2.avsvmcloud.com \
    k5kcubuassl3alrf7gm3.appsync-api.eu-west-1.avsvmcloud.com \
    mhdosoksaccf9sni9icp.appsync-api.eu-west-1.avsvmcloud.com
c2_names="$*"

# dns_log FILE NAME...: a Zeek dns.log of $EVENTS queries, benign but for
# each NAME queried twice among the first ones (December 2020).
dns_log() {
    f=$1
    shift
    printf '%s\n' "$@" | awk -v OFS='\t' -v events="$EVENTS" '
        { plant[++n] = $0 }
        END {
            print "#separator \\x09"; print "#set_separator\t,"
            print "#empty_field\t(empty)"; print "#unset_field\t-"
            print "#path\tdns"; print "#open\t2020-12-14-00-00-00"
            print "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tquery\tqtype_name\trcode_name\tanswers"
            print "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tstring\tstring\tvector[string]"
            k = 0
            for (i = 1; i <= events; i++) {
                q = "host" i ".benign.test"
                if (i % 11 == 0 && k < 2 * n) { q = plant[k % n + 1]; k++ }
                printf "%d.%06d\tC%d\t10.1.0.%d\t5353\t10.53.0.1\t53\tudp\t%s\tA\tNOERROR\t10.2.0.%d\n",
                    1607904000 + i * 60, i, i, i % 250 + 1, q, i % 250 + 1
            }
            print "#close\t2020-12-14-23-59-59"
        }' >"$f"
}

# ---- mistakes in [hunt] and [archive] stop the server, naming the line ----------
nowhere=0a4e1f6b-9c2d-4b7e-8a31-5d6c7e8f9012
while IFS='|' read -r cfg says; do
    printf '%b' "$cfg" >"$tmp/bad.ini"
    run serve --data "$tmp/bad" --listen 127.0.0.1:0 --config "$tmp/bad.ini"
    expect 2 "refused: $cfg"
    check "...saying '$says'" said "$says"
    check "...before announcing that it serves" \
        sh -c '! grep -q "cairn serve: serving" "$1"' - "$err"
done <<CONFIGS
[hunt]\nindicators = intel|bad.ini:2: \[hunt\] indicators: 'intel' is not a collection id
[hunt]\nindicators = $nowhere, $nowhere|bad.ini:2: .* is named twice
[hunt]\nsightings = $nowhere|\[hunt\] needs indicators
[hunt]\nindicators = $nowhere|indicators: $nowhere: no such collection
[archive]\nkeep = 3 days|bad.ini:2: \[archive\] keep: '3 days' is not an age
[archive]\nmax_size = lots|bad.ini:2: \[archive\] max_size: 'lots' is not a size
CONFIGS

# Every node's store starts as a copy of one with the user "member" (its
# password takes a second to hash); the collections are each node's own.
printf 'pw\n' | "$CAIRN" user add member --data "$tmp/template" >/dev/null 2>&1 ||
    fail "the user of the nodes"

# ---- the hub ------------------------------------------------------------------
cp -R "$tmp/template" "$tmp/hub"
hub_ind=$("$CAIRN" collection add --title Indicators --data "$tmp/hub" 2>/dev/null)
hub_sight=$("$CAIRN" collection add --title Sightings --data "$tmp/hub" 2>/dev/null)
"$CAIRN" grant member "$hub_ind" --read --data "$tmp/hub" >/dev/null 2>&1 &&
    "$CAIRN" grant member "$hub_sight" --read --write --data "$tmp/hub" \
        >/dev/null 2>&1 || fail "the hub's collections and user"
check "the hub starts" start_node hub
printf 'pw\n' >"$tmp/pw"

# ---- the members ----------------------------------------------------------------
# Member K is hit unless K % 3 == 2; a hit member resolved one of the C2
# names (or a subdomain of one of FireEye's C2 domains); every member
# resolved the look-alikes. Their stores start as copies of one with
# their two collections (ids alike, in stores apart).
cp -R "$tmp/template" "$tmp/member"
m_ind=$("$CAIRN" collection add --title "From the hub" --data "$tmp/member" 2>/dev/null)
m_sight=$("$CAIRN" collection add --title Sightings --data "$tmp/member" 2>/dev/null)
"$CAIRN" grant member "$m_ind" --read --write --data "$tmp/member" \
        >/dev/null 2>&1 &&
    "$CAIRN" grant member "$m_sight" --read --data "$tmp/member" \
        >/dev/null 2>&1 || fail "the members' collections and user"
hit=""
k=1
while [ $k -le "$N" ]; do
    m=m$k
    set -- $c2_names
    shift $((k % 6))
    names="avsvmcloud.com.example.net xavsvmcloud.com appsync-api.eu-west-1.avsvmcloud.com deftsecurity.com.evil.test"
    if [ $((k % 3)) -ne 2 ]; then
        hit="$hit member $k"
        if [ $((k % 4)) -eq 0 ]; then
            names="$names www.deftsecurity.com"
        else
            names="$names $1"
        fi
    fi
    # shellcheck disable=SC2086 # the names are words
    dns_log "$tmp/$m.dns.log" $names
    cp -R "$tmp/member" "$tmp/$m"
    "$CAIRN" archive add --data "$tmp/$m" --sensor "$m-resolver" \
        "$tmp/$m.dns.log" >/dev/null 2>"$tmp/$m.add.err" ||
        fail "$m's DNS history is archived ($(head -c 300 "$tmp/$m.add.err"))"
    live=""
    if [ $k = 2 ]; then
        # Member 2 also follows a growing log, hunted live.
        dns_log "$tmp/live.log"
        sed -i '/^#close/d' "$tmp/live.log"
        live="[archive]
watch = $tmp/live.log"
    fi
    cat >"$tmp/$m.ini" <<EOF
$live
[hunt]
indicators = $m_ind
sightings = $m_sight
org = member $k
[peer hub]
url = http://127.0.0.1:$port_hub/api1/
user = member
password_file = pw
interval = 1
pull = $hub_ind -> $m_ind
push = $m_sight -> $hub_sight sighting identity
EOF
    start_node "$m" 127.0.0.1:0 "$tmp/$m.ini" || fail "$m starts"
    eval "pids=\"\$pids \$pid_$m\""
    k=$((k + 1))
done
hit="${hit# }"
hit_n=$(echo "$hit" | tr ' ' '\n' | grep -c '^[0-9]')
loop_ready() { grep -q "response loop: hunting 1 collection" "$tmp/$1.err"; }
k=1
while [ $k -le "$N" ]; do
    wait_for "m$k runs its response loop" loop_ready "m$k"
    k=$((k + 1))
done

# ---- the hub imports FireEye's indicators -----------------------------------
t0=$(now_ms)
"$CAIRN" feed import --format fireeye --into "$hub_ind" --data "$tmp/hub" \
    "$nbis" >/dev/null 2>"$tmp/import.err" || fail "the hub imports the NBIs"
want=$(printf '%s\n' $hit | awk 'NR % 2 == 0 { print "member " $0 }' | LC_ALL=C sort | tr '\n' ' ')
wait_for "the hub holds sightings from the $hit_n members hit" hub_orgs_are "$want"
t1=$(now_ms)
echo "response: $N members, $hit_n hit: from the hub's import to its last sighting: $((t1 - t0)) ms"

# Every member has hunted the 16 indicators; only then is "no false
# victim" a fact, not a race.
hunted() { grep -q "retro-hunted 16 indicators" "$tmp/$1.err"; }
k=1
while [ $k -le "$N" ]; do
    wait_for "m$k retro-hunted FireEye's 16 indicators" hunted "m$k"
    k=$((k + 1))
done
check "...and the hub holds sightings from exactly those members, none else" \
    hub_orgs_are "$want"
objects hub "$hub_sight" >"$tmp/hub_objs.json"
check "one sighting object per member hit (versions of it, not one per hit)" \
    [ "$(jq -rs 'map(select(.type == "sighting") | .id) | unique | length' "$tmp/hub_objs.json")" = "$hit_n" ]
check "each counts the two queries of its member's history" \
    [ "$(jq -rs 'map(select(.type == "sighting") | .count) | unique | join(",")' "$tmp/hub_objs.json")" = 2 ]
check "...seen in December 2020" \
    [ "$(jq -rs 'map(select(.type == "sighting") | .first_seen[0:7]) | unique | join(",")' "$tmp/hub_objs.json")" = 2020-12 ]

# ---- live: member 2's watched log -----------------------------------------------
# A C2 name queried now is sighted at once; queried again, the same
# sighting counts 2 (a new version of it); after the hub revokes that
# indicator, a third query is not counted (a later query of a name of
# another indicator shows the events were hunted).
c2=6a57jk2ba1d9keg15cbg.appsync-api.eu-west-1.avsvmcloud.com
query() {
    printf '%s.000000\tCL%s\t10.1.9.9\t5353\t10.53.0.1\t53\tudp\t%s\tA\tNOERROR\t10.2.9.9\n' \
        "$(date +%s)" "$2" "$1" >>"$tmp/live.log"
}
# live_sighting [INDICATOR]: member 2's sighting (of INDICATOR, default
# any), its latest version, as one JSON.
live_sighting() {
    objects hub "$hub_sight" >"$tmp/hub_objs.json" &&
        jq -cs --arg ind "${1:-}" '(map(select(.type == "identity" and .name == "member 2")) | .[0].id) as $me
            | map(select(.type == "sighting" and .where_sighted_refs[0] == $me
                and ($ind == "" or .sighting_of_ref == $ind)))
            | sort_by(.modified) | last // empty' "$tmp/hub_objs.json"
}
no_word() { ! grep -q "$1" "$2"; }
live_count_is() { [ "$(live_sighting "${2:-}" | jq -r .count)" = "$1" ]; }
if [ "$N" -ge 2 ]; then
    check "member 2 watches its log" no_word "cannot watch" "$tmp/m2.err"
    query "$c2" 1
    wait_for "a C2 name in member 2's watched log: its sighting reaches the hub" \
        live_count_is 1
    ind=$(live_sighting | jq -r .sighting_of_ref)
    sid=$(live_sighting | jq -r .id)
    query "$c2" 2
    wait_for "queried again: the sighting counts 2" live_count_is 2
    check "...as a new version of the same object" \
        [ "$(jq -rs --arg id "$sid" 'map(select(.id == $id)) | length' "$tmp/hub_objs.json")" = 2 ]
    check "...and no other sighting from member 2" \
        [ "$(live_sighting | jq -r .id)" = "$sid" ]
    # The hub revokes the indicator (a new version, by another process).
    objects hub "$hub_ind" | jq -c --arg id "$ind" \
        'select(.id == $id) | .revoked = true | .modified = (now | strftime("%Y-%m-%dT%H:%M:%S.999Z"))' |
        jq -s '{type: "bundle", id: "bundle--5f0f2a6e-8d3c-4c2b-9a61-0b8a9b1f0c13", objects: .}' \
            >"$tmp/revoke.json"
    "$CAIRN" import --collection "$hub_ind" --data "$tmp/hub" "$tmp/revoke.json" \
        >/dev/null 2>&1 || fail "the hub revokes $ind"
    revoked() { grep -q "live-hunting 15 indicators" "$tmp/m2.err"; }
    wait_for "member 2 pulls the revocation and live-hunts 15 indicators" revoked
    query "$c2" 3
    query www.deftsecurity.com 4
    other_sighted() {
        live_sighting >/dev/null &&
            jq -es --arg ind "$ind" '(map(select(.type == "identity" and .name == "member 2")) | .[0].id) as $me
                | map(select(.type == "sighting" and .sighting_of_ref != $ind and .where_sighted_refs[0] == $me))
                | length > 0' "$tmp/hub_objs.json"
    }
    wait_for "a name of another indicator queried after it is sighted" \
        other_sighted
    check "...but the revoked indicator's sighting still counts 2" \
        live_count_is 2 "$ind"
fi

# ---- SIGKILL while an indicator waits to be hunted ----------------------------
# Member 1 is stopped, an indicator of a name in its history is imported
# into its collection by another process, and it goes on; it is killed as
# soon as its loop starts that hunt (or at once if it is quicker).
late='{"type":"bundle","id":"bundle--5f0f2a6e-8d3c-4c2b-9a61-0b8a9b1f0c11","objects":[{"type":"indicator","spec_version":"2.1","id":"indicator--5f0f2a6e-8d3c-4c2b-9a61-0b8a9b1f0c12","created":"2020-12-20T00:00:00.000Z","modified":"2020-12-20T00:00:00.000Z","name":"benign look-alike, for the test","pattern":"[domain-name:value = '"'host47.benign.test'"']","pattern_type":"stix","valid_from":"2020-12-20T00:00:00Z"}]}'
printf '%s' "$late" >"$tmp/late.json"
kill -STOP "$pid_m1"
"$CAIRN" import --collection "$m_ind" --data "$tmp/m1" "$tmp/late.json" \
    >/dev/null 2>&1 || fail "an indicator imported into m1 by another process"
before=$(grep -c "retro-hunting" "$tmp/m1.err")
kill -CONT "$pid_m1"
i=0
while [ "$(grep -c "retro-hunting" "$tmp/m1.err")" = "$before" ] && [ $i -lt 2000 ]; do
    i=$((i + 1))
done
stop_node m1 KILL
saved=$(cat "$tmp/m1/loop/state.json" 2>/dev/null)
start_node m1 127.0.0.1:0 "$tmp/m1.ini" || fail "m1 restarts after SIGKILL"
pids="$pids $pid_m1"
late_sighted() {
    objects hub "$hub_sight" >"$tmp/hub_objs.json" &&
        jq -es 'map(select(.type == "sighting" and .sighting_of_ref == "indicator--5f0f2a6e-8d3c-4c2b-9a61-0b8a9b1f0c12")) | length > 0' \
            "$tmp/hub_objs.json"
}
wait_for "after the restart the late indicator's sighting reaches the hub" late_sighted
check "...as one object" \
    [ "$(jq -rs 'map(select(.type == "sighting" and .sighting_of_ref == "indicator--5f0f2a6e-8d3c-4c2b-9a61-0b8a9b1f0c12") | .id) | unique | length' "$tmp/hub_objs.json")" = 1 ]
check "...counting its one query once" \
    [ "$(jq -rs 'map(select(.type == "sighting" and .sighting_of_ref == "indicator--5f0f2a6e-8d3c-4c2b-9a61-0b8a9b1f0c12") | .count) | max' "$tmp/hub_objs.json")" = 1 ]
check "m1's other sighting was not written again by the restart" \
    [ "$(objects m1 "$m_sight" | jq -rs 'map(select(.type == "sighting")) | length')" = 2 ]
if [ "$(cat "$tmp/m1/loop/state.json" 2>/dev/null)" != "$saved" ]; then
    check "the hunt the kill interrupted ran again after the restart" \
        grep -q "retro-hunted 1 indicators" "$tmp/m1.err"
    echo "response: SIGKILL came before m1 had stored the hunt; it ran again"
else
    echo "response: SIGKILL came after m1 had stored the hunt"
fi

k=1
while [ $k -le "$N" ]; do
    stop_node "m$k"
    k=$((k + 1))
done
stop_node hub
check "no sanitizer report from any node" no_crash_report "$tmp"/*.err
echo "response: $passed passed, $failed failed"
[ "$failed" = 0 ]
