#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# `cairn analyse sunburst` as an analyst runs it over a resolver's logs:
# three victims planted in a Zeek dns.log with answers (complete, a chunk
# lost, base32 in capitals), near misses that must not count, the same
# names as a list, compressed and on standard input; STIX out that
# validates; and every usage mistake answered with exit 2.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${CAIRN_SRC:?CAIRN_SRC must name the source tree}/tests/cli/lib.sh"
: "${CAIRN_DATA:?CAIRN_DATA must name tests/data}"
need jq gzip
check_stderr=show

d=$CAIRN_DATA/analyse
cd "$tmp" || exit 2

# field GUID KEY: the value of KEY in the --jsonl finding of victim GUID.
field() { jq -r --arg g "$1" "select(.guid == \$g) | .$2" "$out"; }

# ---- a Zeek dns.log with answers ------------------------------------------------
run analyse sunburst "$d/dns.log"
expect 1 "victims found exit 1"
check "the table has a header and three victims" \
    [ "$(wc -l <"$out")" -eq 4 ]
check "newest activity first" \
    sh -c "sed -n 2p '$out' | grep -q '^3399887766554433 '"
check "the summary counts names, relevant and undecodable" \
    said "13 names, 9 under its domains, 8 decoded, 1 undecodable: 3 findings"

run analyse sunburst --jsonl "$d/dns.log"
expect 1 "--jsonl"
check "one JSON object per victim" [ "$(jq -c . "$out" | wc -l)" -eq 3 ]
a=11a2334455667788
check "victim A's domain, complete" \
    [ "$(field $a domain) $(field $a status)" = "corp.water-utility.example complete" ]
check "...by the substitution cipher" [ "$(field $a encoding)" = substitution ]
check "...first and last seen from the log" \
    [ "$(field $a first_seen) $(field $a last_seen)" = \
        "2020-06-01T00:00:00Z 2020-06-01T01:30:00Z" ]
check "...two beacons among its four queries" \
    [ "$(field $a beacons) $(field $a queries)" = "2 4" ]
check "...stage 2 seen, the CNAME is the HTTP C2" \
    [ "$(field $a stage2) $(field $a state) $(field $a cname)" = \
        "true stage2 deftsecurity.com" ]
check "...the NextStringEx status bits" [ "$(field $a services)" = 0104 ]
b=2001020304050607
check "victim B is partial, chunk 0 missing" \
    [ "$(field $b status) $(jq -c --arg g $b 'select(.guid == $g) | .missing_chunks' "$out")" = "partial [0]" ]
check "...what decodes is shown after the gap" \
    [ "$(field $b domain)" = "…spital.example.org" ]
check "...a kill-switch answer: terminate" [ "$(field $b state)" = terminate ]
c=3399887766554433
check "victim C: capitals forced base32, upper-case queries decoded" \
    [ "$(field $c domain) $(field $c encoding)" = "CORP.Example.COM base32" ]
check "...no answers: state unknown" [ "$(field $c state)" = unknown ]
check "near misses are no victims" \
    [ "$(jq -r '.names[]' "$out" | grep -c 'example.net\|xavsvm\|www\.avsvm')" -eq 0 ]

# ---- the same names in other forms -------------------------------------------------
run analyse sunburst --jsonl "$d/names.txt"
expect 1 "a plain list of names"
check "the list gives victim A, complete" \
    [ "$(field $a domain) $(field $a status)" = "corp.water-utility.example complete" ]
check "...and nothing else" [ "$(jq -c . "$out" | wc -l)" -eq 1 ]

gzip -c "$d/dns.log" >dns.log.gz
run analyse sunburst --jsonl dns.log.gz
expect 1 "a gzip-compressed log"
jq -S . "$out" >gz.json
run analyse sunburst --jsonl "$d/dns.log"
jq -S . "$out" >plain.json
check "compressed and plain give the same findings" cmp gz.json plain.json
stdin=$d/dns.log run analyse sunburst --jsonl -
expect 1 "standard input"
jq -S . "$out" >stdin.json
check "standard input gives the same findings" cmp stdin.json plain.json

printf 'www.example.com\nmail.example.org\n' >clean.txt
run analyse sunburst clean.txt
expect 0 "no victims exit 0"
check "...and print nothing" [ ! -s "$out" ]

# A truncated compressed file: what came before is used, the damage named.
head -c 700 dns.log.gz >cut.gz
run analyse sunburst --jsonl cut.gz
expect 2 "a truncated gzip file"
check "...is named in the error" said "cut.gz"

# Malformed lines are reported, not fatal.
{
    printf '{"query": "%s"}\n' "$(sed -n 1p "$d/names.txt")"
    printf '{"query": broken\n'
    printf '{"query": "%s"}\n' "$(sed -n 2p "$d/names.txt")"
} >events.json
run analyse sunburst events.json
expect 1 "JSON lines with a malformed line"
check "...the malformed line is reported with its number" said "events.json:2"

# ---- STIX ----------------------------------------------------------------------------
run analyse sunburst --stix "$d/dns.log"
expect 1 "--stix"
cp "$out" victims.json
run validate victims.json
expect 0 "the STIX written is valid"
check "an identity and a sighting per victim" \
    [ "$(jq '[.objects[] | select(.type == "identity")] | length' victims.json) \
$(jq '[.objects[] | select(.type == "sighting")] | length' victims.json)" = "3 3" ]
red=marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1
check "victims are TLP:RED by default" \
    [ "$(jq --arg m $red '[.objects[] | select(.type == "identity") |
        select(.object_marking_refs == [$m])] | length' victims.json)" -eq 3 ]
check "the sightings' evidence names the queries" \
    [ "$(jq '[.objects[] | select(.type == "domain-name")] | length' victims.json)" -ge 8 ]
ind=indicator--6f1c1a3e-2b8f-4a4e-9c0a-9d5b2f7e1a10
run analyse sunburst --stix --indicator "$ind" --tlp amber "$d/dns.log"
expect 1 "--stix --indicator --tlp amber"
check "...the sightings are of the given indicator" \
    [ "$(jq -r --arg i "$ind" '[.objects[] | select(.type == "sighting") |
        select(.sighting_of_ref == $i)] | length' "$out")" -eq 3 ]
check "...and no indicator is written" \
    [ "$(jq '[.objects[] | select(.type == "indicator")] | length' "$out")" -eq 0 ]
check "...victims are TLP:AMBER" \
    grep -q 'marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421' "$out"

# ---- mistakes ---------------------------------------------------------------------------
run analyse nosuch "$d/dns.log"
expect 2 "an unknown analyser"
check "...lists the analysers" said "sunburst"
run analyse
expect 2 "no analyser"
run analyse sunburst
expect 2 "no PATH"
check "...says how to read standard input" said "'-'"
run analyse sunburst missing.log
expect 2 "a missing file"
check "...is named" said "missing.log"
run analyse sunburst --jsonl --stix "$d/dns.log"
expect 2 "--jsonl with --stix"
run analyse sunburst --indicator "$ind" "$d/dns.log"
expect 2 "--indicator without --stix"
run analyse sunburst --stix --indicator malware--x "$d/dns.log"
expect 2 "--indicator that is no indicator id"
run analyse sunburst --format nosuch "$d/dns.log"
expect 2 "an unknown --format"
run analyse sunburst --stix --tlp purple "$d/dns.log"
expect 2 "an unknown --tlp"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
