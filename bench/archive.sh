#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# `cairn archive` benchmark (issue 10, telemetry archive). Usage:
#   sh bench/archive.sh [BUILD-DIR [SIZE_MB [INDICATORS]]]
# (defaults: build, 256, 100000; a Release build.)
#
# Generates a Zeek dns.log of SIZE_MB (bench_genlogs, a resolver's mix:
# CNAME chains, answers, long names) with 100 known domains planted, and a
# list of INDICATORS values (domains, addresses, URLs, hashes) holding
# those 100. Then, over the same file:
#   ingest:  `cairn archive add` (events per CPU second, i.e. per core),
#            against `zstd -3` of the file and `cairn hunt -j1` over it
#            with one indicator (the cost of reading alone); the archive's
#            size (events and indexes) against the raw log and zstd -3;
#   hunt:    `cairn archive hunt -j1` with the INDICATORS against `cairn
#            hunt -j1` re-reading the raw log with them, RUNS times each,
#            interleaved (median CPU); both must report the same hits;
#            then `cairn archive hunt -j1` of the first indicator alone.
#   catalogue: the CPU `archive add` spent folding each sealed segment's
#            distinct values into the stored catalogue, as a share of the
#            add's CPU; and a hunt of LIKE and MATCHES patterns through
#            the catalogue against the scan of every segment's values it
#            replaced (CAIRN_ARCHIVE_NO_CATALOGUE=1), RUNS times each,
#            interleaved (median CPU), with the hits of `cairn hunt`.
# Prints the figures and the ratios, peak memory, and the bytes per
# archived event and per distinct value (on disk, and of the hunt's and
# the add's peak RSS). The work files (in $TMPDIR, default /tmp) are
# deleted at the end. About 245 MB of log per 1,000,000 events: the
# issue's 10,000,000 events are `sh bench/archive.sh build 2450`, which
# needs about 4.5 GB free in $TMPDIR (checked first).
set -eu
build=${1:-build}
size=${2:-256}
nind=${3:-100000}
runs=${RUNS:-3}
build=$(cd "$build" && pwd)
cairn=$build/cairn
gen=$build/bench/bench_genlogs
for t in "$cairn" "$gen"; do
    [ -x "$t" ] || { echo "bench/archive.sh: no $t (build it first)" >&2; exit 2; }
done
for t in zstd awk; do
    command -v $t >/dev/null || { echo "bench/archive.sh: needs $t" >&2; exit 2; }
done
[ -x /usr/bin/time ] || { echo "bench/archive.sh: needs /usr/bin/time" >&2; exit 2; }
# the log, its zstd -3 copy and the archive: about 1.9 times the log
need_kb=$((size * 1024 * 19 / 10))
free_kb=$(df -Pk "${TMPDIR:-/tmp}" | awk 'NR == 2 { print $4 }')
if [ "$free_kb" -lt "$need_kb" ]; then
    echo "bench/archive.sh: $size MB of log needs about $((need_kb / 1024)) MB free in ${TMPDIR:-/tmp}, there are $((free_kb / 1024))" >&2
    exit 2
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/cairn-bench-archive.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
cd "$work"

# INDICATORS values, deterministic; the first 100 are planted in the log.
awk -v n="$nind" 'BEGIN {
    s = 4242
    for (i = 1; i <= n; i++) {
        k = i % 10
        if (i <= 100 || k < 5) print "c2-" i "." rl(6) ".example-bad.net"
        else if (k < 7) print 11 + r(100) "." r(256) "." r(256) "." r(256)
        else if (k < 8) print "http://" rl(8) ".bad/" rl(6) ".php"
        else print hex(k == 8 ? 32 : 64)
    }
}
function r(m) { s = (s * 69069 + 1) % 4294967296; return int(s / 65536) % m }
function rl(m,  t, j) { t = ""; for (j = 0; j < m; j++) t = t substr("abcdefghijklmnopqrstuvwxyz", r(26) + 1, 1); return t }
function hex(m,  t, j) { t = ""; for (j = 0; j < m; j++) t = t substr("0123456789abcdef", r(16) + 1, 1); return t }' >iocs.txt
head -100 iocs.txt >plant.txt
"$gen" dns "$size" --plant plant.txt --every 997 >dns.log 2>gen.err || {
    cat gen.err >&2
    exit 2
}
lines=$(wc -l <dns.log)
raw=$(wc -c <dns.log)
echo "log: $size MB, $lines lines; $(wc -l <iocs.txt) indicators"

# cpu COMMAND...: runs it; sets $cpu (user+sys seconds), $wall, $rss (KB).
cpu() {
    /usr/bin/time -f "%U %S %e %M" -o time.out "$@" >cmd.out 2>cmd.err || {
        st=$?
        [ $st -eq 1 ] || { echo "failed ($st): $*" >&2; cat cmd.err >&2; exit 2; }
    }
    read -r u s wall rss <<EOF
$(tail -1 time.out)
EOF
    cpu=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

# ---- ingest ---------------------------------------------------------------------
cpu zstd -3 -q -f dns.log -o dns.log.zst
zcpu=$cpu
zsize=$(wc -c <dns.log.zst)
echo "zstd -3:            $zcpu s CPU, $zsize bytes ($(ratio "$zsize" "$raw") of raw)"

printf 'nothing.invalid\n' >one.txt
cpu "$cairn" hunt -j1 -i one.txt dns.log
hcpu=$cpu
echo "cairn hunt (read):  $hcpu s CPU"

cpu "$cairn" archive add --data data --sensor bench dns.log
acpu=$cpu
arss=$rss
events=$(sed -n 's/.* \([0-9]*\) events archived.*/\1/p' cmd.err)
asize=$(du -sb data/archive | cut -f1)
eps=$(awk -v e="$events" -v c="$acpu" 'BEGIN { printf "%.0f", (c > 0 ? e / c : 0) }')
echo "archive add:        $acpu s CPU ($wall s wall), $events events, $eps events per CPU second, peak $rss KB"
echo "archive size:       $asize bytes: $(ratio "$asize" "$raw") of raw (goal <= 0.5), $(ratio "$asize" "$zsize") of zstd -3"
echo "ingest CPU ratio:   $(ratio "$acpu" "$zcpu") x zstd -3, $(ratio "$acpu" "$hcpu") x cairn hunt reading"
catcpu=$(sed -n 's/.*catalogue of distinct values updated in \([0-9.]*\) s.*/\1/p' cmd.err)
echo "catalogue at seal:  ${catcpu:-?} s CPU, $(ratio "${catcpu:-0}" "$acpu") of the add's CPU"
# (stats reads the stored catalogue's footer)
"$cairn" archive stats --data data >stats.out
sed 's/^/    /' stats.out
values=$(awk '/^distinct values/ { print $NF }' stats.out)
catsize=$(cat data/archive/catalogue* | wc -c)
catruns=$(ls data/archive/catalogue* | wc -l)
echo "catalogue files:    $catsize bytes in $catruns runs, $(awk -v a="$catsize" -v b="$values" 'BEGIN { printf "%.1f", (b > 0 ? a / b : 0) }') bytes per distinct value"

# ---- retro-hunt -----------------------------------------------------------------
# median N...: the middle of the numbers
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
rl=""
ql=""
rwl=""
qwl=""
i=0
while [ $i -lt "$runs" ]; do
    cpu "$cairn" hunt -j1 -i iocs.txt dns.log
    rl="$rl $cpu"
    rwl="$rwl $wall"
    rhits=$(wc -l <cmd.out)
    cpu "$cairn" archive hunt -j1 --data data -i iocs.txt
    ql="$ql $cpu"
    qwl="$qwl $wall"
    qhits=$(wc -l <cmd.out)
    qrss=$rss
    i=$((i + 1))
done
# shellcheck disable=SC2086
rcpu=$(median $rl)
# shellcheck disable=SC2086
qcpu=$(median $ql)
# shellcheck disable=SC2086
rwall=$(median $rwl)
# shellcheck disable=SC2086
qwall=$(median $qwl)
echo "cairn hunt (raw):   $rcpu s CPU, $rwall s wall, $rhits hits (median of $runs:$rl)"
echo "archive hunt:       $qcpu s CPU, $qwall s wall, $qhits hits, peak $qrss KB (median of $runs:$ql)"
sed -n 's/^cairn archive: \(.*hunted over.*\)/    \1/p' cmd.err
echo "retro-hunt speed-up: $(ratio "$rcpu" "$qcpu") x (CPU), $(ratio "$rwall" "$qwall") x (wall) (goal >= 20; goal under 1 s for 10,000,000 events)"

# One new indicator (what the loop of `cairn serve` hunts when one arrives):
# a format-4 segment's probe index is checked only in the pages it reads.
head -1 iocs.txt >first.txt
ol=""
i=0
while [ $i -lt "$runs" ]; do
    cpu "$cairn" archive hunt -j1 --data data -i first.txt
    ol="$ol $cpu"
    i=$((i + 1))
done
# shellcheck disable=SC2086
echo "archive hunt, 1 indicator: $(median $ol) s CPU, $(wc -l <cmd.out) hits (median of $runs:$ol)"

# ---- LIKE and MATCHES: through the catalogue, and by the scan it replaced -------------
like() {
    printf '{"type":"indicator","spec_version":"2.1","id":"indicator--6c1f3c3e-0d9c-4c2e-9d55-3f6f1b1e2a0%s","created":"2020-12-14T00:00:00Z","modified":"2020-12-14T00:00:00Z","pattern":"%s","pattern_type":"stix","valid_from":"2020-12-14T00:00:00Z"}' "$1" "$2"
}
{
    printf '{"type":"bundle","id":"bundle--6c1f3c3e-0d9c-4c2e-9d55-3f6f1b1e2a01","objects":['
    like 1 "[domain-name:value LIKE '%%.example-bad.net']"
    printf ','
    like 2 "[domain-name:value MATCHES '^c2-1[0-9]*[.]']"
    printf ']}\n'
} >like.json
cpu "$cairn" hunt -j1 -i like.json dns.log
lraw=$cpu
lrhits=$(wc -l <cmd.out)
cl=""
sl=""
i=0
while [ $i -lt "$runs" ]; do
    cpu "$cairn" archive hunt -j1 --data data -i like.json
    cl="$cl $cpu"
    lchits=$(wc -l <cmd.out)
    cpu env CAIRN_ARCHIVE_NO_CATALOGUE=1 "$cairn" archive hunt -j1 --data data -i like.json
    sl="$sl $cpu"
    lshits=$(wc -l <cmd.out)
    i=$((i + 1))
done
# shellcheck disable=SC2086
lcat=$(median $cl)
# shellcheck disable=SC2086
lscan=$(median $sl)
echo "LIKE/MATCHES, cairn hunt (raw):    $lraw s CPU, $lrhits hits"
echo "LIKE/MATCHES, scan of the values:  $lscan s CPU, $lshits hits (median of $runs:$sl)"
echo "LIKE/MATCHES, through catalogue:   $lcat s CPU, $lchits hits (median of $runs:$cl)"
echo "LIKE/MATCHES speed-up:             $(ratio "$lscan" "$lcat") x the scan, $(ratio "$lraw" "$lcat") x cairn hunt (CPU)"
if [ "$lrhits" -ne "$lchits" ] || [ "$lrhits" -ne "$lshits" ]; then
    echo "bench/archive.sh: the LIKE/MATCHES hits differ: $lrhits raw, $lshits scan, $lchits catalogue" >&2
    exit 1
fi

# ---- sizing ---------------------------------------------------------------------
per() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b > 0 ? a / b : 0) }'; }
echo "per archived event: $(per "$asize" "$events") bytes on disk; add peak RSS $(per "$((arss * 1024))" "$events") bytes"
[ "$values" -eq 0 ] ||
    echo "per distinct value: $(per "$asize" "$values") bytes on disk ($values values); hunt peak RSS $(per "$((qrss * 1024))" "$values") bytes"
if [ "$rhits" -ne "$qhits" ]; then
    echo "bench/archive.sh: the hits differ: $rhits raw, $qhits archived" >&2
    exit 1
fi
