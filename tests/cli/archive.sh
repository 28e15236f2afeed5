#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# `cairn archive` end to end: add logs (files, gzip, zstd, directories,
# standard input) with a sensor, nothing added twice, hunt through the
# indexes with exactly the hits of `cairn hunt` (domain suffixes, near
# misses), --since/--until, --jsonl with sensor, lookup, stats, check of a
# damaged segment (reported, skipped by hunts), what a crash leaves, and
# prune.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${CAIRN_SRC:?CAIRN_SRC must name the source tree}/tests/cli/lib.sh"
need gzip zstd
cd "$tmp" || exit 2
data=$tmp/data

# dnslog FILE START N HITEVERY: a Zeek dns.log of N queries one second
# apart from epoch second START; every HITEVERY-th is a SUNBURST-style
# subdomain of avsvmcloud.com, the ones after it near misses.
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

mkdir -p logs/sub
dnslog logs/a.log 1600000000 200 50     # 2020-09-13: 4 hits
dnslog logs/sub/b.log 1600100000 100 40 # 3 hits
dnslog c.log 1600200000 120 60          # 2 hits
gzip -c c.log >c.log.gz
dnslog d.log 1600300000 90 45           # 2 hits
zstd -q -c d.log >d.log.zst
dnslog e.log 1600400000 30 10           # 3 hits, from standard input
printf 'avsvmcloud.com\n' >iocs.txt

# ---- add ---------------------------------------------------------------------
run archive add --data "$data" --sensor dns1 logs c.log.gz d.log.zst
expect 0 "add a directory, gzip and zstd"
said "4 inputs (0 already archived).* 510 events archived" ||
    fail "add summary: $(cat "$err")"
stdin=e.log
run archive add --data "$data" --sensor dns2 -
expect 0 "add standard input"
said "30 events archived" || fail "stdin add: $(cat "$err")"

# The same content again, by any name or path, adds nothing.
cp logs/a.log again.log
stdin=e.log
run archive add --data "$data" --sensor dns1 logs c.log.gz again.log -
expect 0 "add again"
said "already archived" && said " 0 events archived" ||
    fail "a second add archived something: $(cat "$err")"
run archive stats --data "$data"
expect 0 "stats"
printed "^events  *540$" || fail "stats events: $(cat "$out")"
printed "^first event  *2020-09-13T12:26:40Z$" ||
    fail "stats first event: $(cat "$out")"

# ---- hunt: exactly the hits of cairn hunt ------------------------------------
run hunt -i iocs.txt logs c.log.gz d.log.zst e.log
expect 1 "cairn hunt finds the planted queries"
cut -f2 "$out" | sort >hunt.values
run archive hunt --data "$data" -i iocs.txt
expect 1 "archive hunt finds them"
cut -f2 "$out" | sort >archive.values
if cmp -s hunt.values archive.values && [ "$(wc -l <archive.values)" -eq 14 ]
then ok; else
    fail "archive hunt and cairn hunt differ:"
    diff hunt.values archive.values | head
fi
grep -q 'example.net\|xavsvmcloud' "$out" && fail "a near miss was a hit"
printed "^logs/sub/b.log:44	x40y.appsync-api" ||
    fail "file and line of a hit: $(head -3 "$out")"

run archive hunt --data "$data" -i iocs.txt --jsonl
expect 1 "--jsonl"
[ "$(grep -c '"sensor":"dns2"' "$out")" -eq 3 ] ||
    fail "--jsonl sensor: $(head -2 "$out")"
grep -q '"indicator":' "$out" && grep -q '"line":' "$out" ||
    fail "--jsonl keys of cairn hunt: $(head -1 "$out")"

# Times: c.log is 2020-09-15, d.log 2020-09-17.
run archive hunt --data "$data" -i iocs.txt --since 2020-09-15 \
    --until 2020-09-16T12:00:00Z
expect 1 "--since/--until"
[ "$(wc -l <"$out")" -eq 2 ] && printed "^c.log.gz:" ||
    fail "--since/--until: $(cat "$out")"
printf 'nothing.example\n' >none.txt
run archive hunt --data "$data" -i none.txt
expect 0 "no hit"

# ---- lookup ------------------------------------------------------------------
run archive lookup --data "$data" avsvmcloud.com.example.net nowhere.example
expect 1 "lookup of a value never seen"
# 200/50 + 100/40 (3 of 100) + 2 + 2 + 3 near misses of each kind
printed "^domain	avsvmcloud.com.example.net	14	2020-09-13T12:26:41Z	" ||
    fail "lookup record: $(cat "$out")"
printed "^domain	nowhere.example	0	-	-$" || fail "lookup miss: $(cat "$out")"

# ---- damage ------------------------------------------------------------------
run archive check --data "$data"
expect 0 "check of a sound archive"
seg=$(ls "$data"/archive/*.seg | head -1)
size=$(wc -c <"$seg")
printf 'XXXX' | dd of="$seg" bs=1 seek=$((size / 3)) conv=notrunc 2>/dev/null
run archive check --data "$data"
expect 1 "check finds a damaged segment"
said "${seg##*/}" || fail "check names the segment: $(cat "$err")"
run archive hunt --data "$data" -i iocs.txt
expect 2 "hunt skips the damaged segment (as cairn hunt an unreadable input)"
said "${seg##*/}" || fail "hunt names the skipped segment: $(cat "$err")"
[ "$(wc -l <"$out")" -eq 10 ] || fail "hunt past damage: $(cat "$out")"

# A truncated gzip file keeps its complete lines, and says so.
head -c $(($(wc -c <c.log.gz) / 2)) c.log.gz >trunc.log.gz
data2=$tmp/data2
run archive add --data "$data2" trunc.log.gz
expect 1 "a truncated gzip file"
said "trunc.log.gz.*truncated" || fail "truncation reported: $(cat "$err")"

# ---- a crash: a torn segment and a torn journal line -------------------------
data3=$tmp/data3
run archive add --data "$data3" logs/a.log
expect 0 "add before the crash"
head -c 300 "$data3/archive/000000000001.seg" >"$data3/archive/000000000002.seg"
printf 'seg 2 9999 12' >>"$data3/archive/journal"
run archive add --data "$data3" c.log.gz logs/a.log
expect 0 "add after the crash"
said "never committed, removed" || fail "torn segment: $(cat "$err")"
run archive stats --data "$data3"
printed "^events  *320$" || fail "after the crash: $(cat "$out")"
run archive check --data "$data3"
expect 0 "check after the crash"

# ---- prune -------------------------------------------------------------------
run archive prune --data "$data3" --keep 1d
expect 0 "prune old segments"
run archive stats --data "$data3"
printed "^events  *0$" || fail "prune --keep: $(cat "$out")"
run archive prune --data "$data3"
expect 2 "prune without --keep or --max-size"

# ---- the indexed hunt: the hits of cairn hunt over every reader ---------------
# Every file of tests/data/telemetry (dns.log is the same bytes as
# dns-as-text.log, which the archive adds once: left out), hunted with
# domains (parents, near misses), addresses (IPv4-mapped too), CIDR blocks
# of both families, a URL, an e-mail address, and STIX patterns with OR
# inside an observation, AND across two, and network-traffic references:
# `archive hunt --jsonl` must give exactly `cairn hunt --jsonl` (with
# sensor), found through the probe index and the values' keys.
cp -r "$CAIRN_SRC/tests/data/telemetry" tel
rm -f tel/*.expect tel/dns.log
cat >tel-iocs.txt <<'EOF2'
avsvmcloud.com
example.com
co.uk
google.com
evil.example.net
10.0.0.15
10.0.0.0/24
192.0.2.0/25
192.0.2.9
2606:4700:4700::1111
2001:db8::/32
fe80::/10
http://evil.example.net/scan
user@example.org
20.140.0.0/16
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
    ind 3 "[network-traffic:dst_ref.value = '10.0.0.2' AND network-traffic:src_ref.value = '10.0.0.15']"
    printf ']}\n'
} >tel-stix.json
data4=$tmp/data4
run archive add --data "$data4" --sensor t tel
expect 1 "add the telemetry samples (binary.bin is refused)"
run hunt --jsonl -i tel-iocs.txt -i tel-stix.json tel
expect 2 "cairn hunt over the samples (binary.bin is unreadable)"
sed 's/}$/,"sensor":"t"}/' "$out" | sort >tel-hunt.jsonl
run archive hunt --data "$data4" --jsonl -i tel-iocs.txt -i tel-stix.json
expect 1 "archive hunt over the samples"
sort "$out" >tel-archive.jsonl
if cmp -s tel-hunt.jsonl tel-archive.jsonl &&
    [ "$(wc -l <tel-archive.jsonl)" -ge 400 ] &&
    grep -q 'e2a01".*"10.0.0.15"' tel-archive.jsonl &&
    grep -q 'e2a02".*"mail.google.com"' tel-archive.jsonl &&
    grep -q '"192.0.2.0/25".*"::ffff:192.0.2.9"' tel-archive.jsonl; then
    ok
else
    fail "archive hunt and cairn hunt differ on the samples:"
    diff tel-hunt.jsonl tel-archive.jsonl | head
fi
run archive check --data "$data4"
expect 0 "check verifies the probe index"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
