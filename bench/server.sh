#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The TAXII server with N indicators (default 1,000,000) in one collection:
# objects/s through `cairn import` and through POST (envelopes of 5,000,
# several clients at once, until every status is complete: a C client with
# keep-alive connections posts and waits for the statuses, so no process
# starts per request and the figure is the server's); the time to
# page every object out with GET objects?limit=1000 and next; p50 and p99
# latency of GET under 64 connections (wrk). Baselines in the same run: the
# same objects read straight from the database by the sqlite3 program, in
# one query -- the floor for paging them out; and, with BASELINE set,
# another cairn binary (say, the previous version) importing and posting
# the same data first, with the ratios printed.
#
#   bench/server.sh [BUILD_DIR [N [CLIENTS]]]   (BUILD_DIR defaults to build)
#   CAIRN=/path/to/cairn bench/server.sh ...    (another binary)
#   BASELINE=/path/to/old/cairn bench/server.sh ...
#   STORE=postgresql://... bench/server.sh ...  (that store, emptied of
#                             nothing: give an empty database; no sqlite3
#                             baseline then)
#   NODES=2 STORE=postgresql://... bench/server.sh ...
#                             two servers over that one database: the POST
#                             clients and wrk's connections split between
#                             them, paging from the second
# The last line, "RESULT import_s post_s page_s pages objects p50_ms p99_ms
# req_s", is for bench/postgres.sh.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
n=${2:-1000000}
clients=${3:-4}
store=${STORE:-}
nodes=${NODES:-1}
case $nodes in 1 | 2) ;; *) echo "NODES is 1 or 2" >&2; exit 2 ;; esac
if [ "$nodes" = 2 ] && [ -z "$store" ]; then
    echo "NODES=2 needs STORE (a PostgreSQL URL)" >&2
    exit 2
fi
case $build in /*) ;; *) build=$here/$build ;; esac
cairn=${CAIRN:-$build/cairn}
baseline=${BASELINE:-}
pager=$build/bench/bench_pager
poster=$build/bench/bench_post
per=5000
goal_import=200000
goal_post=50000
goal_page_s=10

for tool in "$cairn" "$pager" "$poster" $baseline; do
    [ -x "$tool" ] || {
        echo "missing $tool: build first (cmake --build $build)" >&2
        exit 2
    }
done
for tool in wrk sqlite3 awk; do
    command -v $tool >/dev/null || {
        echo "$tool is needed (apt-get install $tool)" >&2
        exit 2
    }
done

tmp=$(mktemp -d)
pid=""
pid2=""
cleanup() {
    for p in $pid $pid2; do
        kill "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 2' INT TERM

TAXII='application/taxii+json;version=2.1'
data=${store:-$tmp/data}
# A server over PostgreSQL keeps its local state (the loop's, the
# archive) in its own data directory.
export CAIRN_DATA_DIR="$tmp/local"
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { if (s <= 0) s = 0.001; printf "%.0f", n / s }'; }
verdict() { awk -v v="$1" -v g="$2" -v up="$3" 'BEGIN {
    ok = up ? v >= g : v < g; printf "%s", ok ? "goal met" : "GOAL MISSED" }'; }

# N indicators: OFFSET N -> one per line (ids from OFFSET on)
gen() {
    awk -v off="$1" -v n="$2" 'BEGIN {
        for (i = off; i < off + n; i++)
            printf "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--%08x-0000-4000-8000-%012x\",\"created\":\"2024-01-01T00:00:00.000Z\",\"modified\":\"2024-01-01T00:00:00.000Z\",\"name\":\"bench %d\",\"pattern\":\"[ipv4-addr:value = '"'"'10.%d.%d.%d'"'"']\",\"pattern_type\":\"stix\",\"valid_from\":\"2024-01-01T00:00:00Z\"}\n",
                i, i, i, int(i / 65536) % 256, int(i / 256) % 256, i % 256
    }'
}

echo "cairn server benchmark: $n indicators, $(nproc) cores, $clients POST clients"
gen 0 "$n" | awk 'BEGIN { printf "{\"type\":\"bundle\",\"id\":\"bundle--00000000-0000-4000-8000-000000000001\",\"objects\":[" }
    { if (NR > 1) printf ","; printf "%s", $0 }
    END { print "]}" }' >"$tmp/bundle.json"
# The POST envelopes use other ids, so both collections hold N objects.
mkdir "$tmp/env"
gen "$n" "$n" | awk -v per=$per -v dir="$tmp/env" '
    { f = sprintf("%s/%06d.json", dir, int((NR - 1) / per))
      if (f != cur) { if (cur != "") { print "]}" > cur; close(cur) }
                      cur = f; printf "{\"objects\":[" > cur; first = 1 }
      if (!first) printf "," > cur
      printf "%s", $0 > cur; first = 0 }
    END { if (cur != "") { print "]}" > cur; close(cur) } }'
echo "data: bundle $(du -m "$tmp/bundle.json" | cut -f1) MB, $(ls "$tmp/env" | wc -l) envelopes of $per"

# start BIN DATA: a server of BIN on DATA with a user "bench" who may read
# and write its default collection (col) and a second one (pcol).
start() {
    rm -f "$tmp/port"
    "$1" serve --data "$2" --listen 127.0.0.1:0 --port-file "$tmp/port" \
        --log "$tmp/access.log" 2>"$tmp/serve.err" &
    pid=$!
    i=0
    while [ ! -s "$tmp/port" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
    port=$(cat "$tmp/port")
    base=http://127.0.0.1:$port
    col=$(sed -n 's/^ *collection: *\([0-9a-f-]*\) .*/\1/p' "$tmp/serve.err" | head -1)
    pcol=$("$1" collection add --title post-bench --data "$2" 2>/dev/null)
    printf 'bench\n' | "$1" user add bench --data "$2" >/dev/null 2>&1
    "$1" grant bench "$col" --read --write --data "$2" >/dev/null 2>&1
    "$1" grant bench "$pcol" --read --write --data "$2" >/dev/null 2>&1
    auth=$(printf 'bench:bench' | base64)
}

# start2 BIN DATA: a second server over the same store (NODES=2).
start2() {
    rm -f "$tmp/port2"
    CAIRN_DATA_DIR="$tmp/local2" "$1" serve --data "$2" \
        --listen 127.0.0.1:0 --port-file "$tmp/port2" \
        --log "$tmp/access2.log" 2>"$tmp/serve2.err" &
    pid2=$!
    i=0
    while [ ! -s "$tmp/port2" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
    port2=$(cat "$tmp/port2")
    base2=http://127.0.0.1:$port2
}

stop() {
    for p in $pid $pid2; do
        kill -TERM "$p"
        wait "$p" || true
    done
    pid=""
    pid2=""
}

# writes BIN DATA: import the bundle into col, then POST the envelopes into
# pcol; sets s_import and s_post (seconds).
writes() {
    cat "$tmp/bundle.json" >/dev/null
    t0=$(now)
    "$1" import --collection "$col" --data "$2" "$tmp/bundle.json" \
        >/dev/null 2>"$tmp/import.err" || {
        echo "$1 import failed:" >&2
        head "$tmp/import.err" >&2
        exit 1
    }
    s_import=$(since "$t0")

    # bench_post posts from $clients threads, each with one keep-alive
    # connection, then polls every status until it is complete
    # (acknowledged means complete); a curl and a jq per request would
    # time process start-up.
    if [ "$nodes" = 2 ]; then
        # half the clients and half the envelopes on each node, at once
        set -- "$1" "$2" "$tmp/env"/*.json
        bin=$1
        shift 2
        half=$((($# + 1) / 2))
        i=0
        : >"$tmp/env1" && : >"$tmp/env2"
        for f in "$@"; do
            i=$((i + 1))
            if [ $i -le $half ]; then echo "$f" >>"$tmp/env1"; else echo "$f" >>"$tmp/env2"; fi
        done
        c1=$(((clients + 1) / 2))
        c2=$((clients / 2 > 0 ? clients / 2 : 1))
        t0=$(now)
        # shellcheck disable=SC2046
        "$poster" "$base/api1/collections/$pcol/objects/" "$auth" "$c1" \
            $(cat "$tmp/env1") >"$tmp/post1" &
        p1=$!
        # shellcheck disable=SC2046
        "$poster" "$base2/api1/collections/$pcol/objects/" "$auth" "$c2" \
            $(cat "$tmp/env2") >"$tmp/post2" || {
            echo "bench_post failed against the second node" >&2
            exit 1
        }
        wait $p1 || {
            echo "bench_post failed against the first node" >&2
            exit 1
        }
        s_post=$(since "$t0")
        read -r _ _ posted ok failed <"$tmp/post1"
        read -r _ _ posted2 ok2 failed2 <"$tmp/post2"
        posted=$((posted + posted2))
        ok=$((ok + ok2))
        failed=$((failed + failed2))
        set -- "$bin"
    else
        "$poster" "$base/api1/collections/$pcol/objects/" "$auth" "$clients" \
            "$tmp/env"/*.json >"$tmp/post" || {
            echo "bench_post failed against $1" >&2
            exit 1
        }
        read -r s_acked s_post posted ok failed <"$tmp/post"
    fi
    if [ "$failed" -ne 0 ] || [ "$ok" -ne "$n" ] || [ "$posted" -ne "$n" ]; then
        echo "POST to $1: $posted objects posted, $ok succeeded," \
            "$failed failed (want $n)" >&2
        exit 1
    fi
}

if [ -n "$baseline" ]; then
    start "$baseline" "$tmp/base-data"
    writes "$baseline" "$tmp/base-data"
    b_import=$s_import
    b_post=$s_post
    stop
    rm -rf "$tmp/base-data"
fi

start "$cairn" "$data"
if [ "$nodes" = 2 ]; then
    start2 "$cairn" "$data"
fi
writes "$cairn" "$data"
r_import=$(rate "$n" "$s_import")
r_post=$(rate "$n" "$s_post")

# ---- paging everything out, limit=1000 --------------------------------------
# bench_pager keeps one connection and follows "next"; a curl per page
# would time process start-up rather than the server.
# With two nodes, from the second: it sees what went in through the first.
"$pager" "${port2:-$port}" "/api1/collections/$col/objects/" "$auth" 1000 \
    >"$tmp/pager"
read -r pages got s_page <"$tmp/pager"

# Baseline: the same rows straight out of SQLite, one query.
s_sqlite=-
if [ -z "$store" ]; then
    t0=$(now)
    sqlite3 "$data/cairn.db" "SELECT json FROM objects WHERE coll =
        (SELECT pk FROM collections WHERE id = '$col') ORDER BY date_added" \
        >/dev/null
    s_sqlite=$(since "$t0")
fi

# ---- latency under 64 connections -------------------------------------------
if [ "$nodes" = 2 ]; then
    # 32 connections on each node at once; the worse p50 and p99
    wrk -t1 -c32 -d10s --latency -H "Authorization: Basic $auth" \
        -H "Accept: $TAXII" \
        "$base/api1/collections/$col/objects/?limit=100" >"$tmp/wrk" 2>&1 &
    w1=$!
    wrk -t1 -c32 -d10s --latency -H "Authorization: Basic $auth" \
        -H "Accept: $TAXII" \
        "$base2/api1/collections/$col/objects/?limit=100" >"$tmp/wrk2" 2>&1
    wait $w1
else
    wrk -t2 -c64 -d10s --latency -H "Authorization: Basic $auth" \
        -H "Accept: $TAXII" \
        "$base/api1/collections/$col/objects/?limit=100" >"$tmp/wrk" 2>&1
fi
# wrk's latencies (us, ms, s) in ms; with two nodes the worse one
ms() { awk -v q="$1" '$1 == q {
    v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
    if (u == "us") v /= 1000; else if (u == "s") v *= 1000
    if (v > m) m = v } END { printf "%.2f", m }' "$tmp"/wrk*; }
p50=$(ms 50%)ms
p99=$(ms 99%)ms
rps=$(awk '/Requests\/sec/ { s += $2 } END { printf "%.0f", s }' "$tmp"/wrk*)

stop

echo
printf '%-34s %10s  %s\n' "import ($n objects)" "$r_import/s" \
    "${s_import}s, $(verdict "$r_import" $goal_import 1) (>= $goal_import/s)"
printf '%-34s %10s  %s\n' "POST ($per per envelope, $clients clients)" \
    "$r_post/s" "${s_post}s to complete, $(verdict "$r_post" $goal_post 1) (>= $goal_post/s)"
printf '%-34s %10s  %s\n' "GET objects limit=1000, all" \
    "$(rate "$pages" "$s_page") pages/s" \
    "$got objects in ${s_page}s, $(verdict "$s_page" $goal_page_s 0) (< ${goal_page_s}s)"
printf '%-34s %10s  %s\n' "  baseline: sqlite3 one query" "" \
    "${s_sqlite}s for the same rows"
printf '%-34s %10s  %s\n' "GET limit=100, 64 connections" "$rps req/s" \
    "p50 $p50, p99 $p99 (wrk, 64 connections, 10 s)"
if [ -n "$baseline" ]; then
    ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
    echo "baseline: $baseline, same data, run first"
    printf '%-34s %10s  %s\n' "  baseline import" "$(rate "$n" "$b_import")/s" \
        "${b_import}s; this build: $(ratio "$b_import" "$s_import")x as fast"
    printf '%-34s %10s  %s\n' "  baseline POST" "$(rate "$n" "$b_post")/s" \
        "${b_post}s; this build: $(ratio "$b_post" "$s_post")x as fast"
fi
echo "RESULT $s_import $s_post $s_page $pages $got ${p50%ms} ${p99%ms} $rps"
