#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# `cairn archive` over an archive written before segment format 3
# (tests/data/archive-v2: format 2, blocks of 4096 events, CRC-32): check
# verifies it, hunts find exactly the hits of `cairn hunt` over the same
# logs, and adding to it writes format-4 segments beside the old ones,
# after which check and hunt still agree on the mixed archive. The same
# for tests/data/archive-v3 (formats 2 and 3, written before format 4).
# Damage in a format-4 segment's probe index is found where a hunt reads
# it (a checksum per page), and by check everywhere.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${CAIRN_SRC:?CAIRN_SRC must name the source tree}/tests/cli/lib.sh"
cd "$tmp" || exit 2
data=$tmp/data
mkdir -p "$data"
cp -r "$CAIRN_SRC/tests/data/archive-v2/archive" "$data/"
chmod -R u+w "$data"
cp -r "$CAIRN_SRC/tests/data/telemetry" tel
old="tel/conn.log tel/dns-rich.log tel/http.log tel/files.log tel/squid_access.log.gz tel/eve.json tel/sysmon.jsonl"
new="tel/ssl.log tel/x509.log tel/apache_access.log tel/syslog.log"

# format SEG: the format number in a segment's header
format() { od -An -tu4 -j8 -N4 "$1" | tr -d ' '; }

cat >iocs.txt <<'EOF2'
avsvmcloud.com
example.com
google.com
evil.example.net
10.0.0.15
10.0.0.0/24
192.0.2.0/25
2001:db8::/32
http://evil.example.net/scan
user@example.org
example.org
EOF2
ind() {
    printf '{"type":"indicator","spec_version":"2.1","id":"indicator--0c1f3c3e-0d9c-4c2e-9d55-3f6f1b1e2a0%s","created":"2020-12-14T00:00:00Z","modified":"2020-12-14T00:00:00Z","pattern":"%s","pattern_type":"stix","valid_from":"2020-12-14T00:00:00Z"}' "$1" "$2"
}
{
    printf '{"type":"bundle","id":"bundle--7a1f3c3e-0d9c-4c2e-9d55-3f6f1b1e2a01","objects":['
    ind 1 "[ipv4-addr:value = '10.0.0.15'] AND [domain-name:value = 'www.example.com']"
    printf ','
    ind 2 "[domain-name:value = 'deftsecurity.com' OR domain-name:value = 'mail.google.com']"
    printf ','
    ind 3 "[domain-name:value LIKE '%%.example.%%']"
    printf ']}\n'
} >stix.json

# same_hits WHAT FILES...: `archive hunt --jsonl` gives exactly `cairn hunt
# --jsonl` over FILES (with the sensor t), and some hits
same_hits() {
    what=$1
    shift
    # shellcheck disable=SC2086
    run hunt --jsonl -i iocs.txt -i stix.json "$@"
    sed 's/}$/,"sensor":"t"}/' "$out" | sort >hunt.jsonl
    run archive hunt --data "$data" --jsonl -i iocs.txt -i stix.json
    sort "$out" >archive.jsonl
    if cmp -s hunt.jsonl archive.jsonl && [ -s archive.jsonl ]; then
        ok
    else
        fail "$what: archive hunt and cairn hunt differ:"
        diff hunt.jsonl archive.jsonl | head
    fi
}

[ "$(format "$data/archive/000000000001.seg")" = 2 ] && ok ||
    fail "the fixture's segments are of format 2"
run archive check --data "$data"
expect 0 "check verifies a format-2 archive"
# shellcheck disable=SC2086
same_hits "format 2" $old
run archive stats --data "$data"
contains "$out" "segments        7" "stats of a format-2 archive"

# two CIDR blocks that start at the same address are two look-ups (one
# was dropped as a repeat, and which one depended on the sort)
printf '10.0.0.0/31\n10.0.0.0/8\n' >nested.txt
# shellcheck disable=SC2086
run hunt --jsonl -i nested.txt $old
sed 's/}$/,"sensor":"t"}/' "$out" | sort >hunt.jsonl
run archive hunt --data "$data" --jsonl -i nested.txt
sort "$out" >archive.jsonl
if cmp -s hunt.jsonl archive.jsonl && [ -s archive.jsonl ]; then ok; else
    fail "nested CIDR blocks: archive hunt and cairn hunt differ"
    diff hunt.jsonl archive.jsonl | head
fi

# shellcheck disable=SC2086
run archive add --data "$data" --sensor t $new
expect 0 "add to a format-2 archive"
last=$(ls "$data"/archive/*.seg | tail -1)
[ "$(format "$last")" = 4 ] && ok || fail "a new segment is of format 4"
[ "$(format "$data/archive/000000000001.seg")" = 2 ] && ok ||
    fail "the old segments are kept as they were"
run archive check --data "$data"
expect 0 "check verifies a mixed archive (formats 2 and 4)"
# shellcheck disable=SC2086
same_hits "formats 2 and 4" $old $new

# an archive of formats 2 and 3 (written before format 4)
data3=$tmp/data3
mkdir -p "$data3"
cp -r "$CAIRN_SRC/tests/data/archive-v3/archive" "$data3/"
chmod -R u+w "$data3"
[ "$(format "$data3/archive/000000000011.seg")" = 3 ] && ok ||
    fail "the fixture archive-v3 has segments of format 3"
run archive check --data "$data3"
expect 0 "check verifies an archive of formats 2 and 3"
data_v=$data
data=$data3
# shellcheck disable=SC2086
same_hits "formats 2 and 3" $old $new
data=$data_v

# a damaged format-4 segment: named by check, skipped by a hunt
size=$(wc -c <"$last")
cp "$last" last.orig
printf 'XXXX' | dd of="$last" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
run archive check --data "$data"
expect 1 "check finds a damaged format-4 segment"
contains "$err" "${last##*/}" "check names the damaged segment"
cp last.orig "$last"

# a damaged probe index of a format-4 segment (of a log of 1,200 IPv4
# addresses, then IPv6 ones, which are so on the addresses' second page):
# its keys section's first page, which every probe reads; the hunt names
# it and skips the segment
awk 'BEGIN {
    for (i = 0; i < 1200; i++)
        printf "host 10.%d.%d.%d evil.example.net\n", i % 200, int(i / 200), i % 251
    print "seen 2001:db8::1"
    print "seen 2001:db8::2"
}' >addrs.log
run archive add --data "$data" --sensor t addrs.log
expect 0 "add a log with IPv6 addresses"
seg=$(ls "$data"/archive/*.seg | tail -1)
size=$(wc -c <"$seg")
# the footer's 249 bytes end the file; the keys section's offset is the
# first field of its entry (the fifth of six, 28 bytes each, from byte 81)
koff=$(od -An -tu8 -j$((size - 249 + 81 + 4 * 28)) -N8 "$seg" | tr -d ' ')
cp "$seg" seg.orig
printf 'X' | dd of="$seg" bs=1 seek=$((koff + 30)) conv=notrunc 2>/dev/null
run archive hunt --data "$data" -i iocs.txt
expect 2 "a hunt over a damaged probe index"
contains "$err" "${seg##*/}: keys section: checksum mismatch in page 0" \
    "the hunt names the damaged keys page"
cp seg.orig "$seg"

# format 4 checks a page of the probe index when a hunt reads it: a byte
# changed in the IPv6 addresses (the last 20 bytes before the addresses'
# page table) goes unseen by a hunt of domains alone, which never reads
# them, and is found by a hunt of an IPv6 block and by check
aoff=$(od -An -tu8 -j$((size - 249 + 81 + 5 * 28)) -N8 "$seg" | tr -d ' ')
araw=$(od -An -tu8 -j$((size - 249 + 81 + 5 * 28 + 16)) -N8 "$seg" | tr -d ' ')
n6=$(od -An -tu8 -j$((aoff + 8)) -N8 "$seg" | tr -d ' ')
[ "$n6" -gt 0 ] && ok || fail "the segment has IPv6 addresses"
printf 'Z' | dd of="$seg" bs=1 seek=$((aoff + araw - 5)) conv=notrunc 2>/dev/null
printf 'evil.example.net\n' >domains.txt
run archive hunt --data "$data" -i domains.txt
expect_not_damaged() {
    if grep -q "${seg##*/}" "$err"; then
        fail "$1"
        cat "$err"
    else
        ok
    fi
}
expect_not_damaged "a hunt of domains reads no IPv6 page"
printf '2001:db8::/32\n' >v6.txt
run archive hunt --data "$data" -i v6.txt
contains "$err" "${seg##*/}: probe index damaged" \
    "a hunt of an IPv6 block finds the damaged page"
run archive check --data "$data"
expect 1 "check finds damage in the IPv6 addresses"
contains "$err" "addresses section: checksum mismatch in page" \
    "check names the damaged page of the addresses"
cp seg.orig "$seg"
run archive check --data "$data"
expect 0 "the segment restored is whole again"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
