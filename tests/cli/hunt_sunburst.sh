#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# `cairn hunt` with the SUNBURST indicators FireEye published (under
# $CAIRN_EXAMPLES/sunburst-fireeye): turned into a STIX bundle with jq, and given
# as the plain defanged list they are; occurrences are planted in a
# generated Zeek dns.log, a squid proxy log and EDR JSON lines. Every
# planted occurrence must be found, with the indicators it matches, and
# nothing else (look-alike names are planted too).
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${CAIRN_SRC:?CAIRN_SRC must name the source tree}/tests/cli/lib.sh"
: "${CAIRN_EXAMPLES:?CAIRN_EXAMPLES must name the examples/ folder}"

ref=$CAIRN_EXAMPLES/sunburst-fireeye
cd "$tmp" || exit 2

for f in Indicator_Release_NBIs.csv Indicator_Release_Hashes.csv \
    signature_table_of_contents.csv; do
    if [ ! -r "$ref/$f" ]; then
        echo "FAIL: $ref/$f is missing"
        echo "0 passed, 1 failed"
        exit 1
    fi
done

# ---- the indicators ----------------------------------------------------------
# Defanged values as published: FQDN, IP and Target of the network
# indicators, the domains named by the signature descriptions (among them
# avsvmcloud[.]com, the C2 domain whose subdomains victims resolved), and
# the SHA-256, SHA-1 and MD5 of each file.
{
    awk -F, 'NR > 1 { print $3; print $4; print $5 }' "$ref/Indicator_Release_NBIs.csv"
    grep -o '[a-z0-9.-]*\[\.\][a-z]*' "$ref/signature_table_of_contents.csv"
    awk -F, 'NR > 1 { print $1; print $2; print $3 }' "$ref/Indicator_Release_Hashes.csv"
} | tr -d '\r ' | awk 'NF && !seen[$0]++' >defanged.txt
sed 's/\[\.\]/./g' defanged.txt >values.txt
grep -E '^[0-9]+(\.[0-9]+){3}$' values.txt >ips.txt
grep -E '^[0-9a-f]{32}([0-9a-f]{8})?([0-9a-f]{24})?$' values.txt >hashes.txt
grep -vxF -f ips.txt values.txt | grep -vxF -f hashes.txt >domains.txt
check "domains read" [ "$(wc -l <domains.txt)" -ge 15 ]
check "avsvmcloud.com among them" grep -qx avsvmcloud.com domains.txt
check "addresses read" [ "$(wc -l <ips.txt)" -ge 10 ]
check "hashes read" [ "$(wc -l <hashes.txt)" -eq 33 ]

# The plain list: the values exactly as FireEye wrote them, defanged.
cp defanged.txt sunburst.txt

# The STIX bundle: one indicator per value, named by the value, with an id
# derived from it (so runs are repeatable).
uuid_of() { # a UUID (version 4 form) from the MD5 of $1
    printf '%s' "$1" | md5sum | awk '{ h = $1; printf "%s-%s-4%s-8%s-%s\n",
        substr(h, 1, 8), substr(h, 9, 4), substr(h, 14, 3), substr(h, 18, 3),
        substr(h, 21, 12) }'
}
while read -r v; do
    if grep -qxF "$v" ips.txt; then
        p="[ipv4-addr:value = '$v']"
    elif grep -qxF "$v" hashes.txt; then
        case ${#v} in
        32) k=MD5 ;;
        40) k="'SHA-1'" ;;
        *) k="'SHA-256'" ;;
        esac
        p="[file:hashes.$k = '$v']"
    else
        p="[domain-name:value = '$v']"
    fi
    printf '%s\t%s\t%s\n' "indicator--$(uuid_of "$v")" "$v" "$p"
done <values.txt >rows.tsv
jq -R -s --arg bid "bundle--$(uuid_of sunburst-bundle)" '
    split("\n") | map(select(length > 0) | split("\t")) |
    {type: "bundle", id: $bid, objects: map({
        type: "indicator", spec_version: "2.1", id: .[0],
        created: "2020-12-13T22:00:00.000Z",
        modified: "2020-12-13T22:00:00.000Z",
        name: .[1], indicator_types: ["malicious-activity"],
        pattern: .[2], pattern_type: "stix",
        valid_from: "2020-12-13T22:00:00Z",
        labels: ["SUNBURST"]})}' rows.tsv >sunburst.json
check "the generated bundle is valid STIX" "$CAIRN" validate sunburst.json
check "one indicator per value" [ "$(jq '.objects | length' sunburst.json)" \
    -eq "$(wc -l <values.txt)" ]

# ---- the logs ------------------------------------------------------------------
# plants.tsv: FILE LINE VALUE for every planted value. Benign lines use
# 10.x addresses and *.benign.test names.
awk -v domains=domains.txt -v ips=ips.txt '
BEGIN {
    while ((getline d < domains) > 0) dom[++nd] = d
    while ((getline a < ips) > 0) ip[++ni] = a
    # The SUNBURST pattern: a DGA label under appsync-api.REGION.
    sub_[1] = "7cbtailjomqle1pjvr2d32n.appsync-api.eu-west-1."
    sub_[2] = "r1q6arhpujcf6jb6qqqb0trmuhalkeh8.appsync-api.us-east-1."
    sub_[3] = "www."
    sub_[4] = ""
    # The name of the advisory, then names that must not match: the
    # indicator inside a longer label, or followed by more labels.
    more[1] = "7cbtailjomqle1pjvr2d32n.appsync-api.eu-west-1.avsvmcloud.com"
    more[2] = "xavsvmcloud.com"; more[3] = "avsvmcloud.com.benign.test"
    more[4] = "freescanonline.net"; more[5] = "deftsecurity.co"
    more[6] = "appsync-api.eu-west-1.avsvmcloud.org"
    # dns.log: a query every 7th line, an answer every 11th.
    L = 8; n = 0; qd = 0; qa = 0; qb = 0
    for (i = 1; i <= 400; i++) {
        L++
        q = "host" i ".benign.test"; ans = "10.2.0." (i % 250 + 1)
        if (i % 7 == 0 && qd < nd * 2) {
            d = dom[qd % nd + 1]; q = sub_[int(qd / nd) * 2 + (qd % 2) + 1] d
            qd++; print "dns.log\t" L "\t" q > "plants.tsv"
        } else if (i % 7 == 0 && qb < 6) {
            q = more[++qb]; print "dns.log\t" L "\t" q > "plants.tsv"
        }
        if (i % 11 == 0 && qa < ni) {
            ans = ip[++qa]; print "dns.log\t" L "\t" ans > "plants.tsv"
        }
        dnsq[L] = q; dnsa[L] = ans
    }
    print "#separator \\x09" > "dns.log"
    print "#set_separator\t," > "dns.log"
    print "#empty_field\t(empty)" > "dns.log"
    print "#unset_field\t-" > "dns.log"
    print "#path\tdns" > "dns.log"
    print "#open\t2020-12-14-00-00-00" > "dns.log"
    print "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tquery\tqtype_name\trcode_name\tanswers" > "dns.log"
    print "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tstring\tstring\tvector[string]" > "dns.log"
    for (l = 9; l <= L; l++)
        printf "%d.%06d\tC%d\t10.1.0.%d\t5353\t10.53.0.1\t53\tudp\t%s\tA\tNOERROR\t%s\n",
            1607904000 + l, l, l, l % 250 + 1, dnsq[l], dnsa[l] > "dns.log"
    print "#close\t2020-12-14-01-00-00" > "dns.log"

    # proxy.log (squid native): a URL host every 5th line, an address
    # every 9th.
    pd = 0; pa = 0
    for (l = 1; l <= 300; l++) {
        host = "www" l ".benign.test"; peer = "10.80.0." (l % 250 + 1)
        if (l % 5 == 0 && pd < nd) {
            host = sub_[pd % 4 + 1] dom[pd + 1]; pd++
            print "proxy.log\t" l "\t" host > "plants.tsv"
        }
        if (l % 9 == 0 && pa < ni) {
            peer = ip[++pa]; print "proxy.log\t" l "\t" peer > "plants.tsv"
        }
        printf "%d.%03d %5d 10.1.0.%d TCP_MISS/200 %d GET http://%s/swip/upd/%d - HIER_DIRECT/%s text/html\n",
            1607904000 + l, l % 1000, 40 + l % 60, l % 250 + 1, 900 + l,
            host, l, peer > "proxy.log"
    }
}'
# EDR events, a file hash on every second line (in the field its length
# names), benign MD5-like values elsewhere.
awk -v hashes=hashes.txt 'BEGIN {
    while ((getline h < hashes) > 0) hs[++n] = h
    for (l = 1; l <= 2 * n + 4; l++) {
        v = sprintf("%032x", l); k = "md5"
        if (l % 2 == 0 && i < n) {
            v = hs[++i]
            k = length(v) == 32 ? "md5" : length(v) == 40 ? "sha1" : "sha256"
            print "edr.jsonl\t" l "\t" v >> "plants.tsv"
        }
        printf "{\"time\":\"2020-12-14T00:%02d:%02dZ\",\"host\":\"ws%d.benign.test\",\"image\":\"C:\\\\Windows\\\\app%d.exe\",\"%s\":\"%s\"}\n",
            int(l / 60), l % 60, l, l, k, v > "edr.jsonl"
    }
}'
for f in dns.log proxy.log edr.jsonl; do
    check "$f generated" [ -s $f ]
done
check "every hash planted" [ "$(grep -c '^edr' plants.tsv)" -eq 33 ]

# The hits each planted value must give: a name is hit by every domain
# indicator it equals or ends with after a dot; addresses and hashes by
# their own value.
awk -F '\t' -v OFS='\t' '
    FILENAME == "values.txt" { v[$0] = 1; next }
    {
        n = split($3, lab, ".")
        for (k = 1; k <= n; k++) {
            s = lab[k]
            for (j = k + 1; j <= n; j++) s = s "." lab[j]
            if (s in v && !(s ~ /^[0-9.]+$/ && k > 1))
                print $1, $2, $3, s
        }
    }' values.txt plants.tsv | LC_ALL=C sort -u >expected
check "planted occurrences" [ "$(wc -l <expected)" -ge 90 ]

project() {
    jq -r '[.file, (.line | tostring), .value, .name] | @tsv' "$1" |
        LC_ALL=C sort
}
same_hits() { # same_hits DESCRIPTION
    project out >got
    if cmp -s expected got; then ok; else
        fail "$1: hits differ (< expected only, > reported only):"
        diff expected got | sed 's/^/    /' | head -40
    fi
}

# ---- the hunts -----------------------------------------------------------------
"$CAIRN" hunt -i sunburst.json --jsonl dns.log proxy.log edr.jsonl >out 2>err
rc=$?
check "STIX bundle: exit 1 on hits" [ "$rc" -eq 1 ]
same_hits "STIX bundle"
check "the avsvmcloud.com subdomain from the advisory is found" \
    grep -q '7cbtailjomqle1pjvr2d32n.appsync-api.eu-west-1.avsvmcloud.com' out
check "no indicator left out" grep -q ' 0 not hunted' err

"$CAIRN" hunt -i sunburst.txt --jsonl dns.log proxy.log edr.jsonl >out 2>err
rc=$?
check "defanged list: exit 1 on hits" [ "$rc" -eq 1 ]
same_hits "defanged list"

# Sightings: one per indicator hit, counts as planted.
"$CAIRN" hunt -i sunburst.json --stix --org "Victim Inc" dns.log proxy.log \
    edr.jsonl >out 2>err
check "sightings validate" "$CAIRN" validate out
check "one sighting per indicator hit" [ "$(jq '[.objects[] |
    select(.type == "sighting")] | length' out)" -eq "$(cut -f4 expected |
    sort -u | wc -l)" ]
n=$(awk -F '\t' '$4 == "avsvmcloud.com"' expected | wc -l)
check "avsvmcloud.com sighted as often as planted" [ "$(jq --arg id \
    "indicator--$(uuid_of avsvmcloud.com)" '.objects[] | select(.type ==
    "sighting" and .sighting_of_ref == $id) | .count' out)" -eq "$n" ]

# Compressed, through standard input, several threads: the same hits.
gzip -c dns.log | "$CAIRN" hunt -i sunburst.json --jsonl >out 2>err
grep '^dns.log	' expected | sed 's/^dns.log/-/' >expected.dns
project out >got
check "dns.log.gz on standard input" cmp -s expected.dns got

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
