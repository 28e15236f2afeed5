#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# `cairn hunt` end to end: small generated logs in every format with values
# planted at known lines; every planted hit must be reported with its file,
# line, value and indicator, and nothing else. Also exit codes, --stix,
# --files with hashes and YARA, bad input, threads and output forms.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${CAIRN_SRC:?CAIRN_SRC must name the source tree}/tests/cli/lib.sh"
: "${CAIRN_DATA:?CAIRN_DATA must name tests/data}"

data=$CAIRN_DATA/hunt-e2e
cd "$tmp" || exit 2

# hunt ARGS...: `cairn hunt ARGS` by lib.sh's run: $rc, and (as $tmp is the
# working directory) the files out and err.
hunt() { run hunt "$@"; }
exit_is() { # exit_is CODE DESCRIPTION
    if [ "$rc" -eq "$1" ]; then ok; else
        fail "$2: exit $rc, expected $1"
        sed 's/^/    /' err | head -10
    fi
}

# The indicators: the short names below are the last two digits of the ids
# in $data/indicators.json; list entries are named "list:VALUE".
ind=indicator--11111111-1111-4111-8111-0000000000
D=01 C=02 A=03 U=04 E=05 H=06 M=07 Y=08 V6=0b

# ---- log generator ---------------------------------------------------------
# gen FORMAT FILE LINES: writes FILE with LINES events of benign values
# (10.x addresses, *.benign.test names), except where `plant` put a value.
# Line numbers are the file's own: Zeek headers and the CSV header count.
cat >gen.awk <<'AWK'
function v(key, dflt) { return ((L, key) in p) ? p[L, key] : dflt }
function q(s) { return "\"" s "\"" }
BEGIN {
    FS = "\t"; T = "\t"
    while ((getline l < plants) > 0) { split(l, a, "\t"); p[a[1], a[2]] = a[3] }
    if (fmt == "zeek-dns" || fmt == "zeek-http") {
        print "#separator \\x09"
        print "#set_separator" T ","
        print "#empty_field" T "(empty)"
        print "#unset_field" T "-"
        print "#path" T (fmt == "zeek-dns" ? "dns" : "http")
        print "#open" T "2020-12-13-10-00-00"
        if (fmt == "zeek-dns") {
            print "#fields" T "ts" T "uid" T "id.orig_h" T "id.orig_p" T "id.resp_h" T "id.resp_p" T "proto" T "query" T "qtype_name" T "rcode_name" T "answers"
            print "#types" T "time" T "string" T "addr" T "port" T "addr" T "port" T "enum" T "string" T "string" T "string" T "vector[string]"
        } else {
            print "#fields" T "ts" T "uid" T "id.orig_h" T "id.orig_p" T "id.resp_h" T "id.resp_p" T "method" T "host" T "uri" T "user_agent" T "status_code"
            print "#types" T "time" T "string" T "addr" T "port" T "addr" T "port" T "string" T "string" T "string" T "string" T "count"
        }
        L = 8
    } else if (fmt == "csv") {
        print "time,src_ip,dst_ip,domain,sha256"
        L = 1
    }
    for (i = 1; i <= n; i++) {
        L++
        ts = sprintf("%d.%06d", 1607853600 + L, L)
        iso = sprintf("2020-12-13T10:%02d:%02dZ", int(L / 60) % 60, L % 60)
        o = "10.1." int(L / 250) "." (L % 250 + 1)
        h = "host" L ".benign.test"
        if (fmt == "zeek-dns")
            print v("ts", ts) T "C" L T v("id.orig_h", o) T 5353 T v("id.resp_h", "10.53.0.1") T 53 T "udp" T v("query", h) T "A" T "NOERROR" T v("answers", "10.2.0." (L % 250 + 1))
        else if (fmt == "zeek-http")
            print ts T "C" L T o T 51000 T v("id.resp_h", "10.80.0.1") T 80 T "GET" T v("host", "www" L ".benign.test") T v("uri", "/page/" L) T "Mozilla/5.0" T 200
        else if (fmt == "zeek-json")
            print "{" q("ts") ":" ts "," q("uid") ":" q("C" L) "," q("id.orig_h") ":" q(o) "," q("id.orig_p") ":5353," q("id.resp_h") ":" q("10.53.0.1") "," q("id.resp_p") ":53," q("proto") ":" q("udp") "," q("query") ":" q(v("query", h)) "," q("answers") ":[" q(v("answers", "10.2.0." (L % 250 + 1))) "]}"
        else if (fmt == "jsonl")
            print v("line", "{" q("time") ":" q(iso) "," q("src_ip") ":" q(o) "," q("dest_ip") ":" q(v("dest_ip", "10.3.0." (L % 250 + 1))) "," q("url") ":" q(v("url", "http://" h "/p" L)) "," q("email") ":" q(v("email", "user" L "@benign.test")) "," q("msg") ":" q(v("msg", "ok")) "}")
        else if (fmt == "csv")
            print iso "," o "," v("dst_ip", "10.3.0." (L % 250 + 1)) "," v("domain", h) "," v("sha256", "")
        else
            print v("line", sprintf("Dec 13 10:%02d:%02d gw proxy[42]: %s GET http://%s/p%d 200", int(L / 60) % 60, L % 60, o, h, L))
    }
    if (fmt ~ /^zeek-(dns|http)$/) print "#close" T "2020-12-13-11-00-00"
}
AWK
: >expected
plant() { # plant FILE LINE KEY VALUE
    printf '%s\t%s\t%s\n' "$2" "$3" "$4" >>"plants.$(echo "$1" | tr / _)"
}
# expect FILE LINE VALUE INDICATOR: one hit that must be reported (this
# script's own expect, not lib.sh's)
expect() {
    printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>expected
}
gen() { # gen FORMAT FILE LINES
    p="plants.$(echo "$2" | tr / _)"
    [ -f "$p" ] || : >"$p"
    awk -v fmt="$1" -v n="$3" -v plants="$p" -f gen.awk >"$2"
}
# The hits of --jsonl output as FILE, LINE, VALUE, INDICATOR (short name).
project() {
    jq -r --arg ind "$ind" '[.file, (.line | tostring), .value,
        (if (.indicator | startswith($ind)) then .indicator[-2:]
         else "list:" + .name end)] | @tsv' "$1"
}
same_hits() { # same_hits JSONL EXPECTED DESCRIPTION
    project "$1" | LC_ALL=C sort >got.sorted
    LC_ALL=C sort "$2" >want.sorted
    if diff want.sorted got.sorted >hits.diff; then ok; else
        fail "$3: hits differ (< expected only, > reported only):"
        sed 's/^/    /' hits.diff | head -40
    fi
}

mkdir -p logs/sub

# Zeek TSV dns.log: subdomains, case, CIDR, exact address, IPv6 CIDR,
# revoked and expired indicators, list entries, two hits on one line.
f=logs/dns.log
plant $f 12 query a.b.evil.example;        expect $f 12 a.b.evil.example $D
plant $f 20 query EVIL.Example;            expect $f 20 EVIL.Example $D
plant $f 25 query notevil.example
plant $f 30 query evil.example.com
plant $f 40 answers 203.0.113.9;           expect $f 40 203.0.113.9 $C
plant $f 50 id.resp_h 198.51.100.7;        expect $f 50 198.51.100.7 $A
plant $f 60 query revoked.example
plant $f 70 query expired.example
plant $f 80 answers 203.0.114.9
plant $f 90 query www.bad-list.example;    expect $f 90 www.bad-list.example list:bad-list.example
plant $f 100 id.orig_h 192.0.2.9;          expect $f 100 192.0.2.9 list:192.0.2.0/28
plant $f 110 id.orig_h 192.0.2.17
plant $f 120 answers 2001:db8:bad::17;     expect $f 120 2001:db8:bad::17 $V6
plant $f 208 query x.y.z.evil.example;     expect $f 208 x.y.z.evil.example $D
plant $f 208 answers 198.51.100.7;         expect $f 208 198.51.100.7 $A
gen zeek-dns $f 200

# Zeek TSV http.log (in a subdirectory): host, host + uri as a URL.
f=logs/sub/http.log
plant $f 15 host www.evil.example;         expect $f 15 www.evil.example $D
plant $f 33 host bad.example.net
plant $f 33 uri /payload.exe;              expect $f 33 http://bad.example.net/payload.exe $U
plant $f 44 id.resp_h 203.0.113.44;        expect $f 44 203.0.113.44 $C
gen zeek-http $f 100

# Zeek JSON.
f=logs/dns.json
plant $f 5 query c2.evil.example;          expect $f 5 c2.evil.example $D
plant $f 17 answers 203.0.113.17;          expect $f 17 203.0.113.17 $C
gen zeek-json $f 50

# JSON lines: URL normalisation (case, default port, %70 = p), email case,
# a URL in free text, a defanged list URL; look-alikes that must not hit.
f=logs/events.jsonl
plant $f 3 url 'HTTP://Bad.Example.NET:80/%70ayload.exe'
expect $f 3 'HTTP://Bad.Example.NET:80/%70ayload.exe' $U
plant $f 9 email PHISH@Bad.Example.org;    expect $f 9 PHISH@Bad.Example.org $E
plant $f 14 dest_ip 203.0.113.140;        expect $f 14 203.0.113.140 $C
plant $f 21 url https://bad.example.net/payload.exe
plant $f 22 url http://bad.example.net:8080/payload.exe
plant $f 23 url http://bad.example.net/payload.exe2
plant $f 27 url 'http://listed.example.com/dl?id=7'
expect $f 27 'http://listed.example.com/dl?id=7' 'list:http://listed.example.com/dl?id=7'
plant $f 35 msg 'download from http://bad.example.net/payload.exe done'
expect $f 35 http://bad.example.net/payload.exe $U
gen jsonl $f 60

# CSV: a hash in upper case, an address, a subdomain.
f=logs/flows.csv
plant $f 7 sha256 46E51BC29F95E628CBECB3C2CD6A3B309DD68DD4259FC18FD5E51A43C0EFD155
expect $f 7 46E51BC29F95E628CBECB3C2CD6A3B309DD68DD4259FC18FD5E51A43C0EFD155 $H
plant $f 19 dst_ip 198.51.100.7;           expect $f 19 198.51.100.7 $A
plant $f 23 domain deep.sub.evil.example;  expect $f 23 deep.sub.evil.example $D
gen csv $f 40

# Plain text: values extracted from proxy and mail log lines.
f=logs/proxy.log
s='Dec 13 10:00:00 gw proxy[42]:'
plant $f 4 line "$s 10.1.0.5 GET http://bad.example.net/payload.exe 200"
expect $f 4 http://bad.example.net/payload.exe $U
plant $f 11 line "$s 10.1.0.5 CONNECT tunnel.evil.example:443 200"
expect $f 11 tunnel.evil.example $D
plant $f 18 line "$s mail from <phish@bad.example.org> rejected"
expect $f 18 phish@bad.example.org $E
plant $f 26 line "$s 10.1.0.5 -> 203.0.113.200:8443 blocked"
expect $f 26 203.0.113.200 $C
plant $f 33 line "$s v6 peer 2001:db8:bad::1 refused"
expect $f 33 2001:db8:bad::1 $V6
plant $f 41 line "$s quarantined 46e51bc29f95e628cbecb3c2cd6a3b309dd68dd4259fc18fd5e51a43c0efd155"
expect $f 41 46e51bc29f95e628cbecb3c2cd6a3b309dd68dd4259fc18fd5e51a43c0efd155 $H
gen text $f 80

# gzip and zstd, whatever their names say.
f=logs/dns2.log.gz
plant dns2.plain 9 query gz.evil.example;  expect $f 9 gz.evil.example $D
plant dns2.plain 108 answers 203.0.113.1;  expect $f 108 203.0.113.1 $C
gen zeek-dns dns2.plain 100
gzip -9 -c dns2.plain >$f
f=logs/sub/events2.jsonl.zst
plant events2.plain 30 email phish@bad.example.org
expect $f 30 phish@bad.example.org $E
gen jsonl events2.plain 30
zstd -q -c events2.plain >$f
# Not regular files: walked past, so no hit is reported twice or waited for.
ln -s dns.log logs/link.log
mkfifo logs/sub/fifo 2>/dev/null || :

# ---- every format, a directory, both indicator sources ----------------------
hunt -i "$data/indicators.json" -i "$data/list.txt" --jsonl logs
exit_is 1 "hits found"
same_hits out expected "directory of every format"
check "jsonl lines are JSON with the documented keys" \
    jq -e 'has("indicator") and has("name") and has("type") and
           has("value") and has("file") and has("line") and has("ts")' out \
    >/dev/null
check "zeek ts as ISO 8601" [ "$(jq -r 'select(.line == 12 and
    .file == "logs/dns.log") | .ts' out)" = "2020-12-13T10:00:12.000012Z" ]
check "type of a domain hit" [ "$(jq -r 'select(.line == 12 and
    .file == "logs/dns.log") | .type' out)" = "domain" ]
check "CSV time as ts" [ "$(jq -r 'select(.file == "logs/flows.csv" and
    .line == 19) | .ts' out)" = "2020-12-13T10:00:19Z" ]
# In input order: files as walked (sorted), lines ascending within each.
jq -r '[.file, .line] | @tsv' out >order
check "hits in file then line order" sh -c \
    'LC_ALL=C sort -s -t "	" -k1,1 -k2,2n order | cmp -s - order'
contains err "indicator--11111111-1111-4111-8111-00000000000c" \
    "unhuntable indicator reported"
contains err "sigma" "reason of an unhuntable indicator"

# Same hits, same bytes, whatever the number of threads.
hunt -i "$data/indicators.json" -i "$data/list.txt" --jsonl --threads 1 logs
cp out out.t1
hunt -i "$data/indicators.json" -i "$data/list.txt" --jsonl --threads 3 logs
check "output identical with 1 and 3 threads" cmp -s out out.t1

# Files named one by one, in the order given.
hunt -i "$data/indicators.json" -i "$data/list.txt" --jsonl \
    logs/flows.csv logs/dns.json
exit_is 1 "two files"
grep -E '^logs/(flows.csv|dns.json)	' expected >want.two
same_hits out want.two "two files"
check "files in the order given" [ "$(jq -r .file out | uniq | tr '\n' ' ')" \
    = "logs/flows.csv logs/dns.json " ]

# Two identical files, one thread: the second file's hit on the same line
# is its own, not a repeat of the first's (hits were once compared across
# files by pointer).
printf '#separator \\x09\n#fields\tts\tquery\n#types\ttime\tstring\n1.0\tevil.example\n' >twin-a.log
cp twin-a.log twin-b.log
echo evil.example >twin.list
hunt -i twin.list --jsonl --threads 1 twin-a.log twin-b.log
exit_is 1 "twin files"
check "each twin file has its hit" [ "$(jq -r .file out | tr '\n' ' ')" \
    = "twin-a.log twin-b.log " ]

# Standard input, with no PATH and with '-'.
"$CAIRN" hunt -i "$data/indicators.json" -i "$data/list.txt" --jsonl \
    <logs/dns.log >out 2>err
rc=$?
exit_is 1 "standard input"
grep '^logs/dns.log	' expected | sed 's|^logs/dns.log|-|' >want.stdin
same_hits out want.stdin "standard input"
gzip -c logs/dns.log | "$CAIRN" hunt -i "$data/indicators.json" \
    -i "$data/list.txt" --jsonl - >out 2>err
rc=$?
exit_is 1 "gzip on standard input"
same_hits out want.stdin "gzip on standard input"

# The default output when not on a terminal: tab-separated, grep-friendly.
hunt -i "$data/indicators.json" logs/dns.log
exit_is 1 "text output"
check "text output: one line per hit" [ "$(wc -l <out)" -eq "$(grep -c \
    '^logs/dns.log	' expected | awk '{print $1 - 2}')" ]
contains out "logs/dns.log:12	a.b.evil.example	${ind}01	evil domain	2020-12-13T10:00:12.000012Z" \
    "text line"

# ---- exit codes ---------------------------------------------------------------
hunt -i "$data/indicators.json" logs/sub/http.log logs/flows.csv --quiet
exit_is 1 "quiet with hits"
check "quiet: nothing on stderr" [ ! -s err ]
gen jsonl clean.jsonl 50
hunt -i "$data/indicators.json" clean.jsonl
exit_is 0 "nothing matched"
check "nothing matched: no output" [ ! -s out ]
hunt clean.jsonl
exit_is 2 "no indicator source"
printf '{"type": "bundle", "id": "bundle--0c7d0b9e-4bd8-4f4e-9a43-4a2b30f9c3a1", "objects": []}\n' >empty.json
hunt -i empty.json clean.jsonl
exit_is 2 "no indicators at all"
contains err "no indicator that can be hunted" "message for no indicators"
jq '.objects |= map(select(.id | endswith("0c") or endswith("09")))' \
    "$data/indicators.json" >unhuntable.json
hunt -i unhuntable.json clean.jsonl
exit_is 2 "only indicators that cannot be hunted"
hunt -i nonexistent.json clean.jsonl
exit_is 2 "missing indicator file"
contains err "nonexistent.json" "missing indicator file named"
hunt -i "$data/indicators.json" --format bogus clean.jsonl
exit_is 2 "bad --format"
hunt -i "$data/indicators.json" --jsonl --stix clean.jsonl
exit_is 2 "--jsonl with --stix"
hunt -i "$data/indicators.json" --threads 0 clean.jsonl
exit_is 2 "--threads 0"

# An unreadable input: reported, then the next one is read; exit 2 wins.
hunt -i "$data/indicators.json" --jsonl nosuch.log logs/flows.csv
exit_is 2 "missing log, then a good one"
contains err "nosuch.log" "missing log named"
grep '^logs/flows.csv	' expected >want.flows
same_hits out want.flows "hits after a missing log"

# A truncated gzip file: what came before the damage, a message, the next.
head -c 1500 logs/dns2.log.gz >trunc.log.gz
hunt -i "$data/indicators.json" --jsonl trunc.log.gz logs/flows.csv
exit_is 2 "truncated gzip"
contains err "trunc.log.gz" "truncated gzip named"
check "hits after a truncated gzip" [ "$(jq -r 'select(.file ==
    "logs/flows.csv") | .line' out | wc -l)" -eq 3 ]

# Binary junk: a message, and the next file is still hunted.
awk 'BEGIN { for (i = 0; i < 4096; i++) printf "%c", (i * 7) % 256 }' \
    >junk.bin
hunt -i "$data/indicators.json" --jsonl junk.bin logs/flows.csv
exit_is 2 "binary junk is an input that cannot be read"
contains err "junk.bin" "binary junk named"
same_hits out want.flows "hits after binary junk"

# Malformed lines: counted, the first reported by line, the scan goes on.
{
    sed -n 1,4p logs/events.jsonl
    echo '{"time": "2020-12-13T10:00:05Z", "url": '
    sed -n 6,16p logs/events.jsonl
    echo 'not json at all'
    sed -n 18,60p logs/events.jsonl
} >bad.jsonl
hunt -i "$data/indicators.json" -i "$data/list.txt" --jsonl bad.jsonl
exit_is 1 "malformed lines are not errors"
contains err "bad.jsonl:5" "first malformed line reported"
contains err "bad.jsonl:17" "second malformed line reported"
grep '^logs/events.jsonl	' expected | sed 's|^logs/events.jsonl|bad.jsonl|' \
    >want.bad
same_hits out want.bad "hits around malformed lines"

# A line longer than --max-line is skipped; line numbers stay right.
{
    sed -n 1,30p logs/events.jsonl
    awk 'BEGIN { s = "x"; while (length(s) < 200000) s = s s;
                 print "{\"msg\": \"" s " 203.0.113.99\"}" }'
    sed -n 31,60p logs/events.jsonl
} >long.jsonl
hunt -i "$data/indicators.json" -i "$data/list.txt" --jsonl \
    --max-line 64K long.jsonl
exit_is 1 "long line"
contains err "long.jsonl:31" "long line reported"
grep '^logs/events.jsonl	' expected | sed 's|^logs/events.jsonl|long.jsonl|' |
    awk -F '\t' -v OFS='\t' '{ if ($2 > 30) $2++; print }' >want.long
same_hits out want.long "hits around a long line"

# A large file is read in parts by several threads (--split): the same
# hits, line numbers and reports as when it is read whole.
plant big.log 1 line "$s first line 203.0.113.1"
i=37
while [ $i -le 1200 ]; do
    plant big.log $i line "$s peer 203.0.113.$((i % 250)) seen"
    i=$((i + 37))
done
gen text big.log 1200
# A Zeek log whose columns change half way (a second header without the
# uid column): the parts after it are read under the second header.
{
    cat logs/dns.log
    grep '^#' logs/dns.log | awk -F '\t' -v OFS='\t' '
        /^#(fields|types)/ { s = $1; for (i = 2; i <= NF; i++)
                             if (i != 3) s = s OFS $i; $0 = s } { print }'
    grep -v '^#' logs/dns.log | awk -F '\t' -v OFS='\t' '
        { s = $1; for (i = 3; i <= NF; i++) s = s OFS $i; print s }'
} >rotated.log
for f in logs/dns.log logs/events.jsonl big.log rotated.log long.jsonl; do
    hunt -i "$data/indicators.json" -i "$data/list.txt" --jsonl --threads 1 \
        --max-line 64K "$f"
    cp out out.whole
    cp err err.whole
    hunt -i "$data/indicators.json" -i "$data/list.txt" --jsonl --threads 3 \
        --split 4K --max-line 64K "$f"
    check "$f in parts: the same hits" cmp -s out out.whole
    check "$f was read in parts" grep -q '1 logs in [2-9][0-9]* parts' err
done
contains err "long.jsonl:31" "a long line in a later part: its own line number"
hunt -i "$data/indicators.json" -i "$data/list.txt" --jsonl --threads 3 \
    --split 4K rotated.log
cp out out.rotated
check "rotated.log in parts: no malformed line" grep -q ' 0 malformed' err
hunt -i "$data/indicators.json" -i "$data/list.txt" --jsonl --threads 1 \
    logs/dns.log
check "rotated.log in parts: the hits of dns.log twice" [ \
    "$(wc -l <out.rotated)" -eq "$(($(wc -l <out) * 2))" ]
# Parts larger than the chunks a part's lines are counted in (256 KiB):
# lines and a second #fields header across chunk boundaries.
{
    grep '^#' logs/dns.log
    k=0
    while [ $k -lt 40 ]; do grep -v '^#' logs/dns.log; k=$((k + 1)); done
    grep '^#' logs/dns.log | awk -F '\t' -v OFS='\t' '
        /^#(fields|types)/ { s = $1; for (i = 2; i <= NF; i++)
                             if (i != 3) s = s OFS $i; $0 = s } { print }'
    k=0
    while [ $k -lt 40 ]; do
        grep -v '^#' logs/dns.log | awk -F '\t' -v OFS='\t' '
            { s = $1; for (i = 3; i <= NF; i++) s = s OFS $i; print s }'
        k=$((k + 1))
    done
} >bigrot.log
[ "$(wc -c <bigrot.log)" -gt 1200000 ] || fail "bigrot.log is too small"
hunt -i "$data/indicators.json" -i "$data/list.txt" --jsonl --threads 1 \
    bigrot.log
cp out out.whole
hunt -i "$data/indicators.json" -i "$data/list.txt" --jsonl --threads 2 \
    --split 300K bigrot.log
check "bigrot.log in parts of 300K: the same hits" cmp -s out out.whole
check "bigrot.log was read in parts" grep -q '1 logs in [3-9] parts' err
check "bigrot.log in parts: no malformed line" grep -q ' 0 malformed' err
hunt -i "$data/indicators.json" --jsonl --threads 2 --split 4K big.log
check "big.log in parts: every planted line, nothing else" [ "$(jq -r .line \
    out | tr '\n' ' ')" = "$(awk 'BEGIN { printf "1 "; for (i = 37; i <= 1200;
    i += 37) printf "%d ", i }')" ]

# --format forces a reader: a JSON log read as text still yields its URLs.
hunt -i "$data/indicators.json" --jsonl --format text logs/events.jsonl
check "--format text finds the URL of line 35" [ "$(jq -r 'select(.line ==
    35) | .value' out)" = "http://bad.example.net/payload.exe" ]

# ---- sightings ----------------------------------------------------------------
hunt -i "$data/indicators.json" -i "$data/list.txt" --stix --org "ACME Corp" \
    logs
exit_is 1 "--stix"
"$CAIRN" validate out >val.out 2>&1
check "--stix output is valid STIX" [ $? -eq 0 ]
check "one sighting per indicator hit" [ "$(jq '[.objects[] |
    select(.type == "sighting")] | length' out)" -eq "$(cut -f4 expected |
    sort -u | wc -l)" ]
check "count of the domain indicator" [ "$(jq --arg i "${ind}01" '.objects[] |
    select(.type == "sighting" and .sighting_of_ref == $i) | .count' out)" \
    -eq "$(awk -F '\t' '$4 == "01"' expected | wc -l)" ]
check "identity named by --org" [ "$(jq -r '.objects[] |
    select(.type == "identity") | .name' out)" = "ACME Corp" ]
check "where_sighted_refs names the identity" jq -e '
    ([.objects[] | select(.type == "identity") | .id][0]) as $org |
    all(.objects[] | select(.type == "sighting");
        .where_sighted_refs == [$org])' out
check "first_seen and last_seen from the log" [ "$(jq -r --arg i "${ind}01" \
    '.objects[] | select(.type == "sighting" and .sighting_of_ref == $i) |
    .first_seen' out | cut -c1-10)" = "2020-12-13" ]
hunt -i "$data/indicators.json" --jsonl --sightings s.json logs/dns.log
exit_is 1 "--sightings FILE"
check "--sightings file validates" "$CAIRN" validate s.json
check "--jsonl still on stdout with --sightings" [ -s out ]

# ---- the store: indicators from a collection, sightings into another ------
store=$tmp/store
iocs=$("$CAIRN" collection add --title iocs --data "$store" 2>/dev/null)
sights=$("$CAIRN" collection add --title sightings --data "$store" 2>/dev/null)
check "collections created" [ -n "$iocs" ] && [ -n "$sights" ]
check "indicators imported" "$CAIRN" import --data "$store" \
    --collection "$iocs" "$data/indicators.json"
hunt --data "$store" --collection "$iocs" --jsonl --sightings s2.json \
    --sightings-into "$sights" logs/flows.csv
exit_is 1 "--collection"
same_hits out want.flows "indicators from a collection"
"$CAIRN" import --data "$store" --collection "$sights" s2.json >imp.out 2>&1
check "--sightings-into stored the bundle written by --sightings" \
    grep -q ' 0 stored, 4 already present, 0 rejected' imp.out
hunt --data "$store" --collection 3c8f2b76-0d0e-4c1a-9f0e-9a6e1f2b3c4d \
    logs/flows.csv
exit_is 2 "--collection that does not exist"
contains err "3c8f2b76-0d0e-4c1a-9f0e-9a6e1f2b3c4d" "missing collection named"

# ---- --files: hashes and YARA -------------------------------------------------
mkdir -p files/sub
printf 'cairn hunt: sample file A\n' >files/a.txt
printf 'cairn hunt: sample file B\n' >files/sub/b.bin
printf '0123456789abcdefCAIRN-YARA-MARKER-7f3a tail\n' >files/c.dat
printf 'nothing to see\n' >files/d.txt
ln -s a.txt files/link.txt
hunt -i "$data/indicators.json" --jsonl --files files
exit_is 1 "--files"
jq -r '[.file, (.offset | tostring), .value, .indicator[-2:], .type] |
    @tsv' out | LC_ALL=C sort >got.files
cat >want.files <<EOF
files/a.txt	0	46e51bc29f95e628cbecb3c2cd6a3b309dd68dd4259fc18fd5e51a43c0efd155	06	sha256
files/c.dat	16	cairn_marker	08	yara
files/sub/b.bin	0	96a4b8a6547642c8b2fb93fbf29a9e47	07	md5
EOF
LC_ALL=C sort want.files >want.files.sorted
if cmp -s want.files.sorted got.files; then ok; else
    fail "--files hits differ:"
    diff want.files.sorted got.files | sed 's/^/    /'
fi
check "--files: line is null" [ "$(jq -r .line out | sort -u)" = null ]
hunt -i "$data/indicators.json" -i "$data/bad-yara.json" --jsonl \
    --files files
exit_is 1 "a YARA rule that does not compile is skipped"
contains err "indicator--22222222-2222-4222-8222-000000000001" \
    "YARA compile error names the indicator"
check "the good YARA rule still runs" [ "$(jq -r 'select(.type == "yara") |
    .value' out)" = cairn_marker ]
hunt -i "$data/indicators.json" --jsonl --files nosuchdir
exit_is 2 "--files on a missing directory"

# ---- patterns confirmed by the evaluator ----------------------------------------
f=logs2/seq.log
mkdir -p logs2
plant $f 20 query stage1.example
plant $f 25 query stage2.example
plant $f 60 query stage2.example
gen zeek-dns $f 60
hunt -i "$data/sequence.json" --jsonl logs2
exit_is 1 "FOLLOWEDBY confirmed"
check "FOLLOWEDBY: both stages reported" [ "$(jq -r '[.line, .value] |
    @tsv' out | sort -n | tr '\t\n' ' |')" = \
    "20 stage1.example|25 stage2.example|" ]
: >plants.logs2_seq.log
plant $f 20 query stage2.example
plant $f 30 query stage1.example
gen zeek-dns $f 60
hunt -i "$data/sequence.json" --jsonl logs2
exit_is 0 "FOLLOWEDBY in the wrong order is not a hit"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
