#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The web console's security, over HTTP as a browser speaks it: headers,
# escaping, CSRF tokens, rights as TAXII has them, sessions (fixation,
# log-out), and the switch. (The log-in's throttle is Basic's own, the
# same cairn_taxii_auth_begin and _check, tested in tests/unit/test_taxii.c.)
. "$(dirname "$0")/lib.sh"
need curl jq

data=$tmp/d
at_exit='reap $pid'
start_server --data "$data" --listen 127.0.0.1:0 || {
    fail "server did not start"
    cat "$errf"
    exit 1
}
coll=$(banner_collection "$errf")
run collection add --title "secret-coll-title" --data "$data"
secret=$(sed -n 's/.*\([0-9a-f]\{8\}-[0-9a-f]\{4\}-[0-9a-f]\{4\}-[0-9a-f]\{4\}-[0-9a-f]\{12\}\).*/\1/p' "$out" "$err" | head -1)
check "a second collection" [ -n "$secret" ]
printf 'pw-alice\n' >"$tmp/pw"
stdin=$tmp/pw run user add alice --admin --data "$data"
printf 'pw-bob\n' >"$tmp/pw"
stdin=$tmp/pw run user add bob --data "$data"
printf 'pw-carol\n' >"$tmp/pw"
stdin=$tmp/pw run user add carol --data "$data"
run grant alice "$coll" --read --write --data "$data"
run grant alice "$secret" --read --write --data "$data"
run grant bob "$coll" --read --write --data "$data"
run grant carol "$coll" --read --data "$data"

xss='<script>alert(1)</script>'
cat >"$tmp/open.json" <<EOF
{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[
{"type":"indicator","spec_version":"2.1","id":"indicator--0d8b3a55-7d8f-4c4e-9b11-111111111111",
 "created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z",
 "name":"$xss","description":"\"><img src=x onerror=alert(2)>",
 "pattern":"[domain-name:value = 'open.example']","pattern_type":"stix",
 "valid_from":"2024-01-01T00:00:00Z","labels":["$xss"]}]}
EOF
cat >"$tmp/secret.json" <<'EOF'
{"type":"bundle","id":"bundle--6d0092c5-5f74-4287-9642-33f4c354e56d","objects":[
{"type":"indicator","spec_version":"2.1","id":"indicator--0d8b3a55-7d8f-4c4e-9b11-222222222222",
 "created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z",
 "name":"TOPSECRET","pattern":"[domain-name:value = 'secret-only.example']",
 "pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"},
{"type":"sighting","spec_version":"2.1","id":"sighting--0d8b3a55-7d8f-4c4e-9b11-333333333333",
 "created":"2024-01-02T00:00:00.000Z","modified":"2024-01-02T00:00:00.000Z",
 "sighting_of_ref":"indicator--0d8b3a55-7d8f-4c4e-9b11-222222222222","count":3},
{"type":"sighting","spec_version":"2.1","id":"sighting--0d8b3a55-7d8f-4c4e-9b11-dddddddddddd",
 "created":"2024-02-03T00:00:00.000Z","modified":"2024-02-03T00:00:00.000Z",
 "first_seen":"2024-02-03T00:00:00Z","last_seen":"2024-02-03T00:00:00Z",
 "sighting_of_ref":"indicator--0d8b3a55-7d8f-4c4e-9b11-111111111111","count":5,
 "where_sighted_refs":["identity--0d8b3a55-7d8f-4c4e-9b11-cccccccccccc"]}]}
EOF
# Sightings of the open indicator by two organisations here, and by a
# third in the secret collection; a domain-name SCO under its domain; an
# indicator of a CIDR block.
cat >"$tmp/open-seen.json" <<'EOF'
{"type":"bundle","id":"bundle--7d0092c5-5f74-4287-9642-33f4c354e56d","objects":[
{"type":"sighting","spec_version":"2.1","id":"sighting--0d8b3a55-7d8f-4c4e-9b11-555555555555",
 "created":"2024-02-01T00:00:00.000Z","modified":"2024-02-01T00:00:00.000Z",
 "first_seen":"2024-02-01T00:00:00Z","last_seen":"2024-02-01T00:00:00Z",
 "sighting_of_ref":"indicator--0d8b3a55-7d8f-4c4e-9b11-111111111111","count":2,
 "where_sighted_refs":["identity--0d8b3a55-7d8f-4c4e-9b11-aaaaaaaaaaaa"]},
{"type":"sighting","spec_version":"2.1","id":"sighting--0d8b3a55-7d8f-4c4e-9b11-666666666666",
 "created":"2024-02-02T00:00:00.000Z","modified":"2024-02-02T00:00:00.000Z",
 "first_seen":"2024-02-02T00:00:00Z","last_seen":"2024-02-02T00:00:00Z",
 "sighting_of_ref":"indicator--0d8b3a55-7d8f-4c4e-9b11-111111111111","count":1,
 "where_sighted_refs":["identity--0d8b3a55-7d8f-4c4e-9b11-bbbbbbbbbbbb"]},
{"type":"domain-name","spec_version":"2.1","id":"domain-name--0d8b3a55-7d8f-4c4e-9b11-777777777777",
 "value":"deep.sub.open.example"},
{"type":"indicator","spec_version":"2.1","id":"indicator--0d8b3a55-7d8f-4c4e-9b11-999999999999",
 "created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z",
 "name":"cdn-under-open","pattern":"[domain-name:value = 'cdn.open.example']","pattern_type":"stix",
 "valid_from":"2024-01-01T00:00:00Z"},
{"type":"indicator","spec_version":"2.1","id":"indicator--0d8b3a55-7d8f-4c4e-9b11-888888888888",
 "created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z",
 "name":"net-block","pattern":"[ipv4-addr:value = '198.51.100.0/24']","pattern_type":"stix",
 "valid_from":"2024-01-01T00:00:00Z"}]}
EOF
run import --collection "$coll" --data "$data" "$tmp/open.json"
expect 0 "the open bundle is imported"
run import --collection "$coll" --data "$data" "$tmp/open-seen.json"
expect 0 "the open sightings are imported"
run import --collection "$secret" --data "$data" "$tmp/secret.json"
expect 0 "the secret bundle is imported"

# Telemetry in the node's archive (DATA/archive), for the dashboard and
# the search.
printf 'ts,query\n2024-03-01T10:00:00Z,archived-only.example\n2024-03-01T10:00:01Z,archived-only.example\n2024-03-01T10:00:02Z,other.example\n' >"$tmp/dns.csv"
run archive add --data "$data" --sensor dns1 "$tmp/dns.csv"
expect 0 "telemetry is archived"

ui=$base/ui
# login USER PASSWORD JAR: logs in through the form; prints the status.
login() {
    rm -f "$3"
    curl -sS -c "$3" -b "$3" -o "$tmp/login.html" "$ui/login"
    tok=$(sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' "$tmp/login.html")
    curl -sS -c "$3" -b "$3" -o "$tmp/login-out.html" -D "$tmp/login.h" \
        -w '%{http_code}' --data-urlencode "user=$1" \
        --data-urlencode "password=$2" --data-urlencode "csrf=$tok" \
        "$ui/login"
}
# page JAR PATH: GETs a page into $tmp/page.html; prints the status.
page() {
    curl -sS -b "$1" -o "$tmp/page.html" -D "$tmp/page.h" -w '%{http_code}' \
        "$ui$2"
}
# csrf_of FILE: the CSRF token of a page's forms.
csrf_of() { sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' "$1" | head -1; }
# session_of JAR: the session cookie's value.
session_of() { awk '$6 == "cairn_session" { print $7 }' "$1" | tail -1; }

# ---- headers ---------------------------------------------------------------
check "the log-in page answers 200" [ "$(page "$tmp/none" /login)" = 200 ]
contains "$tmp/page.h" "Content-Security-Policy: default-src 'none'; script-src 'self'" "strict CSP"
contains "$tmp/page.h" "frame-ancestors 'none'" "CSP frame-ancestors"
contains "$tmp/page.h" "X-Frame-Options: DENY" "X-Frame-Options"
contains "$tmp/page.h" "Cache-Control: no-store" "no caching"
contains "$tmp/page.h" "HttpOnly; SameSite=Strict" "log-in cookie flags"
check "no inline script on the log-in page" sh -c "! grep -q '<script>' '$tmp/page.html'"
check "a page without a session goes to the log-in" \
    [ "$(page "$tmp/none" /)" = 303 ]
check "the assets are served" [ "$(page "$tmp/none" /static/console.js)" = 200 ]

# ---- log-in ----------------------------------------------------------------
check "a wrong password is refused" [ "$(login alice nope "$tmp/a")" = 401 ]
check "alice logs in" [ "$(login alice pw-alice "$tmp/a")" = 303 ]
contains "$tmp/login.h" "Set-Cookie: cairn_session=" "a session cookie"
contains "$tmp/login.h" "; Path=/ui/; HttpOnly; SameSite=Strict; Max-Age=" "session cookie flags and expiry"
check "the dashboard answers 200" [ "$(page "$tmp/a" /)" = 200 ]
contains "$tmp/page.h" "Cache-Control: no-store" "authenticated pages are not cached"

# ---- escaping --------------------------------------------------------------
id_open=indicator--0d8b3a55-7d8f-4c4e-9b11-111111111111
for p in / "/object?id=$id_open" "/search?q=open.example" \
    "/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E"; do
    page "$tmp/a" "$p" >/dev/null
    check "no live script from the store on $p" \
        sh -c "! grep -qF '$xss' '$tmp/page.html' && ! grep -qF '<img src=x' '$tmp/page.html'"
done
page "$tmp/a" "/object?id=$id_open" >/dev/null
contains "$tmp/page.html" '&lt;script&gt;alert(1)&lt;/script&gt;' "the name shows as text"
contains "$tmp/page.html" '&quot;&gt;&lt;img src=x onerror=alert(2)&gt;' "the description shows as text"

# ---- CSRF ------------------------------------------------------------------
page "$tmp/a" /import >/dev/null
tok=$(csrf_of "$tmp/page.html")
check "the import form carries a token" [ -n "$tok" ]
cat >"$tmp/new.json" <<'EOF'
{"type":"bundle","id":"bundle--7d0092c5-5f74-4287-9642-33f4c354e56d","objects":[
{"type":"malware","spec_version":"2.1","id":"malware--0d8b3a55-7d8f-4c4e-9b11-444444444444",
 "created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z",
 "name":"csrf-probe","is_family":true}]}
EOF
st=$(curl -sS -b "$tmp/a" -o "$tmp/r.html" -w '%{http_code}' \
    -F collection="$coll" -F store=1 -F "file=@$tmp/new.json" "$ui/import")
check "an import without its CSRF token is refused" [ "$st" = 403 ]
st=$(curl -sS -b "$tmp/a" -o "$tmp/r.html" -w '%{http_code}' \
    -F csrf=0000000000000000000000000000000000000000000000000000000000000000 \
    -F collection="$coll" -F store=1 -F "file=@$tmp/new.json" "$ui/import")
check "an import with a wrong CSRF token is refused" [ "$st" = 403 ]
page "$tmp/a" "/object?id=malware--0d8b3a55-7d8f-4c4e-9b11-444444444444" >/dev/null
check "nothing was stored by the refused forms" grep -q 'no such object' "$tmp/page.html"
st=$(curl -sS -b "$tmp/a" -o "$tmp/r.html" -w '%{http_code}' -F "csrf=$tok" \
    -F collection="$coll" -F store=1 -F "file=@$tmp/new.json" "$ui/import")
check "an import with its token is stored" [ "$st" = 200 ]
contains "$tmp/r.html" '1 new' "the import's counts"
# A bare array of objects is no bundle: the page says why nothing was stored.
printf '[{"type":"malware","spec_version":"2.1","id":"malware--0d8b3a55-7d8f-4c4e-9b11-555555555555","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"bare","is_family":true}]' >"$tmp/bare.json"
st=$(curl -sS -b "$tmp/a" -o "$tmp/r.html" -w '%{http_code}' -F "csrf=$tok" \
    -F collection="$coll" -F store=1 -F "file=@$tmp/bare.json" "$ui/import")
check "a bare array answers 200" [ "$st" = 200 ]
contains "$tmp/r.html" 'id="not-stored"' "the page says why nothing was stored"
# Other formats go through the feed module, as `cairn feed import`.
printf 'ioc,kind,title\ncsv-one.example,domain,First\n198.51.100.7,ipv4,Second\nbad row\n' >"$tmp/iocs.csv"
st=$(curl -sS -b "$tmp/a" -o "$tmp/r.html" -w '%{http_code}' -F "csrf=$tok" \
    -F collection="$coll" -F store=1 -F format=csv -F 'map=value=ioc,type=kind,name=title' \
    -F "file=@$tmp/iocs.csv" "$ui/import")
check "a CSV import answers 200" [ "$st" = 200 ]
contains "$tmp/r.html" '2 indicators' "the CSV's rows became indicators"
contains "$tmp/r.html" 'line 4' "the bad row is named by its line"
contains "$tmp/r.html" '2 new' "the CSV's indicators are stored"
st=$(curl -sS -b "$tmp/a" -o "$tmp/r.html" -w '%{http_code}' -F "csrf=$tok" \
    -F collection="$coll" -F format=csv -F 'map=nothing=here' \
    -F "file=@$tmp/iocs.csv" "$ui/import")
contains "$tmp/r.html" 'CSV columns' "a bad column map is a finding"
printf 'list-only.example\n203.0.113.9\n' >"$tmp/list.txt"
curl -sS -b "$tmp/a" -o "$tmp/r.html" -F "csrf=$tok" -F collection="$coll" \
    -F format=list -F "file=@$tmp/list.txt" "$ui/import"
contains "$tmp/r.html" '2 indicators' "a list is converted"
check "without 'store', nothing is stored" sh -c "! grep -q 'id=\"stored\"' '$tmp/r.html'"
# A hunt with a pasted pattern instead of the stored indicators.
curl -sS -b "$tmp/a" -o "$tmp/r.html" -F "csrf=$tok" \
    -F "values=query pasted-only.example from 10.0.0.1" \
    -F "pattern=[domain-name:value = 'pasted-only.example']" "$ui/hunt"
contains "$tmp/r.html" '1 hit in 1 line' "the pasted pattern finds its value"
contains "$tmp/r.html" 'the pasted pattern</td>' "the hit names the pasted pattern"
st=$(curl -sS -b "$tmp/a" -o "$tmp/r.html" -w '%{http_code}' -F "csrf=$tok" \
    -F "values=x" -F "pattern=[nonsense" "$ui/hunt")
check "a pattern that does not parse is a 400" [ "$st" = 400 ]
contains "$tmp/r.html" 'cannot be hunted' "and the page says why"
st=$(curl -sS -b "$tmp/a" -o /dev/null -w '%{http_code}' \
    --data 'action=grant&user=carol&collection='"$secret"'&read=1' "$ui/admin")
check "an admin form without its token is refused" [ "$st" = 403 ]
run user list --rights --data "$data"
check "carol got no grant" sh -c "! grep -q 'carol  $secret' '$out'"
st=$(curl -sS -b "$tmp/a" -o /dev/null -w '%{http_code}' --data "csrf=x" "$ui/logout")
check "a log-out without its token is refused" [ "$st" = 403 ]

# ---- rights: bob sees no trace of the secret collection --------------------
check "bob logs in" [ "$(login bob pw-bob "$tmp/b")" = 303 ]
id_secret=indicator--0d8b3a55-7d8f-4c4e-9b11-222222222222
page "$tmp/b" "/search?q=$id_secret" >/dev/null
contains "$tmp/page.html" 'id="no-results"' "bob's search for the secret id finds nothing"
check "no trace of the secret collection on a search for its id" \
    sh -c "! grep -qe '$secret' -e secret-coll-title -e TOPSECRET '$tmp/page.html'"
for p in / /search "/search?q=secret-only.example" "/search?q=open.example" "/object?id=$id_secret" "/object?id=$id_secret&c=$secret" \
    "/object?id=sighting--0d8b3a55-7d8f-4c4e-9b11-333333333333" \
    /sightings /hunt /import "/object?id=$id_open"; do
    page "$tmp/b" "$p" >/dev/null
    check "no trace of the secret collection on $p" \
        sh -c "! grep -qe '$secret' -e secret-coll-title -e TOPSECRET -e '$id_secret' -e 333333333333 -e dddddddddddd -e cccccccccccc '$tmp/page.html'"
done
page "$tmp/b" /hunt >/dev/null
tok=$(csrf_of "$tmp/page.html")
printf 'secret-only.example\nopen.example\n' >"$tmp/vals.txt"
curl -sS -b "$tmp/b" -o "$tmp/page.html" -F "csrf=$tok" -F collection= \
    -F "log=@$tmp/vals.txt" "$ui/hunt"
contains "$tmp/page.html" '1 hit' "bob's hunt finds his own indicator only"
check "bob's hunt shows nothing of the secret one" \
    sh -c "! grep -qe TOPSECRET -e '$id_secret' '$tmp/page.html'"
st=$(curl -sS -b "$tmp/b" -o /dev/null -w '%{http_code}' -F "csrf=$tok" \
    -F collection="$secret" -F store=1 -F "file=@$tmp/new.json" "$ui/import")
check "bob may not import into the secret collection" [ "$st" = 403 ]
check "the admin page is for administrators" [ "$(page "$tmp/b" /admin)" = 403 ]
page "$tmp/a" "/search?q=secret-only.example" >/dev/null
contains "$tmp/page.html" TOPSECRET "alice, who may read it, finds it"

# ---- search over the correlation index -------------------------------------
page "$tmp/a" "/search?q=x.y.open.example" >/dev/null
contains "$tmp/page.html" "$id_open" "a name under a domain finds the domain's indicator"
contains "$tmp/page.html" '<td>open.example</td>' "and says it matched as the parent domain"
page "$tmp/a" "/search?q=open.example" >/dev/null
contains "$tmp/page.html" 'indicator--0d8b3a55-7d8f-4c4e-9b11-999999999999' "a domain finds the indicators of names under it"
contains "$tmp/page.html" '2 indicators match' "and counts them"
contains "$tmp/page.html" 'id="related"' "the search lists what refers to the matches"
contains "$tmp/page.html" 'sighting--0d8b3a55-7d8f-4c4e-9b11-555555555555' "the sightings of a matched indicator"
contains "$tmp/page.html" 'sighting--0d8b3a55-7d8f-4c4e-9b11-dddddddddddd' "alice sees the sighting of the collection she may read"
contains "$tmp/page.html" 'class="score"' "matched indicators have a score"
page "$tmp/a" "/search?q=deep.sub.open.example" >/dev/null
contains "$tmp/page.html" 'domain-name--0d8b3a55-7d8f-4c4e-9b11-777777777777' "a value finds the SCO that carries it"
page "$tmp/a" "/search?q=198.51.100.7" >/dev/null
contains "$tmp/page.html" 'indicator--0d8b3a55-7d8f-4c4e-9b11-888888888888' "an address finds the CIDR block that holds it"
contains "$tmp/page.html" '198.51.100.0/24' "matched as the block"

# ---- the archive -----------------------------------------------------------
page "$tmp/a" / >/dev/null
contains "$tmp/page.html" 'id="archive"' "the dashboard shows the archive's state to an admin"
contains "$tmp/page.html" '<th scope="row">Events</th><td>3</td>' "with its events, as cairn archive stats counts them"
page "$tmp/a" "/search?q=archived-only.example" >/dev/null
contains "$tmp/page.html" 'id="archive-hit"' "the search finds a value in the archive"
contains "$tmp/page.html" 'Seen 2 times' "with its count"
page "$tmp/a" "/search?q=never-archived.example" >/dev/null
contains "$tmp/page.html" 'id="archive-miss"' "and says when the archive never saw a value"
for p in / "/search?q=archived-only.example"; do
    page "$tmp/b" "$p" >/dev/null
    check "the node's archive is for administrators ($p)" \
        sh -c "! grep -qe 'id=\"h-arch\"' -e archive-hit '$tmp/page.html'"
done

# ---- score, decay, who else saw it ------------------------------------------
page "$tmp/a" "/object?id=$id_open" >/dev/null
contains "$tmp/page.html" 'id="score"' "the indicator's score"
contains "$tmp/page.html" 'class="decay"' "its decay curve"
contains "$tmp/page.html" '3 organisations' "alice (admin, both collections) sees the three organisations"
contains "$tmp/page.html" 'identity--0d8b3a55-7d8f-4c4e-9b11-cccccccccccc' "and, an admin, their names"
page "$tmp/b" "/object?id=$id_open" >/dev/null
contains "$tmp/page.html" 'fewer than 3 organisations' "bob's two are under the privacy threshold"
contains "$tmp/page.html" 'id="who-threshold"' "which the page says"
check "and no organisation is named to bob" \
    sh -c "! grep -qe aaaaaaaaaaaa -e bbbbbbbbbbbb '$tmp/page.html'"
contains "$tmp/page.html" 'class="bars"' "bob still sees the sightings over time"

# ---- the heat map: the sightings report's figures, its privacy rule ---------
page "$tmp/b" /sightings >/dev/null
contains "$tmp/page.html" 'class="heat"' "bob sees the heat map"
contains "$tmp/page.html" 'id="heat-weeks"' "over weeks, as he may not see the organisations"
contains "$tmp/page.html" 'fewer than 3' "two organisations read as fewer than the threshold"
check "the heat map names no organisation to bob" \
    sh -c "! grep -qe aaaaaaaaaaaa -e bbbbbbbbbbbb '$tmp/page.html'"
page "$tmp/a" /sightings >/dev/null
contains "$tmp/page.html" 'Indicators by organisation' "alice, an administrator, sees organisations"
for org in aaaaaaaaaaaa bbbbbbbbbbbb cccccccccccc; do
    contains "$tmp/page.html" "$org" "the heat map names organisation $org to alice"
done
contains "$tmp/page.html" '<td>3</td><td>8</td>' "the report's line: 3 organisations, 8 sightings"
contains "$tmp/page.html" '<title>5</title>' "a cell is the report's count for one organisation"

# ---- an indicator's sightings table: the latest 50 -----------------------------
{
    printf '{"type":"bundle","id":"bundle--9d0092c5-5f74-4287-9642-33f4c354e56d","objects":[\n'
    printf '{"type":"indicator","spec_version":"2.1","id":"indicator--0d8b3a55-7d8f-4c4e-9b11-343434343434","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"often-seen","pattern":"[domain-name:value = '"'"'often.example'"'"']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}'
    k=10
    while [ $k -lt 62 ]; do
        printf ',\n{"type":"sighting","spec_version":"2.1","id":"sighting--0d8b3a55-7d8f-4c4e-9b11-0000000000%02d","created":"2024-03-01T00:00:00.000Z","modified":"2024-03-01T00:00:00.000Z","first_seen":"2024-03-01T00:%02d:00Z","last_seen":"2024-03-01T00:%02d:00Z","sighting_of_ref":"indicator--0d8b3a55-7d8f-4c4e-9b11-343434343434","where_sighted_refs":["identity--0d8b3a55-7d8f-4c4e-9b11-aaaaaaaaaaaa"]}' $k $((k - 10)) $((k - 10))
        k=$((k + 1))
    done
    printf ']}\n'
} >"$tmp/often.json"
run import --collection "$coll" --data "$data" "$tmp/often.json"
expect 0 "52 sightings of one indicator are imported"
page "$tmp/a" "/object?id=indicator--0d8b3a55-7d8f-4c4e-9b11-343434343434" >/dev/null
contains "$tmp/page.html" 'The latest 50 of 52 sightings are listed.' "the table lists 50 of them"
tr -d '\n' <"$tmp/page.html" | sed 's|.*<table id="sightings">||; s|</table>.*||' >"$tmp/table.html"
contains "$tmp/table.html" '2024-03-01T00:51:00Z' "the newest is listed"
check "the two oldest are not" sh -c "! grep -qe '2024-03-01T00:00:00Z' -e '2024-03-01T00:01:00Z' '$tmp/table.html'"

# ---- the dashboard's counts follow what is added -----------------------------
# count_of: the object count of collection $coll on the dashboard.
count_of() {
    page "$tmp/a" / >/dev/null
    tr -d '\n' <"$tmp/page.html" |
        sed -n "s|.*$coll</small></td><td>[^<]*</td><td>\([0-9]*\)</td>.*|\1|p"
}
c0=$(count_of)
check "the dashboard counts the collection" [ -n "$c0" ]
cat >"$tmp/more.json" <<'EOF2'
{"type":"bundle","id":"bundle--8d0092c5-5f74-4287-9642-33f4c354e56d","objects":[
{"type":"malware","spec_version":"2.1","id":"malware--0d8b3a55-7d8f-4c4e-9b11-121212121212",
 "created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z",
 "name":"counted","is_family":true},
{"type":"malware","spec_version":"2.1","id":"malware--0d8b3a55-7d8f-4c4e-9b11-121212121212",
 "created":"2024-01-01T00:00:00.000Z","modified":"2024-01-02T00:00:00.000Z",
 "name":"counted","is_family":true}]}
EOF2
run import --collection "$coll" --data "$data" "$tmp/more.json"
expect 0 "two more versions are imported"
check "the dashboard counts them at once ($c0 before)" [ "$(count_of)" = $((c0 + 2)) ]
contains "$tmp/page.html" 'malware--0d8b3a55-7d8f-4c4e-9b11-121212121212' "and lists the newest among the latest arrivals"

# ---- session fixation --------------------------------------------------------
fixed=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
curl -sS -c "$tmp/f" -o "$tmp/login.html" "$ui/login"
printf '127.0.0.1\tFALSE\t/ui/\tFALSE\t0\tcairn_session\t%s\n' "$fixed" >>"$tmp/f"
tok=$(sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' "$tmp/login.html")
curl -sS -c "$tmp/f" -b "$tmp/f" -o /dev/null --data-urlencode user=bob \
    --data-urlencode password=pw-bob --data-urlencode "csrf=$tok" "$ui/login"
check "log-in gives a new session id, not the one sent" \
    [ "$(session_of "$tmp/f")" != "$fixed" ]
printf '127.0.0.1\tFALSE\t/ui/\tFALSE\t0\tcairn_session\t%s\n' "$fixed" >"$tmp/g"
check "the planted id is no session" [ "$(page "$tmp/g" /)" = 303 ]
old=$(session_of "$tmp/b")
login bob pw-bob "$tmp/b2" >/dev/null
printf '127.0.0.1\tFALSE\t/ui/\tFALSE\t0\tcairn_session\t%s\n' "$old" >"$tmp/b3"
check "another log-in leaves the first session alone" [ "$(page "$tmp/b3" /)" = 200 ]

# ---- log-out -------------------------------------------------------------------
cp "$tmp/b" "$tmp/b-old"
page "$tmp/b" / >/dev/null
tok=$(csrf_of "$tmp/page.html")
st=$(curl -sS -b "$tmp/b" -c "$tmp/b" -o /dev/null -D "$tmp/out.h" \
    -w '%{http_code}' --data "csrf=$tok" "$ui/logout")
check "log-out answers 303" [ "$st" = 303 ]
contains "$tmp/out.h" "Max-Age=0" "log-out clears the cookie"
check "the old session id is dead after log-out" [ "$(page "$tmp/b-old" /)" = 303 ]
st=$(curl -sS -b "$tmp/b-old" -o /dev/null -w '%{http_code}' -F "csrf=$tok" \
    -F collection="$coll" -F "file=@$tmp/new.json" "$ui/import")
check "and cannot post forms" [ "$st" = 403 ]

stop_server
check "the server stops cleanly" [ "$rc" -eq 0 ]

# ---- [console] enabled = no ------------------------------------------------------
printf '[console]\nenabled = no\n' >"$tmp/off.ini"
start_server --data "$data" --listen 127.0.0.1:0 --config "$tmp/off.ini" || fail "no server with the console off"
st=$(curl -sS -o "$tmp/r.html" -w '%{http_code}' "$base/ui/login")
check "with the console off, /ui/ is not served" [ "$st" != 200 ]
check "and no page comes back" sh -c "! grep -q '<form' '$tmp/r.html'"
stop_server

check "no sanitizer report from the server" no_crash_report "$errf"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
