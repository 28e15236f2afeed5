#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# `cairn import` with the correlation index kept current (docs/analysis.md),
# with baselines in the same run, ROUNDS rounds interleaved, medians:
#
# - cairn: `cairn import` of N generated objects into a new SQLite store:
#   wall seconds and objects/s, CPU seconds (user + sys of both threads:
#   the reader/validator and the writer) and objects per CPU second. The
#   objects (MIX):
#   - mixed (the default): bench_genbundle's identity, indicators,
#     malware, relationships, sightings and SCOs;
#   - indicators: N indicators of one IPv4 address each, bench/server.sh's
#     bundle, the one `cairn import` was measured on before the index
#     (docs/store.md, "about 250,000 objects/s" in issue 11).
# - sqlite3: the sqlite3 shell writing the same rows (versions, objects,
#   their index entries, sighting summaries and names, taken from cairn's
#   store) into a new file with cairn's schema and pragmas, in
#   transactions of 50,000 objects as cairn commits them, each
#   transaction's versions and index entries in key order: what SQLite
#   itself costs for these writes, without parsing, validation or key
#   extraction.
# - with BASELINE=/path/to/cairn, that binary's import of the same bundle
#   (e.g. one built from the commit before the index, 95193bf^, or main's).
#
# Then the index's size: keys, keys per object, bytes per key and per
# object (SQLite's dbstat), and whether the goal (>= 150,000 objects/s)
# is met by the wall time of this run.
#
#   [BASELINE=OLD_CAIRN] [MIX=mixed|indicators] bench/import.sh [BUILD_DIR [N [ROUNDS]]]
#   (defaults: build, 1000000 objects, 3 rounds; about 1 GB under $TMPDIR
#   per million objects)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
n=${2:-1000000}
rounds=${3:-3}
case $build in /*) ;; *) build=$here/$build ;; esac
cairn=$build/cairn
gen=$build/bench/bench_genbundle
baseline=${BASELINE:-}
mix=${MIX:-mixed}
case $mix in mixed|indicators) ;; *) echo "MIX is mixed or indicators" >&2; exit 2 ;; esac
goal=150000
batch=50000
for p in "$cairn" "$gen"; do
    [ -x "$p" ] || { echo "missing $p: build first" >&2; exit 2; }
done
command -v sqlite3 >/dev/null || { echo "sqlite3 is needed (apt-get install sqlite3)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time is needed (apt-get install time)" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
coll=11111111-1111-4111-8111-111111111111
echo "import: $n objects ($mix), $rounds rounds ($(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg))"
if [ "$mix" = mixed ]; then
    "$gen" "$n" >"$tmp/bundle.json"
else
    # bench/server.sh's indicators, one bundle
    awk -v n="$n" 'BEGIN {
        printf "{\"type\":\"bundle\",\"id\":\"bundle--00000000-0000-4000-8000-000000000001\",\"objects\":["
        for (i = 0; i < n; i++)
            printf "%s{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--%08x-0000-4000-8000-%012x\",\"created\":\"2024-01-01T00:00:00.000Z\",\"modified\":\"2024-01-01T00:00:00.000Z\",\"name\":\"bench %d\",\"pattern\":\"[ipv4-addr:value = '"'"'10.%d.%d.%d'"'"']\",\"pattern_type\":\"stix\",\"valid_from\":\"2024-01-01T00:00:00Z\"}",
                i ? "," : "", i, i, i, int(i / 65536) % 256, int(i / 256) % 256, i % 256
        print "]}" }' >"$tmp/bundle.json"
fi

# import_with NAME BINARY: imports the bundle into $tmp/NAME, appends
# "wall cpu" to $tmp/NAME.times
import_with() {
    rm -rf "$tmp/$1"
    "$2" collection add --data "$tmp/$1" --title bench --id $coll >/dev/null 2>&1
    cat "$tmp/bundle.json" >/dev/null
    t0=$(date +%s.%N)
    /usr/bin/time -f '%U %S' -o "$tmp/cpu" \
        "$2" import --data "$tmp/$1" --collection $coll "$tmp/bundle.json" 2>"$tmp/err" ||
        { cat "$tmp/err" >&2; exit 1; }
    t1=$(date +%s.%N)
    grep -q " $n stored," "$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
    echo "$t0 $t1 $(cat "$tmp/cpu")" | awk '{ printf "%.3f %.3f\n", $2 - $1, $3 + $4 }' >>"$tmp/$1.times"
}

# The rows of cairn's store, laid out for the sqlite3 baseline to read in
# the order cairn writes them (built once, not timed).
make_rows() {
    db=$tmp/cairn/cairn.db
    sqlite3 "$db" 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null
    sqlite3 "$db" .schema | grep -v '^CREATE TABLE sqlite_' >"$tmp/schema.sql"
    nb=$(( (n + batch - 1) / batch ))
    sqlite3 "$tmp/rows.db" <<SQL
PRAGMA page_size=32768;
ATTACH '$db' AS c;
CREATE TABLE objects AS SELECT * FROM c.objects ORDER BY rid;
CREATE TABLE vers(b INTEGER, coll INTEGER, idh INTEGER, vsec INTEGER,
                  vns INTEGER, salt INTEGER, rid INTEGER,
                  PRIMARY KEY(b, coll, idh, vsec, vns, salt)) WITHOUT ROWID;
INSERT INTO vers SELECT (rid - 1) / $batch, coll, idh, vsec, vns, salt, rid
    FROM c.versions;
CREATE TABLE keys(b INTEGER, k INTEGER, rid INTEGER,
                  PRIMARY KEY(b, k, rid)) WITHOUT ROWID;
INSERT INTO keys SELECT (rid - 1) / $batch, k, rid FROM c.obj_keys;
CREATE TABLE sightings AS SELECT * FROM c.sightings ORDER BY rid;
CREATE TABLE names AS SELECT * FROM c.names ORDER BY n;
CREATE INDEX objects_rid ON objects(rid);
CREATE INDEX sightings_rid ON sightings(rid);
SQL
    nn=$(sqlite3 "$tmp/rows.db" 'SELECT count(*) FROM names')
    {
        echo "PRAGMA page_size=32768; PRAGMA journal_mode=WAL;"
        echo "PRAGMA synchronous=FULL; PRAGMA cache_size=-65536;"
        echo "PRAGMA temp_store=MEMORY; PRAGMA wal_autocheckpoint=8192;"
        cat "$tmp/schema.sql"
        echo "ATTACH '$tmp/rows.db' AS r;"
        b=0
        while [ $b -lt $nb ]; do
            lo=$(( b * batch + 1 )); hi=$(( (b + 1) * batch ))
            nlo=$(( b * nn / nb + 1 )); nhi=$(( (b + 1) * nn / nb ))
            echo "BEGIN;"
            echo "INSERT INTO versions SELECT coll, idh, vsec, vns, salt, rid FROM r.vers WHERE b = $b ORDER BY coll, idh, vsec, vns, salt;"
            echo "INSERT INTO objects SELECT * FROM r.objects WHERE rid BETWEEN $lo AND $hi ORDER BY rid;"
            echo "INSERT INTO names SELECT * FROM r.names WHERE n BETWEEN $nlo AND $nhi ORDER BY n;"
            echo "INSERT INTO sightings SELECT * FROM r.sightings WHERE rid BETWEEN $lo AND $hi ORDER BY rid;"
            echo "INSERT INTO obj_keys SELECT k, rid FROM r.keys WHERE b = $b ORDER BY k, rid;"
            echo "COMMIT;"
            b=$(( b + 1 ))
        done
    } >"$tmp/load.sql"
}

sqlite_load() {
    rm -f "$tmp/base.db" "$tmp/base.db-wal" "$tmp/base.db-shm"
    t0=$(date +%s.%N)
    /usr/bin/time -f '%U %S' -o "$tmp/cpu" sqlite3 "$tmp/base.db" <"$tmp/load.sql" >/dev/null
    t1=$(date +%s.%N)
    got=$(sqlite3 "$tmp/base.db" 'SELECT count(*) FROM objects')
    [ "$got" = "$n" ] || { echo "sqlite3 loaded $got objects, not $n" >&2; exit 1; }
    echo "$t0 $t1 $(cat "$tmp/cpu")" | awk '{ printf "%.3f %.3f\n", $2 - $1, $3 + $4 }' >>"$tmp/sqlite.times"
}

r=0
while [ $r -lt "$rounds" ]; do
    import_with cairn "$cairn"
    [ $r -eq 0 ] && make_rows
    sqlite_load
    [ -n "$baseline" ] && import_with old "$baseline"
    r=$(( r + 1 ))
done

# median COLUMN FILE
median() {
    sort -n -k"$1" "$2" | awk -v c="$1" '{ v[NR] = $c } END { print v[int((NR + 1) / 2)] }'
}
cw=$(median 1 "$tmp/cairn.times"); cc=$(median 2 "$tmp/cairn.times")
sw=$(median 1 "$tmp/sqlite.times"); sc=$(median 2 "$tmp/sqlite.times")
awk -v n="$n" -v w="$cw" -v c="$cc" -v sw="$sw" -v sc="$sc" 'BEGIN {
    printf "cairn import, index kept current: %.2f s, %.0f objects/s; %.2f s CPU, %.0f objects per CPU second\n", w, n / w, c, n / c
    printf "sqlite3 writing the same rows: %.2f s, %.0f objects/s; %.2f s CPU, %.0f objects per CPU second\n", sw, n / sw, sc, n / sc
    printf "ratio cairn/sqlite3: %.2fx the objects/s, %.2fx the objects per CPU second\n", sw / w, sc / c }'
if [ -n "$baseline" ]; then
    ow=$(median 1 "$tmp/old.times"); oc=$(median 2 "$tmp/old.times")
    awk -v n="$n" -v w="$cw" -v c="$cc" -v ow="$ow" -v oc="$oc" 'BEGIN {
        printf "BASELINE import: %.2f s, %.0f objects/s; %.2f s CPU, %.0f objects per CPU second\n", ow, n / ow, oc, n / oc
        printf "ratio cairn/BASELINE: %.2fx the objects/s, %.2fx the objects per CPU second\n", ow / w, oc / c }'
fi
db=$tmp/cairn/cairn.db
keys=$(sqlite3 "$db" 'SELECT count(*) FROM obj_keys')
bytes=$(sqlite3 "$db" "SELECT sum(pgsize) FROM dbstat WHERE name = 'obj_keys'" 2>/dev/null || echo 0)
vbytes=$(sqlite3 "$db" "SELECT sum(pgsize) FROM dbstat WHERE name = 'versions'" 2>/dev/null || echo 0)
awk -v k="$keys" -v b="${bytes:-0}" -v v="${vbytes:-0}" -v n="$n" -v w="$cw" -v g="$goal" 'BEGIN {
    printf "index: %d keys for %d objects (%.2f per object), %.1f MB: %.1f bytes per key, %.1f per object\n",
        k, n, k / n, b / 1e6, (k ? b / k : 0), b / n
    printf "versions: %.1f MB, %.1f bytes per object\n", v / 1e6, v / n
    printf "goal >= %d objects/s (wall, this run): %s\n", g, (n / w >= g ? "met" : "NOT met") }'
