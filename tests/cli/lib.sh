# SPDX-License-Identifier: Apache-2.0
# What the command tests share, sourced by each tests/cli/*.sh: counters and
# checks, a scratch directory, a crash-aware `run` of cairn, and helpers to
# start, stop and query `cairn serve` on loopback.
# shellcheck shell=sh disable=SC2034 # it sets variables for its callers
: "${CAIRN:?CAIRN must name the cairn binary}"

passed=0
failed=0
tmp=$(mktemp -d) || exit 2
# Shell code the EXIT trap runs before $tmp is removed: the scripts that
# start servers set it to kill them (see reap).
at_exit=""
trap 'eval "$at_exit"; rm -rf "$tmp"' EXIT
trap 'exit 2' INT TERM HUP

# ---- checks ------------------------------------------------------------------

# ok: counts one passed check.
ok() { passed=$((passed + 1)); }

# fail MESSAGE...: counts one failed check and says which.
fail() {
    failed=$((failed + 1))
    echo "FAIL: $*"
}

# check DESCRIPTION COMMAND...: one check that passes when COMMAND succeeds;
# COMMAND's output is hidden, and its stderr too unless check_stderr=show.
check_stderr=hide
check() {
    what=$1
    shift
    if [ "$check_stderr" = show ]; then
        "$@" >/dev/null
    else
        "$@" >/dev/null 2>&1
    fi
    if [ $? -eq 0 ]; then ok; else fail "$what"; fi
}

# contains FILE TEXT DESCRIPTION: one check that passes when FILE has TEXT.
contains() {
    if grep -qF -- "$2" "$1"; then ok; else
        fail "$3: no '$2' in $1:"
        sed 's/^/    /' "$1" | head -20
    fi
}

# crash_report FILE...: succeeds when a FILE holds a sanitizer report.
crash_report() { grep -q 'Sanitizer\|runtime error:' "$@"; }

# no_crash_report FILE...: succeeds when no FILE holds a sanitizer report.
no_crash_report() { ! crash_report "$@"; }

# ---- running cairn -----------------------------------------------------------

stdin=/dev/null
out=$tmp/out
err=$tmp/err
# run ARGS...: `cairn ARGS`, standard input from $stdin (reset to /dev/null
# after), at most 120 s; sets $rc, stdout in $out, stderr in $err. A signal,
# a time-out or a sanitizer report is a failed check of its own.
run() {
    timeout 120 "$CAIRN" "$@" <"$stdin" >"$out" 2>"$err"
    rc=$?
    stdin=/dev/null
    if [ "$rc" -ge 124 ] || crash_report "$err"; then
        fail "cairn $* crashed or hung (exit $rc)"
        sed 's/^/    /' "$err" | head -20
    fi
}

# expect CODE DESCRIPTION: one check that passes when the last run exited
# with CODE.
expect() {
    if [ "$rc" -eq "$1" ]; then
        ok
    else
        fail "$2: exit $rc, wanted $1 ($(head -c 300 "$err"))"
    fi
}

# said TEXT: succeeds when the last run's stderr matches TEXT (grep -e).
said() { grep -q -e "$1" "$err"; }

# printed TEXT: succeeds when the last run's stdout matches TEXT (grep -e).
printed() { grep -q -e "$1" "$out"; }

# ---- servers on loopback -----------------------------------------------------

TAXII='application/taxii+json;version=2.1'
# Where start_server appends the server's standard error.
errf=$tmp/serve.err

# need TOOL...: exits 2 (the test cannot run) when a TOOL is not installed.
need() {
    for tool in "$@"; do
        command -v "$tool" >/dev/null || {
            echo "${0##*/} needs $tool"
            exit 2
        }
    done
}

# wait_port FILE PID: waits (30 s at most) for the server PID to write its
# port to FILE; fails if it did not, or exited first.
wait_port() {
    tries=0
    while [ ! -s "$1" ] && [ $tries -lt 600 ] && kill -0 "$2" 2>/dev/null; do
        sleep 0.05
        tries=$((tries + 1))
    done
    [ -s "$1" ]
}

# start_server ARGS...: `cairn serve ARGS` on a port the kernel picks (ARGS
# say where to listen), stderr appended to $errf; sets $pid, $port and
# $base, and fails if the server does not listen.
start_server() {
    rm -f "$tmp/port"
    "$CAIRN" serve --port-file "$tmp/port" "$@" 2>>"$errf" &
    pid=$!
    wait_port "$tmp/port" "$pid"
    port=$(cat "$tmp/port" 2>/dev/null)
    base=http://127.0.0.1:$port
    [ -n "$port" ]
}

# stop_server [SIGNAL]: sends SIGNAL (default TERM) to the server started
# last and waits for it; sets $rc to its exit status.
stop_server() {
    kill -"${1:-TERM}" "$pid"
    wait "$pid"
    rc=$?
    pid=""
}

# start_node NODE [LISTEN [CONFIG]]: `cairn serve` for federation node NODE,
# data in $tmp/NODE, stderr appended to $tmp/NODE.err, at LISTEN (default
# 127.0.0.1:0), with --config CONFIG if given; sets pid_NODE and port_NODE,
# and fails if the node does not listen.
start_node() {
    node=$1
    listen=${2:-127.0.0.1:0}
    rm -f "$tmp/$node.port"
    if [ -n "${3:-}" ]; then
        set -- --config "$3"
    else
        set --
    fi
    "$CAIRN" serve --data "$tmp/$node" --listen "$listen" \
        --port-file "$tmp/$node.port" "$@" 2>>"$tmp/$node.err" &
    eval "pid_$node=$!"
    wait_port "$tmp/$node.port" "$!"
    eval "port_$node=\$(cat \"$tmp/$node.port\" 2>/dev/null)"
    [ -s "$tmp/$node.port" ]
}

# stop_node NODE [SIGNAL]: sends SIGNAL (default TERM) to NODE's server and
# waits for it.
stop_node() {
    eval "node_pid=\$pid_$1"
    kill -"${2:-TERM}" "$node_pid" 2>/dev/null
    wait "$node_pid" 2>/dev/null
    eval "pid_$1=''"
}

# reap PID...: kills each PID outright and collects it; for at_exit, which
# passes the pid variables unquoted so that the empty ones drop out.
reap() {
    for reap_pid in "$@"; do
        kill -9 "$reap_pid" 2>/dev/null
        wait "$reap_pid" 2>/dev/null
    done
}

# banner_collection FILE: prints the default collection's id from the
# banner of a first `cairn serve` start, whose stderr is FILE.
banner_collection() {
    sed -n 's/^ *collection: *\([0-9a-f-]*\) .*/\1/p' "$1" | head -1
}

# series GENERATOR FIRST COUNT: prints `GENERATOR N` for COUNT numbers N
# from FIRST on, separated by commas (the objects of a bundle or envelope).
series() {
    series_n=$2
    while [ "$series_n" -lt $(($2 + $3)) ]; do
        [ "$series_n" -gt "$2" ] && printf ','
        "$1" "$series_n"
        series_n=$((series_n + 1))
    done
}

# taxii_ids URL USER:PASSWORD: prints the ids of every page of the TAXII
# objects or manifest URL (ending in a query such as ?limit=N), one a line,
# following its next cursors (200 pages at most).
taxii_ids() {
    page_url=$1
    page_n=0
    while [ $page_n -lt 200 ]; do
        curl -sS --max-time 30 -u "$2" -H "Accept: $TAXII" \
            -o "$tmp/page.json" "$page_url"
        jq -r '.objects[]?.id' "$tmp/page.json"
        page_n=$((page_n + 1))
        [ "$(jq -r '.more // false' "$tmp/page.json")" = true ] || break
        page_url="$1&next=$(jq -r .next "$tmp/page.json")"
    done
}

# wait_change FILE BEFORE: waits (5 s at most) until FILE's contents are no
# longer BEFORE.
wait_change() {
    tries=0
    while [ "$(cat "$1" 2>/dev/null)" = "$2" ] && [ $tries -lt 500 ]; do
        sleep 0.01
        tries=$((tries + 1))
    done
}

# progress STORE TEXT: the stored progress (docs/federation.md) of the
# flows whose JSON holds TEXT; STORE is a data directory (SQLite) or a
# postgresql:// URL.
progress() {
    case $1 in
    postgres*)
        psql -X -q -At "$1" -c "SELECT value FROM sync_state WHERE
            strpos(value, \$q\$$2\$q\$) > 0 ORDER BY name" 2>/dev/null
        ;;
    *)
        sqlite3 -cmd ".timeout 5000" "$1/cairn.db" "SELECT value FROM
            sync_state WHERE instr(value, '$2') > 0 ORDER BY name" 2>/dev/null
        ;;
    esac
}

# wait_progress STORE TEXT BEFORE: waits (5 s at most) until that progress
# is no longer BEFORE.
wait_progress() {
    tries=0
    while [ "$(progress "$1" "$2")" = "$3" ] && [ $tries -lt 500 ]; do
        sleep 0.01
        tries=$((tries + 1))
    done
}
