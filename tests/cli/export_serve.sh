#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# [export NAME] sections of `cairn serve` as a sensor meets them: the file
# written at start and rewritten (a new file renamed over the old) soon
# after an indicator is added over TAXII; /export/NAME served to users who
# may read every collection of the export, with an ETag that answers 304
# while nothing changed; mistakes in the sections refused at start.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${CAIRN_SRC:?CAIRN_SRC must name the source tree}/tests/cli/lib.sh"
need curl jq
pid=""
at_exit='reap $pid'

data=$tmp/data

# req WHO METHOD PATH [CURL ARGS...]: sets $code; body in $tmp/body,
# headers in $tmp/hdr. WHO: anon or a user name (password pw-NAME).
req() {
    who=$1
    method=$2
    path=$3
    shift 3
    case $who in
    anon) ;;
    *) set -- -u "$who:pw-$who" "$@" ;;
    esac
    rm -f "$tmp/body"
    if [ "$method" = HEAD ]; then set -- --head "$@"; else set -- -X "$method" "$@"; fi
    code=$(curl -sS --max-time 30 -o "$tmp/body" -D "$tmp/hdr" \
        -w '%{http_code}' "$@" "$base$path" 2>"$tmp/curl.err")
}
header() { # the value of response header $1
    tr -d '\r' <"$tmp/hdr" | sed -n "s/^$1: //Ip" | head -1
}
serial() { sed -n 's/^@ IN SOA [^ ]* [^ ]* \([0-9]*\) .*/\1/p' "$1"; }
# domain N NAME: an indicator of domain NAME with a fixed id
domain() {
    printf '{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-%012d","created":"2026-11-01T00:00:00.000Z","modified":"2026-11-01T00:00:00.000Z","name":"ioc %d","pattern":"[domain-name:value = '"'"'%s'"'"']","pattern_type":"stix","valid_from":"2026-11-01T00:00:00Z"}' \
        "$1" "$1" "$2"
}

c1=$("$CAIRN" collection add --title dns --data "$data" 2>/dev/null | tail -1)
c2=$("$CAIRN" collection add --title other --data "$data" 2>/dev/null | tail -1)
[ -n "$c1" ] && [ -n "$c2" ] || {
    echo "FAIL: cannot make the collections"
    exit 1
}
for u in alice bob; do
    printf 'pw-%s\n' "$u" | "$CAIRN" user add "$u" --data "$data" \
        >/dev/null 2>&1 || fail "user add $u"
done
"$CAIRN" grant alice "$c1" --read --write --data "$data" >/dev/null 2>&1 &&
    "$CAIRN" grant alice "$c2" --read --data "$data" >/dev/null 2>&1 &&
    "$CAIRN" grant bob "$c1" --read --data "$data" >/dev/null 2>&1 ||
    fail "grant"
printf '{"type":"bundle","id":"bundle--00000000-0000-4000-8000-000000000001","objects":[%s]}' \
    "$(domain 1 first.example),$(domain 3 x | sed "s/domain-name:value = 'x'/url:value = 'http:\/\/bad.example\/x'/")" \
    >"$tmp/first.json"
run import --collection "$c1" --data "$data" "$tmp/first.json"
expect 0 "an indicator is stored before the server starts"

# ---- mistakes in the sections are refused at start -------------------------
refused() { # refused CONFIG-TEXT MESSAGE DESCRIPTION
    printf '[server]\ndata = %s\n%s\n' "$data" "$1" >"$tmp/bad.ini"
    timeout 60 "$CAIRN" serve --config "$tmp/bad.ini" --listen 127.0.0.1:0 \
        >/dev/null 2>"$tmp/bad.err"
    rc=$?
    expect 2 "$3"
    contains "$tmp/bad.err" "$2" "...naming the mistake"
}
refused "[export x]
collection = $c1
path = $tmp/x.csv" "[export x] has no format" "an export without a format"
refused "[export x]
format = bind
collection = $c1
path = $tmp/x.csv" "format: 'bind' is not one of" "an unknown format"
refused "[export x]
format = csv
collection = 00000000-0000-4000-8000-000000000000
path = $tmp/x.csv" "[export x]: a collection it names does not exist" \
    "a collection that does not exist"
refused "[export x y]
format = csv
collection = $c1" "[export x y]: a name is 1 to 64" "a name with a space"

# ---- the server writes and serves its exports ------------------------------
cat >"$tmp/cairn.ini" <<EOF
[server]
data = data
[export dns]
format = rpz
collection = $c1
path = $tmp/dns.rpz
[export both]
format = csv
collections = $c1, $c2
path = $tmp/both.csv
EOF
check "the server starts with two exports" start_server --config \
    "$tmp/cairn.ini" --listen 127.0.0.1:0
check "the RPZ file is written at start" grep -qx 'first\.example CNAME \.' \
    "$tmp/dns.rpz"
check "the CSV file too" grep -q '^domain,first\.example,' "$tmp/both.csv"
contains "$errf" "export dns: indicator--00000000-0000-4000-8000-000000000003: rpz cannot express url values" \
    "the server logs an indicator the format cannot express, with the reason"
contains "$errf" "export dns: 2 entries from 2 indicators (1 unsupported" \
    "...and counts it"

req alice GET /export/dns
check "GET /export/dns answers 200 ($code)" [ "$code" = 200 ]
check "...with the file's bytes" cmp -s "$tmp/body" "$tmp/dns.rpz"
etag=$(header ETag)
check "...an ETag ($etag)" [ -n "$etag" ]
check "...and the zone's media type" \
    sh -c "tr -d '\r' <'$tmp/hdr' | grep -qi '^content-type: text/'"
req alice GET /export/dns -H "If-None-Match: $etag"
check "If-None-Match with its ETag answers 304 ($code)" [ "$code" = 304 ]
check "...without a body" [ ! -s "$tmp/body" ]
req alice HEAD /export/dns
check "HEAD answers 200 ($code)" [ "$code" = 200 ]
check "...with the ETag" [ "$(header ETag)" = "$etag" ]
req bob GET /export/dns
check "a user who may read its collection reads it ($code)" [ "$code" = 200 ]
req bob GET /export/both
check "a user who may not read all its collections gets 403 ($code)" \
    [ "$code" = 403 ]
req alice GET /export/both
check "...and one who may gets 200 ($code)" [ "$code" = 200 ]
req anon GET /export/dns
check "without a password: 401 ($code)" [ "$code" = 401 ]
req alice GET /export/nosuch
check "an unknown export: 404 ($code)" [ "$code" = 404 ]
req alice POST /export/dns --data x
check "POST: 405 ($code)" [ "$code" = 405 ]

# ---- a new indicator reaches the file and the URL ------------------------
inode=$(stat -c %i "$tmp/dns.rpz")
s1=$(serial "$tmp/dns.rpz")
printf '{"objects":[%s]}' "$(domain 2 second.example)" >"$tmp/new.json"
req alice POST "/api1/collections/$c1/objects/" \
    -H "Accept: $TAXII" -H "Content-Type: $TAXII" --data-binary "@$tmp/new.json"
check "an indicator is added over TAXII ($code)" [ "$code" = 202 ]
# the rewrite comes within a second; 60 s at most on a loaded machine
tries=0
until grep -q '^second\.example CNAME' "$tmp/dns.rpz" 2>/dev/null ||
    [ $tries -ge 600 ]; do
    sleep 0.1
    tries=$((tries + 1))
done
check "the RPZ file is rewritten with the new domain" \
    grep -qx '\*\.second\.example CNAME \.' "$tmp/dns.rpz"
check "...by a new file renamed over the old one" \
    [ "$(stat -c %i "$tmp/dns.rpz")" != "$inode" ]
s2=$(serial "$tmp/dns.rpz")
check "...with a higher serial ($s1, then $s2)" [ "$s2" -gt "$s1" ]
check "...and the first domain kept" grep -qx 'first\.example CNAME \.' \
    "$tmp/dns.rpz"
req alice GET /export/dns -H "If-None-Match: $etag"
check "the old ETag now gets the new file (200, $code)" [ "$code" = 200 ]
check "...which is the file's bytes" cmp -s "$tmp/body" "$tmp/dns.rpz"
check "...under a new ETag" [ "$(header ETag)" != "$etag" ]
tries=0
until grep -q '^domain,second\.example,' "$tmp/both.csv" 2>/dev/null ||
    [ $tries -ge 600 ]; do
    sleep 0.1
    tries=$((tries + 1))
done
check "the CSV export of the same collection is rewritten too" \
    grep -q '^domain,second\.example,' "$tmp/both.csv"

stop_server
check "the server stops cleanly (exit $rc)" [ "$rc" = 0 ]
check "no sanitizer report" no_crash_report "$errf"

# ---- warninglists and scores in sections -----------------------------------
refused "[export x]
format = csv
collection = $c1
min_score = 200" "min_score: '200' is not a number from 0 to 100" \
    "a min_score out of range"
refused "[export x]
format = csv
collection = $c1
include_warninglisted = maybe" "include_warninglisted: 'maybe' is not yes or no" \
    "an include_warninglisted that is not yes or no"
refused "[export x]
format = csv
collection = $c1
warninglists = $tmp/nosuch" "[export x]: warninglists $tmp/nosuch" \
    "warninglists that cannot be read"
c3=$("$CAIRN" collection add --title scored --data "$data" 2>/dev/null | tail -1)
now=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
sdomain() { # N NAME CONFIDENCE: valid from now
    domain "$1" "$2" | sed -e "s/2026-11-01T00:00:00\(\.000\)*Z/$now/g" \
        -e "s/^{/{\"confidence\":$3,/"
}
printf '{"type":"bundle","id":"bundle--00000000-0000-4000-8000-000000000002","objects":[%s,%s,%s]}' \
    "$(sdomain 11 cdn.example 90)" "$(sdomain 12 good.example 90)" \
    "$(sdomain 13 weak.example 10)" >"$tmp/scored.json"
run import --collection "$c3" --data "$data" "$tmp/scored.json"
expect 0 "indicators with confidences are stored"
printf '{"name":"server list","type":"hostname","list":["cdn.example"]}' >"$tmp/wl1.json"
printf '{"name":"own list","type":"hostname","list":["good.example"]}' >"$tmp/wl2.json"
cat >"$tmp/scored.ini" <<EOF
[server]
data = data
[analysis]
warninglists = $tmp/wl1.json
[export listed]
format = csv
collection = $c3
path = $tmp/listed.csv
[export all]
format = csv
collection = $c3
path = $tmp/all.csv
include_warninglisted = yes
[export own]
format = csv
collection = $c3
path = $tmp/own.csv
warninglists = $tmp/wl2.json
[export high]
format = csv
collection = $c3
path = $tmp/high.csv
min_score = 50
EOF
check "the server starts with exports that filter" start_server --config \
    "$tmp/scored.ini" --listen 127.0.0.1:0
check "[analysis] warninglists leave a listed value out of an export" \
    sh -c "! grep -q cdn.example '$tmp/listed.csv' && grep -q good.example '$tmp/listed.csv'"
contains "$errf" "export listed: indicator--00000000-0000-4000-8000-000000000011: cdn.example is on warninglist 'server list'" \
    "...and the server logs it"
check "include_warninglisted = yes keeps it" grep -q '^domain,cdn\.example,' "$tmp/all.csv"
check "a section's own warninglists replace the server's" \
    sh -c "grep -q cdn.example '$tmp/own.csv' && ! grep -q good.example '$tmp/own.csv'"
check "min_score = 50 leaves out the indicator scoring 10" \
    sh -c "! grep -q weak.example '$tmp/high.csv' && grep -q '^domain,good\.example,.*,90,\$' '$tmp/high.csv'"
contains "$errf" "export high: 1 entries from 3 indicators (0 unsupported, 0 revoked, 0 expired, 1 warninglisted, 1 below min_score)" \
    "the server counts what the filters left out"
stop_server
check "the server stops cleanly (exit $rc)" [ "$rc" = 0 ]
check "no sanitizer report" no_crash_report "$errf"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
