#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# A throwaway PostgreSQL 15 cluster for tests and benchmarks, never the
# system's: initdb in a new temporary directory, listening on a Unix
# socket in that directory only (no TCP port), owned by an unprivileged
# user when run as root (CI runs as root; PostgreSQL refuses root).
#
#   pg.sh start STATE   start one; STATE (a file) gets its directory and
#                       STATE.url the connection URL of database "cairn"
#   pg.sh stop STATE    stop it and remove its directory and STATE files
#   pg.sh restart STATE stop (fast: connections are cut) and start again
#   pg.sh kill STATE    stop it (immediate: as a crash), leave it there
#   pg.sh up STATE      start it again after kill
#
# When the server binaries are missing, scripts/install-deps.sh installs
# them (packaging/debian-packages.txt lists postgresql-15). With
# CAIRN_REQUIRE_PG=1 a cluster that cannot start is an error; otherwise
# start says why and exits 0 without a STATE.url, and tests skip.
set -eu
here=$(cd "$(dirname "$0")/../.." && pwd)
cmd=${1:-}
state=${2:-}
[ -n "$cmd" ] && [ -n "$state" ] || {
    echo "usage: pg.sh start|stop|restart|kill|up STATE" >&2
    exit 2
}

bindir=""
find_bin() {
    for v in 15 16 17; do
        if [ -x "/usr/lib/postgresql/$v/bin/initdb" ]; then
            bindir=/usr/lib/postgresql/$v/bin
            return 0
        fi
    done
    return 1
}

unavailable() {
    echo "pg.sh: $*" >&2
    if [ "${CAIRN_REQUIRE_PG:-0}" = 1 ]; then
        exit 1
    fi
    echo "pg.sh: PostgreSQL tests will be skipped" >&2
    exit 0
}

# Run as the cluster's owner: nobody when we are root, else ourselves.
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u nobody -- "$@"
    else
        "$@"
    fi
}

pg_start() {
    dir=$1
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 \
        -o "-c listen_addresses= -c unix_socket_directories=$dir" \
        start >/dev/null
}

case $cmd in
start)
    if ! find_bin; then
        "$here/scripts/install-deps.sh" >&2 || true
        find_bin || unavailable "no PostgreSQL server binaries, and they could not be installed"
    fi
    rm -f "$state" "$state.url"
    dir=$(mktemp -d /tmp/cairn-pg-XXXXXX)
    chmod 755 "$dir"
    if [ "$(id -u)" -eq 0 ]; then
        chown nobody "$dir"
    fi
    echo "$dir" >"$state"
    # fsync off: the tests kill cairn, not the machine; what a crash of
    # the database server loses is not what they check. Benchmarks set
    # CAIRN_PG_FSYNC=on.
    sync=${CAIRN_PG_FSYNC:-off}
    if ! as_owner "$bindir/initdb" -D "$dir/data" -U cairn -A trust \
        -E UTF8 --locale=C -N >"$dir/initdb.log" 2>&1; then
        cat "$dir/initdb.log" >&2
        unavailable "initdb failed"
    fi
    cat >>"$dir/data/postgresql.conf" <<EOF
fsync = $sync
full_page_writes = $sync
synchronous_commit = on
shared_buffers = 64MB
max_connections = 200
max_wal_size = 1GB
log_min_messages = warning
EOF
    if ! pg_start "$dir"; then
        cat "$dir/log" >&2
        unavailable "the server did not start"
    fi
    as_owner "$bindir/createdb" -h "$dir" -U cairn cairn
    echo "postgresql:///cairn?host=$dir&user=cairn" >"$state.url"
    ;;
stop)
    [ -f "$state" ] || exit 0
    dir=$(cat "$state")
    find_bin || true
    case $dir in /tmp/cairn-pg-*) ;; *) echo "pg.sh: $dir?" >&2; exit 2 ;; esac
    if [ -n "$bindir" ] && [ -f "$dir/data/postmaster.pid" ]; then
        as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop \
            >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    rm -f "$state" "$state.url"
    ;;
restart)
    dir=$(cat "$state")
    find_bin
    as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    pg_start "$dir"
    ;;
kill)
    dir=$(cat "$state")
    find_bin
    as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null
    ;;
up)
    dir=$(cat "$state")
    find_bin
    pg_start "$dir"
    ;;
*)
    echo "usage: pg.sh start|stop|restart|kill|up STATE" >&2
    exit 2
    ;;
esac
