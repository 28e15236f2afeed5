#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The archive's stored catalogue of distinct values: lookup's count,
# first and last seen (and --under a domain) as segments are added and
# pruned; LIKE and MATCHES hunted through it with exactly the hits of
# `cairn hunt` on the raw logs (and of the scan it replaces); a catalogue
# left behind by a crash, or damaged, reported by check, worked around by
# hunts and lookups, and rebuilt by the next add.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${CAIRN_SRC:?CAIRN_SRC must name the source tree}/tests/cli/lib.sh"
cd "$tmp" || exit 2
data=$tmp/data
# runs DATA: the catalogue's run files (catalogue.GEN), one a line
runs() { ls "$1"/archive/catalogue* 2>/dev/null; }

# dnslog FILE START N HITEVERY: a Zeek dns.log of N queries one second
# apart from epoch second START; every HITEVERY-th a subdomain of
# avsvmcloud.com, the ones after it near misses.
dnslog() {
    awk -v start="$2" -v n="$3" -v every="$4" 'BEGIN {
        print "#separator \\x09"
        print "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tquery\tanswers"
        print "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tvector[addr]"
        for (i = 0; i < n; i++) {
            q = "host" i ".benign.test"
            if (i % every == 0) q = "x" i "y.appsync-api.eu-west-1.avsvmcloud.com"
            else if (i % every == 1) q = "avsvmcloud.com.example.net"
            else if (i % every == 2) q = "xavsvmcloud.com"
            printf "%d.000000\tC%d\t10.1.%d.%d\t5%04d\t10.0.0.53\t53\tudp\t%s\t192.0.2.%d\n",
                start + i, i, int(i / 250) % 250, i % 250, i % 10000, q, i % 200
        }
    }' >"$1"
}
dnslog a.log 1600000000 200 50 # 2020-09-13: 4 hits, 4 near misses of each
dnslog b.log 1600100000 100 40 # 2020-09-14: 3 hits, 3 near misses of each

ind() {
    printf '{"type":"indicator","spec_version":"2.1","id":"indicator--5b1f3c3e-0d9c-4c2e-9d55-3f6f1b1e2a0%s","created":"2020-12-14T00:00:00Z","modified":"2020-12-14T00:00:00Z","pattern":"%s","pattern_type":"stix","valid_from":"2020-12-14T00:00:00Z"}' "$1" "$2"
}
{
    printf '{"type":"bundle","id":"bundle--7a1f3c3e-0d9c-4c2e-9d55-3f6f1b1e2a01","objects":['
    ind 1 "[domain-name:value LIKE '%%.avsvmcloud.com']"
    printf ','
    ind 2 "[domain-name:value MATCHES '^x1[0-9]*y[.]appsync']"
    printf ','
    ind 3 "[domain-name:value LIKE 'avsvmcloud.com.%%']"
    printf ','
    ind 4 "[ipv4-addr:value = '192.0.2.7']"
    printf ']}\n'
} >like.json

# like FILES...: `cairn hunt --jsonl` (with the sensor key) of FILES,
# sorted, against `archive hunt --jsonl`, through the catalogue and by
# the scan it replaced.
like() {
    min=$1 what=$2
    shift 2
    run hunt --jsonl -i like.json "$@"
    expect 1 "cairn hunt with LIKE and MATCHES"
    sed 's/}$/,"sensor":"s"}/' "$out" | sort >raw.jsonl
    run archive hunt --data "$data" --jsonl -i like.json
    expect 1 "archive hunt with LIKE and MATCHES"
    sort "$out" >arch.jsonl
    cp "$err" arch.err
    export CAIRN_ARCHIVE_NO_CATALOGUE=1
    run archive hunt --data "$data" --jsonl -i like.json
    unset CAIRN_ARCHIVE_NO_CATALOGUE
    sort "$out" >scan.jsonl
    if cmp -s raw.jsonl arch.jsonl && cmp -s raw.jsonl scan.jsonl &&
        [ "$(wc -l <arch.jsonl)" -eq "$min" ]; then
        ok
    else
        fail "LIKE/MATCHES hits differ from cairn hunt's ($what):"
        diff raw.jsonl arch.jsonl | head -5
        diff raw.jsonl scan.jsonl | head -5
    fi
}

# ---- two segments --------------------------------------------------------------
run archive add --data "$data" --sensor s a.log
expect 0 "add a.log"
said "catalogue of distinct values updated" || fail "add: $(cat "$err")"
[ -n "$(runs "$data")" ] || fail "no catalogue after the first add"
run archive add --data "$data" --sensor s b.log
expect 0 "add b.log"
run archive lookup --data "$data" avsvmcloud.com.example.net 192.0.2.7 \
    XAVSVMCLOUD.com nowhere.example
expect 1 "lookup (a value never seen)"
printed "^domain	avsvmcloud.com.example.net	7	2020-09-13T12:26:41Z	2020-09-14T16:14:41Z$" ||
    fail "lookup over two segments: $(cat "$out")"
printed "^ipv4	192.0.2.7	2	2020-09-13T12:26:47Z	2020-09-14T16:13:27Z$" ||
    fail "lookup of an address: $(cat "$out")"
printed "^domain	xavsvmcloud.com	7	" || fail "lookup folds case: $(cat "$out")"
printed "^domain	nowhere.example	0	-	-$" || fail "lookup miss: $(cat "$out")"
run archive lookup --data "$data" --under avsvmcloud.com
expect 0 "lookup --under"
[ "$(wc -l <"$out")" -eq 6 ] && printed "^domain	x40y.appsync-api.eu-west-1.avsvmcloud.com	1	2020-09-14T" &&
    ! printed "xavsvmcloud\|example.net" ||
    fail "lookup --under: $(cat "$out")"
run archive stats --data "$data"
expect 0 "stats"
values=$(awk '/^distinct values/ { print $NF }' "$out")
[ "${values:-0}" -gt 300 ] || fail "stats distinct values: $(cat "$out")"
like 18 "two segments" a.log b.log
run archive check --data "$data"
expect 0 "check of a sound catalogue"

# ---- prune: the oldest segment's values leave the catalogue ------------------------
run archive prune --data "$data" --max-size 1
expect 0 "prune to the newest segment"
run archive lookup --data "$data" avsvmcloud.com.example.net host153.benign.test
expect 1 "lookup after prune (host153 was only in a.log)"
printed "^domain	avsvmcloud.com.example.net	3	2020-09-14T16:13:21Z	2020-09-14T16:14:41Z$" ||
    fail "lookup after prune: $(cat "$out")"
printed "^domain	host153.benign.test	0	-	-$" ||
    fail "a dropped value is still catalogued: $(cat "$out")"
like 7 "after prune" b.log
run archive check --data "$data"
expect 0 "check after prune"

# ---- a crash between the journal and the catalogue ---------------------------------
dnslog c.log 1600200000 100 40 # 2020-09-15: 3 near misses of each
mkdir saved && cp -p $(runs "$data") saved/
run archive add --data "$data" --sensor s c.log
expect 0 "add c.log"
# as if killed before the rename of c.log's run
rm -f $(runs "$data") && cp -p saved/* "$data"/archive/
run archive lookup --data "$data" avsvmcloud.com.example.net
expect 0 "lookup with an out-of-date catalogue"
said "catalogue: out of date" || fail "out-of-date catalogue: $(cat "$err")"
printed "	avsvmcloud.com.example.net	6	2020-09-14T16:13:21Z	" ||
    fail "lookup: $(cat "$out")"
like 14 "an out-of-date catalogue" b.log c.log
run archive check --data "$data"
expect 1 "check reports an out-of-date catalogue"
said "catalogue: does not cover" || fail "check: $(cat "$err")"
run archive add --data "$data" --sensor s c.log
expect 0 "add (nothing new) rebuilds the catalogue"
said "catalogue: does not cover.*rebuilding" || fail "rebuild: $(cat "$err")"
run archive check --data "$data"
expect 0 "check after the rebuild"

# ---- damage --------------------------------------------------------------------
[ "$(runs "$data" | wc -l)" -eq 1 ] || fail "a rebuild leaves one run: $(runs "$data")"
cat=$(runs "$data" | head -1)
size=$(wc -c <"$cat")
printf 'XXXXXXXX' | dd of="$cat" bs=1 seek=$((size / 4)) conv=notrunc 2>/dev/null
run archive check --data "$data"
expect 1 "check finds the damaged catalogue"
said "archive/catalogue[.0-9]*: .*checksum" || fail "check: $(cat "$err")"
like 14 "a damaged catalogue" b.log c.log
grep -q "catalogue: .*checksum" arch.err ||
    fail "hunt does not warn of the catalogue: $(cat arch.err)"
run archive lookup --data "$data" avsvmcloud.com.example.net
expect 0 "lookup with a damaged catalogue"
printed "	avsvmcloud.com.example.net	6	" || fail "lookup: $(cat "$out")"
run archive lookup --data "$data" --under avsvmcloud.com
expect 0 "lookup --under with a damaged catalogue"
[ "$(wc -l <"$out")" -eq 3 ] || fail "lookup --under: $(cat "$out")"
dnslog d.log 1600300000 10 50
run archive add --data "$data" --sensor s d.log
expect 0 "add after the damage"
said "catalogue.*rebuilding" || fail "no rebuild: $(cat "$err")"
run archive check --data "$data"
expect 0 "check after the damage was rebuilt"
run archive lookup --data "$data" avsvmcloud.com.example.net
printed "	avsvmcloud.com.example.net	7	" || fail "lookup: $(cat "$out")"

# ---- kill -9 during an add of many small segments ---------------------------------
# Each seal folds the segment into a new catalogue, renamed over the old:
# killed anywhere, the catalogue is the old one or the new one (never
# torn), at worst out of date, and the next add makes it whole again.
data5=$tmp/data5
dnslog big.log 1600500000 2000 50
CAIRN_ARCHIVE_SEGMENT_EVENTS=200 "$CAIRN" archive add --data "$data5" -q \
    big.log 2>kill.err &
pid=$!
tries=0
while [ "$(ls "$data5"/archive/*.seg 2>/dev/null | wc -l)" -lt 3 ] &&
    [ $tries -lt 1200 ] && kill -0 $pid 2>/dev/null; do
    sleep 0.05
    tries=$((tries + 1))
done
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
run archive check --data "$data5"
if [ "$rc" -eq 0 ] || { [ "$rc" -eq 1 ] && said "catalogue: does not cover" &&
    ! said "checksum\|torn\|not a catalogue"; }; then ok; else
    fail "after kill -9, check: exit $rc: $(cat "$err")"
fi
export CAIRN_ARCHIVE_SEGMENT_EVENTS=200
run archive add --data "$data5" big.log
unset CAIRN_ARCHIVE_SEGMENT_EVENTS
expect 0 "the add resumed after kill -9"
run archive check --data "$data5"
expect 0 "check after the resumed add"
run archive lookup --data "$data5" avsvmcloud.com.example.net
printed "	avsvmcloud.com.example.net	40	" ||
    fail "lookup after kill -9 and resume: $(cat "$out")"

# ---- runs: a seal writes the new segment's values alone, runs are merged -------
# 10 segments of 200 events: runs of about one size are merged 4 at a time.
data6=$tmp/data6
export CAIRN_ARCHIVE_SEGMENT_EVENTS=200
run archive add --data "$data6" big.log
unset CAIRN_ARCHIVE_SEGMENT_EVENTS
expect 0 "add in 10 segments"
nruns=$(runs "$data6" | wc -l)
[ "$(ls "$data6"/archive/*.seg | wc -l)" -eq 10 ] && [ "$nruns" -ge 2 ] &&
    [ "$nruns" -le 4 ] || fail "10 segments in $nruns runs: $(runs "$data6")"
run archive check --data "$data6"
expect 0 "check of a catalogue in runs"
run archive lookup --data "$data6" avsvmcloud.com.example.net
printed "	avsvmcloud.com.example.net	40	2020-09-19T07:20:01Z	2020-09-19T07:52:31Z$" ||
    fail "lookup over runs: $(cat "$out")"
run archive lookup --data "$data6" --under avsvmcloud.com
expect 0 "lookup --under over runs"
[ "$(wc -l <"$out")" -eq 40 ] || fail "lookup --under over runs: $(cat "$out")"
run archive stats --data "$data6"
runs_values=$(awk '/^distinct values/ { print $NF }' "$out")
run archive stats --data "$data5"
[ "$runs_values" = "$(awk '/^distinct values/ { print $NF }' "$out")" ] ||
    fail "distinct values over runs: $runs_values"
# a run a merge replaced, left by a crash before its removal: ignored,
# then removed by the next writer
newest=$(runs "$data6" | sort -t. -k2n | tail -1)
cp -p "$newest" "$data6"/archive/catalogue.1
run archive check --data "$data6"
expect 0 "check with a replaced run left over"
run archive lookup --data "$data6" avsvmcloud.com.example.net
printed "	avsvmcloud.com.example.net	40	" ||
    fail "lookup with a replaced run left over: $(cat "$out")"
run archive add --data "$data6" big.log
expect 0 "add (nothing new) with a replaced run left over"
[ ! -e "$data6"/archive/catalogue.1 ] || fail "the replaced run is still there"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
