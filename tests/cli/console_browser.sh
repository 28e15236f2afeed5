#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The web console in a real headless Chromium, driven through
# chromedriver's WebDriver HTTP API with curl and jq: log in, search
# avsvmcloud.com among the SUNBURST indicators, open one and see its
# sightings, hunt an uploaded log, import a bundle, look at 360 px, log
# out; no error in the browser's console. Screenshots of each page go to
# console-screenshots/ beside the cairn binary. Skipped (77) without
# chromium and chromedriver.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../tools/webdriver.sh"
need curl jq base64 od
for tool in chromium chromedriver; do
    command -v "$tool" >/dev/null || {
        echo "${0##*/}: $tool is not installed (scripts/install-deps.sh); skipped"
        exit 77
    }
done
: "${CAIRN_EXAMPLES:=${CAIRN_SRC:-$(dirname "$0")/../..}/examples}"
shots=$(cd "$(dirname "$CAIRN")" && pwd)/console-screenshots
mkdir -p "$shots"

data=$tmp/d
# At exit: the browser and chromedriver (end_browser), then the server.
at_exit='end_browser; reap $pid'
start_server --data "$data" --listen 127.0.0.1:0 || {
    fail "server did not start"
    exit 1
}
coll=$(banner_collection "$errf")
printf 'pw-alice\n' >"$tmp/pw"
stdin=$tmp/pw run user add alice --admin --data "$data"
run grant alice "$coll" --read --write --data "$data"
run feed import --format fireeye --into "$coll" --data "$data" \
    "$CAIRN_EXAMPLES/sunburst-fireeye/Indicator_Release_NBIs.csv"
expect 0 "the SUNBURST indicators are imported"

# One indicator's id, and a sighting of it reported by a member.
curl -sS -u alice:pw-alice -H "Accept: $TAXII" -o "$tmp/inds.json" \
    "$base/api1/collections/$coll/objects/?match%5Btype%5D=indicator&limit=100"
ind=$(jq -r '[.objects[] | select(.pattern | test("avsvmcloud"))][0].id' "$tmp/inds.json")
dom=$(jq -r '[.objects[] | select(.pattern | test("avsvmcloud"))][0].pattern' \
    "$tmp/inds.json" | sed "s/.*'\(.*\)'.*/\1/")
check "an avsvmcloud indicator" [ -n "$dom" ]
cat >"$tmp/sighting.json" <<EOF
{"type":"bundle","id":"bundle--1d0092c5-5f74-4287-9642-33f4c354e56d","objects":[
{"type":"identity","spec_version":"2.1","id":"identity--2d0092c5-5f74-4287-9642-33f4c354e56d",
 "created":"2020-12-14T00:00:00.000Z","modified":"2020-12-14T00:00:00.000Z",
 "name":"Member A","identity_class":"organization"},
{"type":"sighting","spec_version":"2.1","id":"sighting--3d0092c5-5f74-4287-9642-33f4c354e56d",
 "created":"2020-12-14T00:00:00.000Z","modified":"2020-12-14T00:00:00.000Z",
 "first_seen":"2020-12-13T10:00:00Z","last_seen":"2020-12-14T09:00:00Z","count":7,
 "sighting_of_ref":"$ind",
 "where_sighted_refs":["identity--2d0092c5-5f74-4287-9642-33f4c354e56d"]}]}
EOF
run import --collection "$coll" --data "$data" "$tmp/sighting.json"
expect 0 "a sighting is imported"
printf '#separator \\x09\n#fields\tts\tuid\tid.orig_h\tquery\n1607900000.0\tC1\t10.1.2.3\twww.example.org\n1607900001.0\tC2\t10.1.2.4\t%s\n' \
    "$dom" >"$tmp/dns.log"
cat >"$tmp/upload.json" <<'EOF'
{"type":"bundle","id":"bundle--4d0092c5-5f74-4287-9642-33f4c354e56d","objects":[
{"type":"malware","spec_version":"2.1","id":"malware--5d0092c5-5f74-4287-9642-33f4c354e56d",
 "created":"2020-12-13T00:00:00.000Z","modified":"2020-12-13T00:00:00.000Z",
 "name":"SUNBURST","is_family":true}]}
EOF

# ---- chromedriver ---------------------------------------------------------
start_driver || {
    fail "chromedriver did not start"
    cat "$tmp/driver.log"
    exit 1
}
if ! new_session 1200,900; then
    # Skipped only when the browser itself cannot run here.
    if ! chromium_runs; then
        echo "${0##*/}: chromium cannot start here; skipped:"
        sed 's/^/    /' "$tmp/probe.out" | tail -5
        exit 77
    fi
    fail "no browser session: $(head -c 400 "$tmp/wd.json")"
    sed 's/^/    /' "$tmp/driver.log" | tail -20
    exit 1
fi
# Every element lookup waits up to 20 s for the element to appear; after
# the first that never came, not at all, so that a broken console fails
# the test quickly instead of waiting at every later step.
wd POST "$s/timeouts" '{"implicit": 20000, "pageLoad": 60000}'

text_of() {
    el "$1"
    [ -n "$E" ] || return
    wd GET "$s/element/$E/text"
    jq -r '.value' "$tmp/wd.json"
}
# shot NAME: a screenshot of the page as $shots/NAME.png, checked to be a
# PNG image.
shot() {
    screenshot "$shots/$1.png"
    check "screenshot $1 is a PNG image" is_png "$shots/$1.png"
}
# text_has CSS WORD DESCRIPTION: a check that the element's text has WORD.
text_has() {
    t=$(text_of "$1")
    case $t in
    *"$2"*) ok ;;
    *) fail "$3: no '$2' in '$t'" ;;
    esac
}
# present CSS DESCRIPTION: a check that the element is (or comes) there.
present() {
    el "$1"
    if [ -n "$E" ]; then ok; else
        fail "$2: no $1 on the page"
        wd GET "$s/url"
        echo "    at $(jq -r .value "$tmp/wd.json")"
        js 'return document.body ? document.body.innerText : "";'
        jq -r .value "$tmp/wd.json" | head -15 | sed 's/^/    /'
        wd POST "$s/timeouts" '{"implicit": 0}'
    fi
}

# ---- the walk ---------------------------------------------------------------
go /ui/
present '#login' "the console sends a new visitor to the log-in"
shot login
type_in '#user' alice
type_in '#password' pw-alice
click '#login'
present '#h-colls' "logged in: the dashboard"
text_has 'main table' default "the dashboard lists the collection"
shot dashboard

type_in '#quick-q' "avsvmcloud.com$(printf '\356\200\207')"
present '#results' "searching avsvmcloud.com lists indicators"
text_has '#result-count' 'indicators match' "the results count them"
shot search

el "#results a.hit[href*='$ind']"
[ -n "$E" ] || el '#results a.hit'
wd POST "$s/element/$E/click" '{}'
present '#pattern' "the indicator page shows its pattern"
text_has '#pattern' avsvmcloud "its pattern names avsvmcloud"
present 'svg.bars' "its sightings over time are drawn"
present '#sightings' "its sightings are listed"
present 'svg.graph' "its neighbourhood is drawn"
shot indicator

go /ui/sightings
present 'svg.heat' "the sightings heat map"
shot sightings

go /ui/hunt
type_in '#log' "$tmp/dns.log"
click '#hunt-go'
present '#hits' "the hunt shows its hits"
text_has '#hits' "$dom" "the hit is the SUNBURST domain"
shot hunt

go /ui/import
type_in '#file' "$tmp/upload.json"
click '#import-go'
present '#stored' "the import stores the bundle"
text_has '#stored' '1 new' "one new object"
shot import

go /ui/admin
present '#h-grant' "the admin page"
shot admin

# At 360 px: every page, nothing wider than the screen.
wd POST "$s/window/rect" '{"width": 360, "height": 780}'
for p in "/ui/ dashboard #h-colls" "/ui/search?q=avsvmcloud.com search #results" \
    "/ui/object?id=$ind indicator #pattern" "/ui/sightings sightings svg.heat" \
    "/ui/hunt hunt #hunt-go" "/ui/import import #import-go" "/ui/admin admin #h-grant"; do
    set -- $p
    go "$1"
    present "$3" "the $2 page at 360 px"
    js 'return document.documentElement.scrollWidth <= window.innerWidth + 1;'
    check "no horizontal scrolling at 360 px on the $2 page" \
        [ "$(jq -r .value "$tmp/wd.json")" = true ]
    shot "$2-360"
done
wd POST "$s/window/rect" '{"width": 1200, "height": 900}'

click '#logout'
present '#login' "log-out leads to the log-in"
go /ui/
present '#login' "after log-out the console asks for a log-in again"
shot logout

# The browser's console: no errors (CSP violations, failed loads, scripts).
wd POST "$s/se/log" '{"type": "browser"}'
jq -e '.value | type == "array"' "$tmp/wd.json" >/dev/null 2>&1 ||
    wd POST "$s/log" '{"type": "browser"}'
jq -r '.value[]? | select(.level == "SEVERE" or .level == "WARNING") | .message' \
    "$tmp/wd.json" >"$tmp/browser.log"
check "the browser log was read" jq -e '.value | type == "array"' "$tmp/wd.json"
check "no errors in the browser's console" [ ! -s "$tmp/browser.log" ]
[ -s "$tmp/browser.log" ] && sed 's/^/    /' "$tmp/browser.log"

end_browser
stop_server
check "the server stops cleanly" [ "$rc" -eq 0 ]
check "no sanitizer report from the server" no_crash_report "$errf"
echo "screenshots in $shots"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
