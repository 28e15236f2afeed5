#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# `cairn export` as a sensor's operator runs it: every format of a set of
# indicators compared with the expected files (tests as data: Zeek,
# Suricata and Snort are not packaged for Debian 12, so their files are
# checked against their documented grammar by hand, once, and kept), sids
# that stay and revs that rise, what cannot be expressed counted and
# named, and the real consumers from Debian: named-checkzone and unbound
# load the RPZ zone of FireEye's SUNBURST indicators, yara compiles the
# YARA export and finds a planted file.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${CAIRN_SRC:?CAIRN_SRC must name the source tree}/tests/cli/lib.sh"
: "${CAIRN_EXAMPLES:?CAIRN_EXAMPLES must name the examples/ folder}"
: "${CAIRN_DATA:?CAIRN_DATA must name tests/data}"
need jq named-checkzone unbound dig yara

exp=$CAIRN_DATA/export
fe=$CAIRN_EXAMPLES/sunburst-fireeye
data=$tmp/data
cd "$tmp" || exit 2

# same FILE EXPECTED DESCRIPTION: one check that FILE is EXPECTED, byte for
# byte (the RPZ serial, which changes with every rewrite, masked as N, and
# the CSV score, which decays with the days, as S: scores are checked below
# on indicators valid from now).
same() {
    sed -e 's/^\(@ IN SOA localhost\. hostmaster\.localhost\.\) [0-9]* /\1 N /' \
        -e '/^[a-z0-9]*,.*,indicator--/s/,[0-9][0-9]*,\([^,]*\)$/,S,\1/' \
        "$1" >"$1.masked"
    if cmp -s "$1.masked" "$2"; then ok; else
        fail "$3"
        diff "$2" "$1.masked" | head -20 | sed 's/^/    /'
    fi
}

"$CAIRN" serve --help >/dev/null # nothing; the store is made below
col=$("$CAIRN" collection add --title export --data "$data" 2>/dev/null |
    tail -1)
[ -n "$col" ] || {
    echo "FAIL: cannot make a collection"
    exit 1
}
run import --collection "$col" --data "$data" "$exp/indicators.json"
expect 0 "the test indicators are stored"

# ---- each format as its consumer reads it -----------------------------------
for f in zeek-intel suricata snort rpz csv yara; do
    run export --format "$f" --collection "$col" --data "$data" \
        --state "$f.state" -o "out.$f"
    expect 1 "$f: written, with indicators it cannot express (exit 1)"
    same "out.$f" "$exp/expected.$f" "$f: the file is the expected one"
    cp "$err" "err.$f"
done
check "stdout is empty with -o" [ ! -s "$out" ]
contains err.suricata "indicator--00000008-0000-4000-8000-000000000008: suricata cannot express it: values joined by AND" \
    "a pattern that is more than values is named with the reason"
contains err.suricata "indicator--00000005-0000-4000-8000-000000000005: suricata cannot express email values" \
    "a value type without a rule is named"
contains err.suricata "suricata: 12 entries from 6 of 17 indicators; 9 unsupported, 0 in part, 1 revoked, 1 expired, 0 filtered" \
    "the summary counts what was left out and why"
contains err.zeek-intel "zeek-intel: 12 entries from 9 of 17 indicators; 6 unsupported" \
    "Zeek takes every value type but registry keys"
check "revoked and expired indicators are in no file" \
    sh -c '! grep -l "revoked.example\|expired.example" out.*'
contains err.yara "indicator--00000001-0000-4000-8000-000000000001: yara exports YARA rules only" \
    "STIX patterns are named in a YARA export"

run export --format stix --collection "$col" --data "$data"
expect 0 "stix: every indicator is expressible"
check "stix: a bundle of the 15 live indicators" \
    [ "$(jq '[.objects[] | select(.type == "indicator")] | length' "$out")" = 15 ]
run export --format misp --collection "$col" --data "$data"
expect 1 "misp: written, yara and patterns left out"
cp "$out" misp.json
check "misp: one attribute per value, typed for MISP" \
    [ "$(jq -c '[.Event.Attribute[] | .type] | unique' misp.json)" = \
        '["domain","email-src","filename","ip-dst","md5","regkey","sha256","url"]' ]
check "misp: the comment names the indicator" \
    [ "$(jq -r '.Event.Attribute[] | select(.value == "evil.dll") | .comment' misp.json)" = \
        "Loader (indicator--00000007-0000-4000-8000-000000000007)" ]
check "misp: attributes are for IDS" \
    [ "$(jq '[.Event.Attribute[] | select(.to_ids != true)] | length' misp.json)" = 0 ]
run export --format misp --collection "$col" --data "$data"
check "misp: the same attribute UUIDs on every export" \
    [ "$(jq -c '[.Event.Attribute[].uuid]' "$out")" = "$(jq -c '[.Event.Attribute[].uuid]' misp.json)" ]

run export --format csv --collection "$col" --data "$data" --type domain --type ipv4
expect 0 "csv --type: written (what the filter leaves out is not unsupported)"
check "--type keeps only those types" \
    [ "$(cut -d, -f1 "$out" | sort -u | tr '\n' ' ')" = "domain ipv4 type " ]
run export --format csv --collection "$col" --data "$data" --type dns
expect 2 "an unknown --type is a usage error"
check "...which names it" said "unknown value type 'dns'"
run export --format bind --collection "$col" --data "$data"
expect 2 "an unknown --format is a usage error"
run export --format csv --collection 00000000-0000-4000-8000-000000000000 --data "$data"
expect 2 "an unknown collection is an error"
check "...which names it" said "collection 00000000-0000-4000-8000-000000000000: no such collection"

# ---- scores and warninglists (the analysis module's) ------------------------
# Indicators valid from now, so that their scores are their confidence.
now=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
sind() { # ID CONFIDENCE PATTERN NAME
    printf '{"type":"indicator","spec_version":"2.1","id":"indicator--%s-0000-4000-8000-000000000000","created":"%s","modified":"%s","valid_from":"%s","pattern_type":"stix","confidence":%s,"pattern":"%s","name":"%s"}' \
        "$1" "$now" "$now" "$now" "$2" "$3" "$4"
}
{
    printf '{"type":"bundle","id":"bundle--00000000-0000-4000-8000-0000000000aa","objects":['
    sind 000000a1 90 "[domain-name:value = 'high.example']" high
    printf ,
    sind 000000a2 20 "[domain-name:value = 'low.example']" low
    printf ,
    sind 000000a3 90 "[ipv4-addr:value = '8.8.8.8']" resolver
    printf ,
    sind 000000a4 90 "[ipv4-addr:value = '8.8.4.4' OR ipv4-addr:value = '198.18.0.1']" mixed
    printf ,
    sind 000000a5 90 "[domain-name:value = 'x.cloudfront.net']" cdn
    printf ']}\n'
} >scored.json
scol=$("$CAIRN" collection add --title scored --data "$data" 2>/dev/null | tail -1)
run import --collection "$scol" --data "$data" scored.json
expect 0 "the scored indicators are stored"
wl=$CAIRN_EXAMPLES/warninglists

run export --format csv --collection "$scol" --data "$data"
expect 0 "csv: without warninglists every value is written"
check "csv: the score column holds the indicator's score" \
    [ "$(grep -E '^domain,(high|low)\.example,' "$out" | cut -d, -f2,5 | tr '\n' ' ')" = \
        "high.example,90 low.example,20 " ]
check "csv: every row has a score" \
    [ "$(sed 1d "$out" | cut -d, -f5 | grep -c '^[0-9][0-9]*$')" = 6 ]

run export --format csv --collection "$scol" --data "$data" --min-score 50
expect 0 "--min-score: written (a low score is not an error)"
check "--min-score 50 leaves out the indicator scoring 20" \
    sh -c "! grep -q low.example '$out'"
check "...and keeps the one scoring 90" grep -q '^domain,high.example,' "$out"
contains "$err" "0 filtered, 1 below score 50" "the summary counts those below the score"
run export --format csv --collection "$scol" --data "$data" --min-score 101
expect 2 "--min-score above 100 is a usage error"

run export --format rpz --collection "$scol" --data "$data" --warninglists "$wl"
expect 0 "--warninglists: written (what a list leaves out is not an error)"
check "a value on a list is not in the zone" sh -c "! grep -q '8\.8\.8\.rpz-ip\|4\.4\.8\.8\.rpz-ip\|cloudfront' '$out'"
check "...the other value of the same indicator is" grep -q '^32\.1\.0\.18\.198\.rpz-ip CNAME \.$' "$out"
check "...and the indicators on no list" grep -q '^high\.example CNAME \.$' "$out"
contains "$err" "indicator--000000a3-0000-4000-8000-000000000000: 8.8.8.8 is on warninglist 'Public DNS resolvers'" \
    "each value left out is named with its list"
contains "$err" "x.cloudfront.net is on warninglist 'CDN host names'" \
    "...a domain under a listed host name too"
contains "$err" "0 filtered, 2 warninglisted (3 values)" \
    "the summary counts the indicators and values left out"
run export --format stix --collection "$scol" --data "$data" --warninglists "$wl"
check "stix: an indicator with a listed value is left out whole" \
    [ "$(jq -r '[.objects[].name] | sort | join(" ")' "$out")" = "high low" ]
CAIRN_WARNINGLISTS=$wl run export --format rpz --collection "$scol" --data "$data"
check "\$CAIRN_WARNINGLISTS is the default --warninglists" \
    sh -c "! grep -q cloudfront '$out'"
run export --format rpz --collection "$scol" --data "$data" --warninglists "$wl" \
    --include-warninglisted
expect 0 "--include-warninglisted: written"
check "--include-warninglisted writes the listed values" \
    grep -q '^x\.cloudfront\.net CNAME \.$' "$out"
run export --format csv --collection "$scol" --data "$data" --warninglists "$wl" \
    --include-warninglisted --min-score 50
check "a listed indicator's score is a quarter (90 becomes 22 or 23: below 50)" \
    sh -c "! grep -q cloudfront '$out' && grep -q high.example '$out'"
run export --format csv --collection "$scol" --data "$data" --warninglists /nonexistent
expect 2 "--warninglists that cannot be read is an error"

# ---- sids stay, rev rises -----------------------------------------------------
jq '.objects |= map(select(.id == "indicator--00000001-0000-4000-8000-000000000001")
        | .modified = "2026-11-02T00:00:00.000Z" | .name = "C2 domain, renamed")
    + [{"type": "indicator", "spec_version": "2.1",
        "id": "indicator--00000018-0000-4000-8000-000000000018",
        "created": "2026-11-02T00:00:00.000Z", "modified": "2026-11-02T00:00:00.000Z",
        "pattern": "[ipv4-addr:value = '"'"'192.0.2.99'"'"']", "pattern_type": "stix",
        "valid_from": "2026-11-02T00:00:00Z", "name": "New"}]' \
    "$exp/indicators.json" >changes.json
run import --collection "$col" --data "$data" changes.json
expect 0 "a new version and a new indicator are stored"
run export --format suricata --collection "$col" --data "$data" \
    --state suricata.state -o again.suricata
# sid_of FILE TEXT: "sid:N; rev:M" of the rule of FILE holding TEXT
sid_of() { grep -F -- "$2" "$1" | head -1 | sed 's/.*\(sid:[0-9]*; rev:[0-9]*\);).*/\1/'; }
check "the changed indicator's DNS rule keeps its sid, rev 2" \
    [ "$(sid_of again.suricata 'DNS query evil.example.com')" = "sid:1000000; rev:2" ]
check "...its TLS rule too" \
    [ "$(sid_of again.suricata 'TLS SNI evil.example.com')" = "sid:1000001; rev:2" ]
check "an unchanged indicator keeps sid and rev" \
    [ "$(sid_of again.suricata '[192.0.2.55]')" = "sid:1000008; rev:1" ]
check "a new indicator gets a new sid" \
    [ "$(sid_of again.suricata '[192.0.2.99]')" = "sid:1000012; rev:1" ]
check "the message names the indicator's new name" \
    grep -q 'C2 domain, renamed (indicator--00000001' again.suricata
run export --format suricata --collection "$col" --data "$data" \
    --state suricata.state -o third.suricata
check "a third export with nothing new is the same file" cmp -s again.suricata third.suricata
printf 'sid 12 x\n' >bad.state
run export --format snort --collection "$col" --data "$data" --state bad.state
expect 2 "a malformed state file is an error"
check "...naming its line" said "bad.state:1"

# ---- RPZ: named-checkzone, serial, unbound -----------------------------------
check_stderr=show
check "named-checkzone accepts the zone" \
    named-checkzone -q rpz.cairn out.rpz
serial() { sed -n 's/^@ IN SOA localhost\. hostmaster\.localhost\. \([0-9]*\) .*/\1/p' "$1"; }
s1=$(serial out.rpz)
run export --format rpz --collection "$col" --data "$data" --state rpz.state -o out2.rpz
s2=$(serial out2.rpz)
check "the serial increases with every rewrite ($s1, then $s2)" [ "$s2" -gt "$s1" ]

# FireEye's SUNBURST indicators: the network and file indicators, and the
# command-and-control domains its signature table names (avsvmcloud.com)
fcol=$("$CAIRN" collection add --title fireeye --data "$data" 2>/dev/null | tail -1)
run feed import --format fireeye "$fe/Indicator_Release_NBIs.csv" -o nbis.json
expect 0 "FireEye's network indicators convert"
run feed import --format fireeye "$fe/Indicator_Release_Hashes.csv" -o hashes.json
expect 0 "FireEye's file indicators convert"
grep -o '[a-z0-9.-]*\[\.\][a-z]*' "$fe/signature_table_of_contents.csv" |
    sort -u >c2.txt
run feed import c2.txt -o c2.json
expect 0 "the signature table's domains convert"
run import --collection "$fcol" --data "$data" nbis.json hashes.json c2.json
expect 0 "FireEye's indicators are stored"
run export --format rpz --collection "$fcol" --data "$data" -o sunburst.rpz
expect 1 "the SUNBURST zone is written (hashes left out)"
check "named-checkzone accepts the SUNBURST zone" \
    named-checkzone -q rpz.cairn sunburst.rpz
check "the zone blocks avsvmcloud.com and its subdomains" \
    grep -qx '\*\.avsvmcloud\.com CNAME \.' sunburst.rpz

# A real unbound on a free port, answering from the zone and one local name
# (nothing leaves the machine); another port is tried when one is taken.
ask() { dig @127.0.0.1 -p "$uport" +tries=1 +time=2 "$@"; }
attempt=0
upid=""
while [ $attempt -lt 5 ] && [ -z "$upid" ]; do
    attempt=$((attempt + 1))
    uport=$((20000 + ($$ * 7 + attempt * 7919) % 40000))
    cat >unbound.conf <<EOF
server:
    interface: 127.0.0.1
    port: $uport
    do-daemonize: no
    username: ""
    chroot: ""
    directory: "$tmp"
    pidfile: ""
    use-syslog: no
    logfile: "$tmp/unbound.log"
    module-config: "respip iterator"
    do-not-query-localhost: no
    access-control: 127.0.0.0/8 allow
    local-zone: "notavsvmcloud.com." static
    local-data: "notavsvmcloud.com. 60 IN A 192.0.2.7"
rpz:
    name: rpz.cairn.
    zonefile: "$tmp/sunburst.rpz"
EOF
    unbound -d -c unbound.conf 2>>unbound.log &
    upid=$!
    at_exit="reap $upid"
    tries=0
    until ask notavsvmcloud.com >dig.out 2>&1 && grep -q 'status:' dig.out; do
        tries=$((tries + 1))
        if ! kill -0 "$upid" 2>/dev/null || [ $tries -ge 200 ]; then
            reap "$upid"
            upid=""
            break
        fi
        sleep 0.05
    done
done
[ -n "$upid" ] || fail "unbound did not answer: $(tail -3 unbound.log)"
ask x.appsync-api.eu-west-1.avsvmcloud.com >dig.out 2>&1
contains dig.out "status: NXDOMAIN" "unbound answers NXDOMAIN for a SUNBURST C2 subdomain"
ask avsvmcloud.com >dig.out 2>&1
contains dig.out "status: NXDOMAIN" "...and for the C2 domain itself"
ask notavsvmcloud.com >dig.out 2>&1
contains dig.out "status: NOERROR" "a name that only ends like it is answered normally"
contains dig.out "192.0.2.7" "...with its address"
kill "$upid" 2>/dev/null
wait "$upid" 2>/dev/null
at_exit=""

# ---- YARA: yara compiles the export and finds a planted file -----------------
mkdir planted
printf 'MZ header then SolarWinds.Orion.Core.BusinessLayer in the middle\n' >planted/loader.dll
printf 'nothing to see\n' >planted/clean.txt
check "yara compiles the YARA export" yara -w out.yara planted/clean.txt
yara -w out.yara planted/loader.dll >yara.out 2>&1
contains yara.out "cairn_00000011000040008000000000000011_sunburst planted/loader.dll" \
    "yara finds the planted file with the renamed rule"
check "the rule it depends on was renamed with it (private: not reported)" \
    sh -c '! grep -q excluded yara.out'
check "two indicators' rules of the same name do not clash" \
    [ "$(grep -c '^rule cairn_.*_sunburst' out.yara)" = 2 ]

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
