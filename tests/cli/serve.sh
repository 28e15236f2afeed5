#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# `cairn serve` as clients meet it: the real server on a loopback port,
# users made with the admin commands, every TAXII endpoint, filter, status
# code and permission exercised with curl; configuration file, TLS, the
# access log, SIGHUP, SIGTERM and data that outlives a restart.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${CAIRN_SRC:?CAIRN_SRC must name the source tree}/tests/cli/lib.sh"
need curl jq openssl
pid=""
at_exit='reap $pid'

data=$tmp/data
log=$tmp/access.log

# req WHO METHOD PATH [CURL ARGS...]: sets $code; body in $tmp/body,
# headers in $tmp/hdr. WHO: anon, wrongpw, or a user name.
req() {
    who=$1
    method=$2
    path=$3
    shift 3
    case $who in
    anon) set -- "$@" ;;
    wrongpw) set -- -u "alice:not-her-password" "$@" ;;
    token) set -- -H "Authorization: Bearer $token" "$@" ;;
    badtoken) set -- -H "Authorization: Bearer $(printf '%064d' 7)" "$@" ;;
    *) set -- -u "$who:pw-$who" "$@" ;;
    esac
    code=$(curl -sS --max-time 30 -o "$tmp/body" -D "$tmp/hdr" \
        -w '%{http_code}' -X "$method" -H "Accept: $TAXII" "$@" \
        "$base$path" 2>"$tmp/curl.err")
}
post() { # post WHO PATH FILE
    req "$1" POST "$2" -H "Content-Type: $TAXII" --data-binary "@$3"
}
jqb() { jq -r "$@" "$tmp/body"; }
header() { # the value of response header $1
    tr -d '\r' <"$tmp/hdr" | sed -n "s/^$1: //Ip" | head -1
}

# indicator N [MODIFIED]: one valid indicator with a fixed id
indicator() {
    m=${2:-2024-01-01T00:00:00.000Z}
    printf '{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-%012d","created":"2024-01-01T00:00:00.000Z","modified":"%s","name":"ioc %d","pattern":"[ipv4-addr:value = '"'"'10.0.%d.%d'"'"']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}' \
        "$1" "$m" "$1" $(($1 / 256)) $(($1 % 256))
}
# envelope FIRST COUNT > FILE: COUNT indicators from FIRST on
envelope() {
    printf '{"objects":['
    series indicator "$1" "$2"
    printf ']}'
}
iid() { printf 'indicator--00000000-0000-4000-8000-%012d' "$1"; }

# ---- first start: the store, the banner, a configuration file ------------
cat >"$tmp/cairn.ini" <<EOF
; the server's settings; flags win over them
[server]
data = data
log = access.log
threads = 4
[taxii]
title = cairn test node
max_content_length = 64K
credential_cache_seconds = 2
EOF
check "first start with --config listens" start_server --config \
    "$tmp/cairn.ini" --listen 127.0.0.1:0
check "the data directory comes from the config file, relative to it" \
    test -f "$data/cairn.db"
check "the banner prints the discovery URL" \
    grep -q "discovery: *$base/taxii2/" "$errf"
check "the banner says how to create a user" \
    grep -q "cairn user add NAME" "$errf"
col=$(banner_collection "$errf")
check "the banner names the default collection" test -n "$col"
check "...which 'cairn grant' is shown for" \
    grep -q "cairn grant NAME $col --read --write" "$errf"

# Users: reader, writer (read+write), writer-only, and one with no rights.
for u in alice bob carol dave; do
    printf 'pw-%s\n' "$u" | "$CAIRN" user add "$u" --data "$data" \
        >/dev/null 2>&1 || fail "cairn user add $u"
done
"$CAIRN" grant alice "$col" --read --data "$data" >/dev/null 2>&1 ||
    fail "grant alice"
"$CAIRN" grant bob "$col" --read --write --data "$data" >/dev/null 2>&1 ||
    fail "grant bob"
"$CAIRN" grant dave "$col" --write --data "$data" >/dev/null 2>&1 ||
    fail "grant dave"
token=$("$CAIRN" token new bob --data "$data" 2>/dev/null)
check "cairn token new prints a 64-hex token" \
    sh -c "printf '%s' '$token' | grep -Eq '^[0-9a-f]{64}$'"

C=/api1/collections/$col

# credential_cache_seconds = 2: a removed user's cached password stops
# working within 2 s (the default keeps it for 300).
printf 'pw-erin\n' | "$CAIRN" user add erin --data "$data" >/dev/null 2>&1 ||
    fail "cairn user add erin"
req erin GET /taxii2/
check "a new user is let in ($code)" [ "$code" = 200 ]
"$CAIRN" user remove erin --data "$data" >/dev/null 2>&1 ||
    fail "cairn user remove erin"
sleep 2.5
req erin GET /taxii2/
check "...and shut out 2 s after removal with credential_cache_seconds = 2 ($code)" \
    [ "$code" = 401 ]

# ---- discovery, API root, collections -------------------------------------
req alice GET /taxii2/
check "discovery answers 200 ($code)" [ "$code" = 200 ]
check "discovery has the configured title" [ "$(jqb .title)" = "cairn test node" ]
check "discovery lists the API root by URL" \
    [ "$(jqb '.api_roots[0]')" = "$base/api1/" ]
check "discovery has the TAXII media type" \
    [ "$(header Content-Type)" = "$TAXII" ]
req alice GET /api1/
check "API root answers 200 ($code)" [ "$code" = 200 ]
check "API root advertises max_content_length = 64K from the config" \
    [ "$(jqb .max_content_length)" = 65536 ]
check "API root advertises TAXII 2.1" \
    [ "$(jqb '.versions[0]')" = "$TAXII" ]
req bob GET /api1/collections/
check "collections answers 200 ($code)" [ "$code" = 200 ]
check "a writer sees the collection, readable and writable" \
    [ "$(jqb "[.collections[] | select(.id == \"$col\" and .can_read and .can_write)] | length")" = 1 ]
req carol GET /api1/collections/
check "a user without rights sees no collection" \
    [ "$(jqb '.collections // [] | length')" = 0 ]
req alice GET "$C/"
check "collection answers 200 to a reader ($code)" [ "$code" = 200 ]
check "...can_write false" [ "$(jqb .can_write)" = false ]

# A collection's alias names it in URLs, like its id; aliases are unique
# in their API root.
feed=$("$CAIRN" collection add --title Feed --alias feed --data "$data" \
    2>/dev/null)
"$CAIRN" grant bob "$feed" --read --write --data "$data" >/dev/null 2>&1 ||
    fail "grant bob feed"
req bob GET /api1/collections/feed/
check "GET /api1/collections/ALIAS/ answers 200 ($code)" [ "$code" = 200 ]
check "...with the collection's id" [ "$(jqb .id)" = "$feed" ]
req bob GET /api1/collections/feed/objects/
check "...and its objects endpoint too ($code)" [ "$code" = 200 ]
req alice GET /api1/collections/feed/
check "...but not for a user without rights ($code)" [ "$code" = 404 ]
check "a second collection with the same alias is refused" \
    sh -c "! '$CAIRN' collection add --title Other --alias feed \
        --data '$data' 2>'$tmp/alias.err' && grep -q taken '$tmp/alias.err'"
check "...and so is an alias equal to a collection's id" \
    sh -c "! '$CAIRN' collection add --title Other --alias '$col' \
        --data '$data' 2>/dev/null"

# ---- POST: valid and invalid objects, the status resource ----------------
{
    printf '{"objects":['
    indicator 1
    printf ','
    indicator 2
    printf ','
    indicator 3
    printf ',{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-000000000999","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z"}]}'
} >"$tmp/mixed.json"
post bob "$C/objects/" "$tmp/mixed.json"
check "POST of 3 valid + 1 invalid answers 202 ($code)" [ "$code" = 202 ]
check "...status total 4" [ "$(jqb .total_count)" = 4 ]
check "...3 successes" [ "$(jqb .success_count)" = 3 ]
check "...1 failure naming the invalid object" \
    [ "$(jqb '.failures[0].id')" = "$(iid 999)" ]
check "...with a reason" [ -n "$(jqb '.failures[0].message // empty')" ]
status_id=$(jqb .id)
req bob GET "/api1/status/$status_id/"
check "GET status answers 200 ($code)" [ "$code" = 200 ]
check "...status complete" [ "$(jqb .status)" = complete ]
post bob "$C/objects/" "$tmp/mixed.json"
check "re-posting identical versions succeeds, not duplicates" \
    [ "$(jqb .success_count)" = 3 ]

envelope 4 27 >"$tmp/more.json" # objects 4..30
post bob "$C/objects/" "$tmp/more.json"
check "POST of 27 more answers 202 ($code)" [ "$code" = 202 ]
printf '{"objects":[%s]}' "$(indicator 5 2024-06-01T00:00:00.000Z)" \
    >"$tmp/v2.json"
post token "$C/objects/" "$tmp/v2.json"
check "POST with a bearer token answers 202 ($code)" [ "$code" = 202 ]

# ---- GET objects: paging, added_after, filters -----------------------------
: >"$tmp/seen"
path="$C/objects/?limit=7"
pages=0
while [ $pages -lt 20 ]; do
    req alice GET "$path"
    [ "$code" = 200 ] || break
    pages=$((pages + 1))
    jqb '.objects[]?.id' >>"$tmp/seen"
    [ "$(jqb '.more // false')" = true ] || break
    path="$C/objects/?limit=7&next=$(jqb .next)"
done
check "paging with limit=7 takes 5 pages ($pages)" [ "$pages" -eq 5 ]
check "every object is seen once (30 = $(sort -u "$tmp/seen" | wc -l))" \
    [ "$(sort -u "$tmp/seen" | wc -l)" -eq 30 ]
check "no object is seen twice" [ "$(wc -l <"$tmp/seen")" -eq 30 ]

req alice GET "$C/objects/?limit=10"
first_last=$(header X-TAXII-Date-Added-Last)
check "a page carries X-TAXII-Date-Added-First" \
    [ -n "$(header X-TAXII-Date-Added-First)" ]
check "...and X-TAXII-Date-Added-Last" [ -n "$first_last" ]
req alice GET "$C/objects/?added_after=$first_last"
check "added_after the first page's last gives the other 20" \
    [ "$(jqb '.objects | length')" -eq 20 ]
req alice GET "$C/objects/?match%5Bid%5D=$(iid 7)"
check "match[id] selects one object" \
    [ "$(jqb '[.objects[].id] | join(",")')" = "$(iid 7)" ]
req alice GET "$C/objects/?match%5Btype%5D=malware"
check "match[type]=malware selects nothing" \
    [ "$(jqb '.objects // [] | length')" -eq 0 ]
req alice GET "$C/objects/?match%5Btype%5D=indicator,malware&limit=100"
check "match[type]=indicator,malware selects all 30" \
    [ "$(jqb '.objects | length')" -eq 30 ]
req alice GET "$C/objects/?match%5Bid%5D=$(iid 5)&match%5Bversion%5D=all"
check "match[version]=all gives both versions of one object" \
    [ "$(jqb '.objects | length')" -eq 2 ]
req alice GET "$C/objects/?match%5Bid%5D=$(iid 5)"
check "the default is the latest version" \
    [ "$(jqb '.objects[0].modified')" = 2024-06-01T00:00:00.000Z ]
req alice GET "$C/objects/?match%5Bid%5D=$(iid 5)&match%5Bversion%5D=first"
check "match[version]=first gives the first" \
    [ "$(jqb '.objects[0].modified')" = 2024-01-01T00:00:00.000Z ]
req alice GET "$C/objects/?match%5Bspec_version%5D=2.0"
check "match[spec_version]=2.0 selects nothing" \
    [ "$(jqb '.objects // [] | length')" -eq 0 ]

req alice GET "$C/objects/$(iid 5)/"
check "GET object answers 200 ($code)" [ "$code" = 200 ]
check "...with that object" [ "$(jqb '.objects[0].id')" = "$(iid 5)" ]
req alice GET "$C/objects/$(iid 5)/versions/"
check "versions lists both versions" [ "$(jqb '.versions | length')" -eq 2 ]
req alice GET "$C/manifest/?limit=100"
check "manifest answers 200 with 30 entries" \
    [ "$code" = 200 ] && [ "$(jqb '.objects | length')" -eq 30 ]
# A URI over the server's limit is refused whole, never cut: a cut query
# would drop match[version] and widen the DELETE to every version.
pad=$(head -c 17000 /dev/zero | tr '\0' A)
req bob DELETE "$C/objects/$(iid 5)/?pad=$pad&match%5Bversion%5D=first"
check "an over-long URI answers 414 ($code)" [ "$code" = 414 ]
req alice GET "$C/objects/$(iid 5)/versions/"
check "...and deletes nothing" [ "$(jqb '.versions | length')" -eq 2 ]
req bob DELETE "$C/objects/$(iid 30)/"
check "DELETE object by a writer answers 200 ($code)" [ "$code" = 200 ]
req alice GET "$C/objects/$(iid 30)/"
check "...and it is gone (404, got $code)" [ "$code" = 404 ]

# ---- media types and sizes -------------------------------------------------
code=$(curl -sS --max-time 30 -o /dev/null -w '%{http_code}' -u alice:pw-alice \
    -H 'Accept: application/json' "$base/taxii2/")
check "Accept: application/json answers 406 ($code)" [ "$code" = 406 ]
req bob POST "$C/objects/" -H 'Content-Type: application/json' \
    --data-binary "@$tmp/v2.json"
check "Content-Type: application/json answers 415 ($code)" [ "$code" = 415 ]
envelope 100 400 >"$tmp/big.json" # > 64K
post bob "$C/objects/" "$tmp/big.json"
check "a body over max_content_length answers 413 ($code)" [ "$code" = 413 ]
check "...with an error resource of the same status" \
    [ "$(jqb .http_status)" = 413 ]
req bob POST "$C/objects/" -H "Content-Type: $TAXII" \
    -H 'Transfer-Encoding: chunked' --data-binary "@$tmp/big.json"
check "a chunked body over the limit answers 413 ($code)" [ "$code" = 413 ]
req alice GET "$C/objects/$(iid 101)/"
check "...and none of its objects was stored ($code)" [ "$code" = 404 ]

# A body is read only from someone who may send one: a client waiting for
# "100 Continue" is answered 401 without being asked for its body.
envelope 200 10 >"$tmp/small.json"
for who in anon wrongpw badtoken; do
    req "$who" POST "$C/objects/" -H "Content-Type: $TAXII" \
        -H 'Expect: 100-continue' --data-binary "@$tmp/small.json"
    check "a POST by $who is refused before its body ($code)" \
        sh -c "[ '$code' = 401 ] && ! grep -q '100 Continue' '$tmp/hdr'"
    check "...with WWW-Authenticate" [ -n "$(header WWW-Authenticate)" ]
done
req anon POST "$C/objects/" -H "Content-Type: $TAXII" -H 'Expect:' \
    --limit-rate 64k --data-binary "@$tmp/small.json"
check "a refused POST that sends its body anyway gets its 401 ($code)" \
    [ "$code" = 401 ]
req bob POST "$C/objects/" -H "Content-Type: $TAXII" \
    -H 'Expect: 100-continue' --data-binary "@$tmp/small.json"
check "a writer is asked for the body and gets 202 ($code)" \
    sh -c "[ '$code' = 202 ] && grep -q '100 Continue' '$tmp/hdr'"

# ---- the permission table ---------------------------------------------------
# who method path expected-status
cat >"$tmp/table" <<EOF
anon GET /taxii2/ 401
anon GET /api1/ 401
anon GET $C/objects/ 401
anon POST $C/objects/ 401
wrongpw GET /taxii2/ 401
wrongpw GET $C/objects/ 401
badtoken GET /taxii2/ 401
token GET $C/objects/ 200
alice GET /taxii2/ 200
alice GET $C/ 200
alice GET $C/objects/ 200
alice GET $C/manifest/ 200
alice GET $C/objects/$(iid 1)/ 200
alice GET $C/objects/$(iid 1)/versions/ 200
alice POST $C/objects/ 403
alice DELETE $C/objects/$(iid 1)/ 403
bob GET $C/objects/ 200
bob POST $C/objects/ 202
bob GET $C/manifest/ 200
carol GET /taxii2/ 200
carol GET /api1/collections/ 200
carol GET $C/ 404
carol GET $C/objects/ 404
carol GET $C/manifest/ 404
carol GET $C/objects/$(iid 1)/ 404
carol POST $C/objects/ 404
carol DELETE $C/objects/$(iid 1)/ 404
carol GET /api1/status/$status_id/ 404
dave GET $C/objects/ 403
dave GET $C/manifest/ 403
dave POST $C/objects/ 202
anon GET /no-such-root/ 401
bob GET /no-such-root/ 404
bob GET /api1/collections/00000000-0000-4000-8000-000000000000/ 404
EOF
while read -r who method path want; do
    if [ "$method" = POST ]; then
        post "$who" "$path" "$tmp/v2.json"
    else
        req "$who" "$method" "$path"
    fi
    check "$who $method $path: $want (got $code)" [ "$code" = "$want" ]
    case $code in
    4*) check "$who $method $path: error resource says $code" \
        [ "$(jqb .http_status)" = "$code" ] ;;
    esac
    if [ "$code" = 401 ]; then
        check "$who $method $path: 401 has WWW-Authenticate" \
            [ -n "$(header WWW-Authenticate)" ]
    fi
done <"$tmp/table"

# ---- the access log and SIGHUP ---------------------------------------------
check "the access log has one line per request" \
    [ "$(grep -c '"GET /taxii2/"' "$log")" -ge 5 ]
check "a line has time, client, user, request, status, bytes, ms" \
    grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z 127\.0\.0\.1 alice "GET /taxii2/" 200 [0-9]+ [0-9]+\.[0-9]{3}$' "$log"
check "anonymous requests are logged with user -" \
    grep -q ' 127\.0\.0\.1 - "GET /taxii2/" 401 ' "$log"
mv "$log" "$log.1"
kill -HUP "$pid"
# The reopen is asynchronous: wait for the new file (30 s at most).
i=0
while [ ! -e "$log" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
req alice GET /api1/
# A request's line is written once its answer has gone: wait for it too.
i=0
while ! grep -q '"GET /api1/" 200' "$log" 2>/dev/null && [ $i -lt 600 ]; do
    sleep 0.05
    i=$((i + 1))
done
check "SIGHUP reopens the log under its name" \
    grep -q '"GET /api1/" 200' "$log"
check "...and the moved file keeps the older lines" \
    grep -q '"GET /taxii2/"' "$log.1"
check "...and the server still answers after SIGHUP ($code)" [ "$code" = 200 ]

# ---- SIGTERM, restart: the data persists -----------------------------------
req alice GET "$C/manifest/?limit=1000"
before=$(jqb '.objects | length')
stop_server TERM
check "SIGTERM exits 0 ($rc)" [ "$rc" -eq 0 ]
check "...after saying it finishes the requests in flight" \
    grep -q 'SIGTERM' "$errf"
check "restart on the same data listens" start_server --data "$data" \
    --listen 127.0.0.1:0
req alice GET "$C/manifest/?limit=1000"
check "every object is still there after a restart ($before)" \
    [ "$(jqb '.objects | length')" = "$before" ]
# A large POST is answered 202 while its job still writes; SIGTERM right
# after the answer must finish the job before the server exits.
envelope 5000 3000 >"$tmp/job.json"
post bob "$C/objects/" "$tmp/job.json"
check "a 3000-object POST answers 202 ($code)" [ "$code" = 202 ]
job_status=$(jqb .id)
stop_server INT
check "SIGINT exits 0 too ($rc)" [ "$rc" -eq 0 ]
check "restart after SIGINT" start_server --data "$data" --listen 127.0.0.1:0
req bob GET "/api1/status/$job_status/"
check "the job answered 202 before SIGINT completed ($(jqb .status))" \
    [ "$(jqb .status)" = complete ]
check "...with all 3000 objects stored" [ "$(jqb .success_count)" = 3000 ]
req alice GET "$C/objects/$(iid 7999)/"
check "...the last of them can be read ($code)" [ "$code" = 200 ]
# Unauthenticated bodies under the (default, 100M) limit are dropped as
# they arrive, never kept: three 30 MB uploads at once barely move the
# server's peak memory.
head -c 30000000 /dev/zero >"$tmp/zeros"
hwm() { sed -n "s/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$pid/status"; }
hwm0=$(hwm)
uploads=""
for i in 1 2 3; do
    curl -sS --max-time 30 -o /dev/null -w '%{http_code}\n' -X POST \
        -H "Content-Type: $TAXII" -H 'Expect:' -H "Authorization: Bogus $i" \
        --data-binary "@$tmp/zeros" "$base$C/objects/" >"$tmp/big$i" &
    uploads="$uploads $!"
done
for p in $uploads; do wait "$p"; done
wait_ok=0
for i in 1 2 3; do
    [ "$(cat "$tmp/big$i")" = 401 ] && wait_ok=$((wait_ok + 1))
done
check "three unauthenticated 30 MB POSTs get 401 ($wait_ok of 3)" \
    [ "$wait_ok" = 3 ]
hwm1=$(hwm)
check "...and the server's peak memory grew by under 20 MB ($hwm0 -> $hwm1 kB)" \
    [ $((${hwm1:-999999} - ${hwm0:-0})) -lt 20000 ]
rm -f "$tmp/zeros"
stop_server

# ---- refusals at start -------------------------------------------------------
expect_refusal() { # DESCRIPTION PATTERN ARGS...
    what=$1
    pat=$2
    shift 2
    timeout 10 "$CAIRN" serve --data "$data" "$@" >/dev/null 2>"$tmp/refuse"
    r=$?
    check "$what exits 2 ($r)" [ "$r" -eq 2 ]
    check "$what: message matches '$pat'" grep -q -- "$pat" "$tmp/refuse"
}
expect_refusal "non-loopback without TLS" "--insecure" --listen 0.0.0.0:0
expect_refusal "a malformed listen address" "ADDRESS:PORT" --listen 6543
expect_refusal "IPv6 without brackets" "ADDRESS:PORT" --listen ::1:6543
expect_refusal "a certificate without its key" "tls-key" \
    --listen 127.0.0.1:0 --tls-cert "$tmp/none.pem"
printf '[server]\nlisten = 127.0.0.1:0\nport = 1\n' >"$tmp/bad.ini"
expect_refusal "an unknown config key" "bad.ini:3: unknown key 'port'" \
    --config "$tmp/bad.ini"
printf '[server]\nlisten = 127.0.0.1:0\n[tls]\ncert = c.pem\n' >"$tmp/bad2.ini"
expect_refusal "an unknown config section" "bad2.ini:4: unknown section" \
    --config "$tmp/bad2.ini"
printf '[server]\nlisten = 127.0.0.1:0\ninsecure = maybe\n' >"$tmp/bad3.ini"
expect_refusal "a malformed boolean" "bad3.ini:3: insecure" \
    --config "$tmp/bad3.ini"
for v in 0 -5 abc 86401 10s 1K; do
    printf '[taxii]\ntitle = t\ncredential_cache_seconds = %s\n' "$v" \
        >"$tmp/bad4.ini"
    expect_refusal "credential_cache_seconds = $v" \
        "bad4.ini:3: credential_cache_seconds: '$v' is not a number" \
        --listen 127.0.0.1:0 --config "$tmp/bad4.ini"
done
printf '[taxii]\ncredential_cache_seconds = 5\ncredential_cache_seconds = 6\n' \
    >"$tmp/bad5.ini"
expect_refusal "credential_cache_seconds given twice" \
    "bad5.ini:3: \[taxii\] credential_cache_seconds is given twice" \
    --listen 127.0.0.1:0 --config "$tmp/bad5.ini"
: >"$tmp/busy.port"
start_server --data "$data" --listen 127.0.0.1:0
expect_refusal "a port in use" "in use" --listen "127.0.0.1:$port"
stop_server

# page_bytes: a page of objects ends with more once its bytes are spent.
for v in 1K 129M abc; do
    printf '[taxii]\npage_bytes = %s\n' "$v" >"$tmp/bad6.ini"
    expect_refusal "page_bytes = $v" "bad6.ini:2: page_bytes: '$v'" \
        --listen 127.0.0.1:0 --config "$tmp/bad6.ini"
done
printf '[taxii]\npage_bytes = 64K\n' >"$tmp/page.ini"
check "start with page_bytes = 64K" start_server --data "$data" \
    --listen 127.0.0.1:0 --config "$tmp/page.ini"
pad=$(head -c 40000 /dev/zero | tr '\0' a)
{
    printf '{"objects":['
    for i in 501 502 503; do
        [ "$i" = 501 ] || printf ','
        indicator "$i" | sed "s/\"name\":\"ioc $i\"/\"name\":\"ioc $i\",\"description\":\"$pad\"/"
    done
    printf ']}'
} >"$tmp/large.json"
post bob "$C/objects/" "$tmp/large.json"
req bob GET "$C/objects/?limit=100&match%5Bid%5D=indicator--00000000-0000-4000-8000-000000000501,indicator--00000000-0000-4000-8000-000000000502,indicator--00000000-0000-4000-8000-000000000503"
check "...three 40 KB objects do not fit one 64K page ($(jqb '.objects | length'))" \
    [ "$(jqb '.objects | length')" -lt 3 ]
check "...so the page says more ($(jqb .more))" [ "$(jqb .more)" = true ]
stop_server

# A limit above the old default of 100 MiB holds for the API roots too.
printf '[taxii]\nmax_content_length = 200M\n' >"$tmp/big.ini"
check "start with max_content_length = 200M" start_server --data "$data" \
    --listen 127.0.0.1:0 --config "$tmp/big.ini"
req alice GET /api1/
check "...which the API root advertises ($(jqb .max_content_length))" \
    [ "$(jqb .max_content_length)" = 209715200 ]
stop_server

# ---- IPv6 loopback ------------------------------------------------------------
if grep -q '^0\{31\}1 ' /proc/net/if_inet6 2>/dev/null; then
    check "listening on [::1]:0" start_server --data "$data" --listen '[::1]:0'
    code=$(curl -sS --max-time 30 -o "$tmp/body" -w '%{http_code}' \
        -u alice:pw-alice -H "Accept: $TAXII" "http://[::1]:$port/taxii2/")
    check "discovery over IPv6 answers 200 ($code)" [ "$code" = 200 ]
    check "...with IPv6 URLs" [ "$(jqb '.api_roots[0]')" = "http://[::1]:$port/api1/" ]
    stop_server
else
    echo "note: no IPv6 loopback here; the [::1] checks did not run"
fi

# ---- TLS ---------------------------------------------------------------------
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/key.pem" \
    -out "$tmp/cert.pem" -days 2 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1 ||
    fail "openssl could not make a self-signed certificate"
check "HTTPS start with --tls-cert and --tls-key" start_server --data \
    "$data" --listen 127.0.0.1:0 --tls-cert "$tmp/cert.pem" \
    --tls-key "$tmp/key.pem"
code=$(curl -sS --max-time 30 --cacert "$tmp/cert.pem" -o "$tmp/body" \
    -w '%{http_code}' -u alice:pw-alice -H "Accept: $TAXII" \
    "https://127.0.0.1:$port/taxii2/")
check "discovery over HTTPS answers 200 ($code)" [ "$code" = 200 ]
check "...with https URLs" \
    [ "$(jqb '.api_roots[0]')" = "https://127.0.0.1:$port/api1/" ]
code=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' \
    "http://127.0.0.1:$port/taxii2/" 2>/dev/null)
check "plain HTTP to the HTTPS port gets no TAXII answer ($code)" \
    [ "$code" != 200 ] && [ "$code" != 401 ]
stop_server
check "the HTTPS server stops with 0 ($rc)" [ "$rc" -eq 0 ]
expect_refusal "a key that is not PEM" "PEM" --listen 127.0.0.1:0 \
    --tls-cert "$tmp/cert.pem" --tls-key "$tmp/cairn.ini"

# ---- the server never crashed or tripped a sanitizer ---------------------
check "no sanitizer report from the server" no_crash_report "$errf"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
