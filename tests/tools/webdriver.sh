# SPDX-License-Identifier: Apache-2.0
# A headless Chromium driven through chromedriver's WebDriver HTTP API with
# curl and jq, sourced by tests/cli/console_browser.sh and
# bench/console_browser.sh. The caller sets $tmp (a scratch directory) and
# $base (the server's URL), and calls end_browser at exit.
# shellcheck shell=sh disable=SC2034 # it sets variables for its callers

driver_pid=""
wd_session=""
W3C=element-6066-11e4-a52e-4f735466cecf

# end_browser: the browser closed through its session, then chromedriver's
# process group (it and any browser left).
end_browser() {
    [ -n "$wd_session" ] &&
        curl -s --max-time 20 -X DELETE "$wd_session" >/dev/null 2>&1
    wd_session=""
    if [ -n "$driver_pid" ]; then
        kill -TERM "-$driver_pid" 2>/dev/null
        n=0
        while [ $n -lt 100 ] && kill -0 "$driver_pid" 2>/dev/null; do
            sleep 0.1
            n=$((n + 1))
        done
        kill -KILL "-$driver_pid" 2>/dev/null
        wait "$driver_pid" 2>/dev/null
    fi
    driver_pid=""
}

# start_driver: chromedriver on a free loopback port; $wd_base its URL.
# Fails (with its log in $tmp/driver.log) when it never became ready.
start_driver() {
    dport=""
    tries=0
    while [ -z "$dport" ] && [ $tries -lt 20 ]; do
        p=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 40000))
        # Its own process group, so that the browsers it starts end with it.
        setsid chromedriver --port="$p" --allowed-ips=127.0.0.1 \
            >"$tmp/driver.log" 2>&1 &
        driver_pid=$!
        n=0
        while [ $n -lt 200 ] && kill -0 "$driver_pid" 2>/dev/null; do
            if curl -s --max-time 2 "http://127.0.0.1:$p/status" 2>/dev/null |
                jq -e '.value.ready' >/dev/null 2>&1; then
                dport=$p
                break
            fi
            sleep 0.05
            n=$((n + 1))
        done
        [ -z "$dport" ] && end_browser
        tries=$((tries + 1))
    done
    wd_base=http://127.0.0.1:$dport
    [ -n "$dport" ]
}

# wd METHOD PATH [JSON]: one WebDriver command; the answer in $tmp/wd.json.
wd() {
    if [ -n "${3:-}" ]; then
        curl -sS --max-time 60 -X "$1" -H 'Content-Type: application/json' \
            -d "$3" -o "$tmp/wd.json" "$wd_base$2"
    else
        curl -sS --max-time 60 -X "$1" -o "$tmp/wd.json" "$wd_base$2"
    fi
}

# new_session WIDTH,HEIGHT: a headless browser session; $s is its path
# for wd. Fails when none came (the answer in $tmp/wd.json).
new_session() {
    caps=$(jq -n --arg dir "$tmp/profile" --arg size "--window-size=$1" \
        '{capabilities: {alwaysMatch: {
  browserName: "chrome", "goog:loggingPrefs": {browser: "ALL"},
  "goog:chromeOptions": {binary: "/usr/bin/chromium", args: ["--headless",
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--disable-dev-shm-usage", $size,
    ("--user-data-dir=" + $dir)]}}}}')
    wd POST /session "$caps"
    sid=$(jq -r '.value.sessionId // empty' "$tmp/wd.json")
    [ -n "$sid" ] || return 1
    s=/session/$sid
    wd_session=$wd_base$s
}

# chromium_runs: whether chromium starts here at all (its output in
# $tmp/probe.out), to tell a machine that cannot run it from a failure.
chromium_runs() {
    timeout 60 chromium --headless --no-sandbox --disable-gpu \
        --user-data-dir="$tmp/probe" --dump-dom about:blank \
        >"$tmp/probe.out" 2>&1
}

# The steps below spawn as few processes as they can (curl, not jq, for
# most): on a loaded machine each spawn costs more than the browser's work.
# jstr TEXT: $J is TEXT as a JSON string.
jstr() {
    case $1 in
    *[\"\\]*) J=$(jq -n --arg t "$1" '$t') ;;
    *) J="\"$1\"" ;;
    esac
}
# go PATH: the browser loads $base PATH (and waits for its load event).
go() {
    jstr "$base$1"
    wd POST "$s/url" "{\"url\": $J}"
}
# el CSS: $E is the element's id (it waits for it), or "" when it never
# came.
el() {
    jstr "$1"
    wd POST "$s/element" "{\"using\": \"css selector\", \"value\": $J}"
    E=""
    IFS= read -r line <"$tmp/wd.json" || :
    case $line in
    *"\"$W3C\":\""*)
        E=${line#*\"$W3C\":\"}
        E=${E%%\"*}
        ;;
    esac
}
type_in() {
    el "$1"
    jstr "$2"
    wd POST "$s/element/$E/value" "{\"text\": $J}"
}
click() {
    el "$1"
    wd POST "$s/element/$E/click" '{}'
}
# js SCRIPT: the value SCRIPT returns in the page, as JSON in $tmp/wd.json.
js() {
    jstr "$1"
    wd POST "$s/execute/sync" "{\"script\": $J, \"args\": []}"
}
# screenshot FILE: the browser's viewport as a PNG.
screenshot() {
    wd GET "$s/screenshot"
    jq -r '.value' "$tmp/wd.json" | base64 -d >"$1" 2>/dev/null
}
# is_png FILE: whether FILE is a non-empty PNG image (its signature).
is_png() {
    [ -s "$1" ] &&
        [ "$(od -An -tx1 -N8 "$1" | tr -d ' \n')" = 89504e470d0a1a0a ]
}
