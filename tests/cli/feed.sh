#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# `cairn feed import` as an analyst runs it: a MISP feed directory, a
# mapped CSV, a defanged list and FireEye's SUNBURST CSV files converted to
# bundles that validate, stored into a collection, and every kind of bad
# input reported with its place and the right exit code.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${CAIRN_SRC:?CAIRN_SRC must name the source tree}/tests/cli/lib.sh"
: "${CAIRN_EXAMPLES:?CAIRN_EXAMPLES must name the examples/ folder}"
: "${CAIRN_DATA:?CAIRN_DATA must name tests/data}"

# q FILTER: jq over the last run's stdout, raw output
q() { jq -r "$1" "$out"; }
# valid FILE: cairn validate finds no error (the deterministic UUIDv5 ids
# are warnings: STIX prefers random ids for SDOs)
valid() {
    "$CAIRN" validate "$1" >"$tmp/v.out" 2>"$tmp/v.err" &&
        grep -q ' 0 errors' "$tmp/v.err"
}

feed=$CAIRN_DATA/feed
fe=$CAIRN_EXAMPLES/sunburst-fireeye
cd "$tmp" || exit 2

# ---- FireEye SUNBURST indicators --------------------------------------------
run feed import "$fe/Indicator_Release_NBIs.csv"
expect 0 "FireEye NBIs convert with nothing skipped"
cp "$out" nbis.json
check "the NBI bundle validates with zero errors" valid nbis.json
check "16 indicators from the NBIs" \
    [ "$(q '[.objects[]|select(.type=="indicator")]|length')" = 16 ]
check "the defanged FQDN is refanged in the pattern" \
    [ "$(q '[.objects[]|select(.pattern=="[domain-name:value = '"'deftsecurity.com'"' OR ipv4-addr:value = '"'13.59.205.66'"']")]|length')" = 1 ]
check "SUNBURST is a malware family" \
    [ "$(q '[.objects[]|select(.type=="malware" and .name=="SUNBURST" and .is_family==true)]|length')" = 1 ]
sunburst=$(q '.objects[]|select(.type=="malware" and .name=="SUNBURST")|.id')
check "SUNBURST indicators point at it with 'indicates'" \
    [ "$(q "[.objects[]|select(.type==\"relationship\" and .relationship_type==\"indicates\" and .target_ref==\"$sunburst\")]|length")" = 11 ]
check "First Seen is valid_from" \
    [ "$(q '.objects[]|select(.name=="highdatabase.com (139.99.115.204)")|.valid_from')" = 2019-12-28T00:07:06.000Z ]
check "FireEye is the producer" \
    [ "$(q '.objects[]|select(.type=="identity")|.name')" = FireEye ]

run feed import --format fireeye "$fe/Indicator_Release_Hashes.csv" -o hashes.json
expect 0 "FireEye hashes convert with nothing skipped"
check "--output writes no bundle to standard output" [ ! -s "$out" ]
check "the hashes bundle validates with zero errors" valid hashes.json
check "each hash row is one indicator with the three hashes ORed" \
    [ "$(jq '[.objects[]|select(.type=="indicator" and (.pattern|test("SHA-256.* OR .*SHA-1.* OR .*MD5")))]|length' hashes.json)" = 11 ]
check "SUPERNOVA is a family too, Benign is not" \
    [ "$(jq -c '[.objects[]|select(.type=="malware")|.name]|sort' hashes.json)" = '["SUNBURST","SUPERNOVA"]' ]

# ---- MISP feed directory ----------------------------------------------------
run feed import "$feed/misp" --tlp green
expect 1 "a MISP feed with unmappable attributes exits 1"
cp "$out" misp.json
check "the MISP bundle validates with zero errors" valid misp.json
check "each unmappable attribute is named with event and attribute uuid" \
    said "event 7b1c4e3a-9d5f-4eac-a032-4c6d8eaf2a33, attribute a3000003-0000-4000-8000-000000000004: type 'btc' has no STIX mapping"
check "the summary counts what was skipped" said "3 skipped"
check "three events, three reports" \
    [ "$(q '[.objects[]|select(.type=="report")]|length')" = 3 ]
check "tlp:amber of an event becomes the TLP 2.0 AMBER marking" \
    [ "$(q '.objects[]|select(.type=="report" and .name=="Phishing wave with '"'quoted'"' lure")|.object_marking_refs[0]')" = marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421 ]
check "tlp:white becomes CLEAR, beating --tlp" \
    [ "$(q '.objects[]|select(.type=="report" and .name=="Scanning infrastructure")|.object_marking_refs[0]')" = marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487 ]
check "TLP tags are not labels" \
    [ "$(q '[.objects[]|.labels[]?|select(startswith("tlp:"))]|length')" = 0 ]
check "non-to_ids attributes are observed-data" \
    [ "$(q '[.objects[]|select(.type=="observed-data")]|length')" = 6 ]
run feed import --tlp green "$feed/misp"
check "a re-import gives the very same objects" \
    [ "$(jq -c '.objects' "$out")" = "$(jq -c '.objects' misp.json)" ]

run feed import "$feed/misp/6a0b3d2f-8c4e-4d9b-8f21-3b5c7d9e1f22.json"
expect 0 "one clean MISP event file converts with exit 0"

# ---- CSV with a mapping, and a plain list -----------------------------------
run feed import --map 'value=Indicator,type=Kind,name=Title,valid_from=First Seen,labels=Tags,description=Notes' \
    --identity 'Example CERT' --tlp amber+strict "$feed/iocs.csv"
expect 0 "a mapped CSV converts"
cp "$out" csv.json
check "the CSV bundle validates with zero errors" valid csv.json
check "six indicators and the producer identity" \
    [ "$(q '[.objects[]|.type]|sort|unique|join(",")')" = identity,indicator ]
check "--identity is created_by_ref" \
    [ "$(q '[.objects[]|select(.type=="indicator")|.created_by_ref]|unique|length')" = 1 ]
check "--tlp amber+strict marks every object" \
    [ "$(q '[.objects[]|.object_marking_refs[0]]|unique|join(",")')" = marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003 ]

run feed import "$feed/list.txt"
expect 1 "a list with an unrecognised line exits 1"
check "the line is named with file and line" \
    said "list.txt:8:1: error: 'not a value at all'"
check "defanged values are refanged" \
    [ "$(q '[.objects[]|select(.pattern=="[domain-name:value = '"'avsvmcloud.com'"']")]|length')" = 1 ]

# ---- storing into a collection ---------------------------------------------
data=$tmp/data
run collection add --title feeds --data "$data"
expect 0 "a collection to import into"
coll=$(head -1 "$out")
run feed import --into "$coll" --data "$data" "$fe/Indicator_Release_NBIs.csv"
expect 0 "--into stores the FireEye objects"
check "every object was stored" said "31 stored, 0 already present, 0 rejected"
run feed import --into "$coll" --data "$data" "$fe/Indicator_Release_NBIs.csv"
expect 0 "importing the same feed again"
check "a re-import stores nothing new" said "0 stored, 31 already present"
run feed import --into 0b6f0b68-5a3f-4b8d-9b0c-1f0e2d3c4b5a --data "$data" \
    "$feed/list.txt"
expect 2 "--into a collection that does not exist"
printf '8.8.8.8\nc2.feed-flag.example\n' >flag.txt
run feed import --format list --into "$coll" --data "$data" \
    --warninglists "$CAIRN_SRC/examples/warninglists" flag.txt
expect 0 "feed import with warninglists"
check "the listed value is reported with the list's name" \
    said "8.8.8.8 is on warninglist 'Public DNS resolvers' (stored, flagged)"
check "stored all the same, and counted" said "2 stored, 0 already present, 0 rejected, 1 flagged"

# ---- bad input ------------------------------------------------------------------
run feed import "$feed/bad/event-malformed.json"
expect 1 "malformed JSON in an event file"
check "it is named with file, line and column" \
    said "event-malformed.json:3:25: error:"
run feed import "$feed/bad/nomanifest"
expect 2 "a feed directory without manifest.json"
check "the manifest is named" said "nomanifest/manifest.json: error: cannot read"
run feed import "$feed/bad/manifest-gaps"
expect 1 "a manifest naming missing and malformed events"
check "a manifest key that is not a uuid is not opened" \
    said "'../../../../etc/passwd' is not an event uuid"
check "the good event of it is still converted" \
    [ "$(q '[.objects[]|select(.type=="report")]|length')" = 1 ]
run feed import -m value=value,type=type "$feed/bad/wrong-columns.csv"
expect 1 "CSV rows with the wrong number of columns"
check "each is named with file and line" \
    said "wrong-columns.csv:3:1: error: 1 columns where the header has 2"
run feed import -m value=nosuch "$feed/iocs.csv"
expect 1 "a mapping naming a column that is not there"
check "the missing column is named" said "no column 'nosuch'"

# ---- usage errors ---------------------------------------------------------------
run feed import
expect 2 "no source"
run feed convert x
expect 2 "an unknown subcommand"
run feed import --tlp purple "$feed/list.txt"
expect 2 "an unknown TLP level"
check "the levels are listed" said "clear, green, amber, amber+strict or red"
run feed import --map type=Kind "$feed/iocs.csv"
expect 2 "a mapping without value"
run feed import --format csv "$feed/iocs.csv"
expect 2 "--format csv without --map"
run feed import ftp://example.org/feed/
expect 2 "a URL that is not http(s)"
check "the message says which are read" said "only http:// and https://"
check "nothing is written for a usage error" [ ! -s "$out" ]
run feed import -o "$tmp/never.json" "$feed/bad/nomanifest"
expect 2 "an I/O error with --output"
check "--output leaves no partial file" [ ! -e "$tmp/never.json" ]

# ---- feeds on the web ------------------------------------------------------
: "${CAIRN_FILE_SERVER:?CAIRN_FILE_SERVER must name tests/tools/file_server}"
"$CAIRN_FILE_SERVER" "$feed" "$tmp/web.port" 2>"$tmp/web.err" &
web_pid=$!
at_exit="reap $web_pid"
if wait_port "$tmp/web.port" "$web_pid"; then
    web=http://127.0.0.1:$(cat "$tmp/web.port")
    # objects FILE: the bundle's objects by id, without the times a list's
    # indicators take from the clock
    objects() {
        jq -cS '[.objects[]|del(.created,.modified,.valid_from)]|sort_by(.id)' "$1"
    }
    run feed import -o dir.json "$feed/misp"
    expect 1 "the MISP feed directory, for comparison"
    run feed import -o web.json "$web/misp/"
    expect 1 "a MISP feed URL exits as its directory does"
    check "...with the same objects as from the directory" \
        [ "$(objects web.json)" = "$(objects dir.json)" ]
    check "...and the same findings" \
        said "attribute a3000003-0000-4000-8000-000000000004: type 'btc'"
    run feed import -o web2.json "$web/misp/manifest.json"
    expect 1 "the URL of a feed's manifest.json"
    check "...reads the whole feed" \
        [ "$(objects web2.json)" = "$(objects dir.json)" ]
    run feed import -o list-dir.json "$feed/list.txt"
    run feed import -o list-web.json "$web/list.txt"
    check "a list URL converts as the file does" \
        [ "$(objects list-web.json)" = "$(objects list-dir.json)" ]
    run feed import --format misp -o one.json \
        "$web/misp/7b1c4e3a-9d5f-4eac-a032-4c6d8eaf2a33.json"
    expect 2 "--format misp with an event's URL is read as a feed"
    check "...whose missing manifest is named" \
        said "7b1c4e3a-9d5f-4eac-a032-4c6d8eaf2a33.json/manifest.json: error: cannot read: HTTP 404"
    run feed import "$web/misp/7b1c4e3a-9d5f-4eac-a032-4c6d8eaf2a33.json"
    expect 1 "one MISP event by URL"
    check "...becomes a report" \
        [ "$(q '[.objects[]|select(.type=="report")]|length')" = 1 ]
    run feed import "$web/page.html"
    expect 2 "an HTML page (a login page, a site's view of a file)"
    check "...is refused, not mined for values" said "sent an HTML page"
    check "...and nothing is converted" [ "$(q '.objects|length')" = 0 ]
    run feed import --format list "$web/page.html"
    expect 1 "...unless --format says to read it anyway"
    run feed import "$web/nosuch/"
    expect 2 "a feed URL without a manifest"
    check "...names the manifest's URL and the status" \
        said "$web/nosuch/manifest.json: error: cannot read: HTTP 404"
    run feed import "$web/nosuch.txt"
    expect 2 "a file URL that is not there"
    check "...names the URL and the status" said "GET $web/nosuch.txt: HTTP 404"
    run feed import --into "$(printf '%s' 0b6d3b4e-0000-4000-8000-000000000000)" \
        --data "$tmp/nodata" "$web/misp/"
    expect 2 "--into a collection that does not exist, before any fetch"
    run feed import --cacert "$tmp/none.pem" "https://127.0.0.1:1/feed/"
    expect 2 "https with a CA file that does not exist"
    check "...says so" said "--cacert: $tmp/none.pem: No such file"
else
    fail "the test file server did not start: $(cat "$tmp/web.err")"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
