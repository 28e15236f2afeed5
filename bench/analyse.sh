#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# `cairn analyse sunburst` benchmark. Usage:
#   sh bench/analyse.sh [BUILD-DIR [LINES]]
# (defaults: build, 5000000; a Release-like build.)
#
# Writes a Zeek dns.log of LINES queries with answers, one in a hundred of
# them a SUNBURST query (the victims of tests/data/analyse, repeated), and
# runs over it, on one thread each:
#   - cairn analyse sunburst (names per second of CPU time, peak memory),
#   - the baseline: cairn hunt --threads 1 with avsvmcloud.com as its one
#     indicator, which reads the same events and only matches them;
# and prints the ratio. Then analyse again over a log a quarter the size,
# with the same victims: peak memory follows the victims (a fixed record
# each, with at most 32 names of evidence), not the number of queries.
# Work files are in $TMPDIR (default /tmp).
set -eu
build=${1:-build}
lines=${2:-5000000}
cairn=$build/cairn
[ -x "$cairn" ] || { echo "bench/analyse.sh: no $cairn (build it first)" >&2; exit 2; }
here=$(cd "$(dirname "$0")/.." && pwd)
pool=$here/tests/data/analyse/dns.log
work=$(mktemp -d "${TMPDIR:-/tmp}/cairn-bench-analyse.XXXXXX")
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT INT TERM

# log LINES EVERY: a dns.log; every EVERY-th line a SUNBURST query from
# the pool.
log() {
    grep -v '^#' "$pool" | awk -F '\t' '{ print $10 }' | grep avsvmcloud >"$work/pool"
    awk -v n="$1" -v every="$2" -v pool="$work/pool" 'BEGIN {
        while ((getline q < pool) > 0) p[np++] = q
        print "#separator \\x09"
        print "#set_separator\t,"
        print "#empty_field\t(empty)"
        print "#unset_field\t-"
        print "#path\tdns"
        print "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\ttrans_id\trtt\tquery\tqclass\tqclass_name\tqtype\tqtype_name\trcode\trcode_name\tAA\tTC\tRD\tRA\tZ\tanswers\tTTLs\trejected"
        print "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tcount\tinterval\tstring\tcount\tstring\tcount\tstring\tcount\tstring\tbool\tbool\tbool\tbool\tcount\tvector[string]\tvector[interval]\tbool"
        for (i = 0; i < n; i++) {
            if (i % every == 0) q = p[i / every % np]
            else q = "host" (i % 9973) ".svc" (i % 313) ".example" (i % 17) ".com"
            printf "%d.%06d\tC%09d\t10.%d.%d.%d\t%d\t10.0.0.2\t53\tudp\t%d\t0.012\t%s\t1\tC_INTERNET\t1\tA\t0\tNOERROR\tF\tF\tT\tT\t0\tcdn%d.example.net,93.184.%d.%d\t300.000000,60.000000\tF\n", \
                1590969600 + i / 100, i % 1000000, i, i % 256, (i / 256) % 256, i % 200 + 1, 1024 + i % 60000, i % 65536, q, i % 50, i % 256, (i * 7) % 256
        }
    }' >"$work/dns.log"
}

log "$lines" 100
mb=$(du -m "$work/dns.log" | cut -f1)
echo "dns.log: $lines lines, $mb MB, 1 in 100 a SUNBURST query"
echo avsvmcloud.com >"$work/c2.txt"

/usr/bin/time -f '%U %S %M' -o "$work/t1" \
    "$cairn" analyse sunburst -q "$work/dns.log" >/dev/null || true
/usr/bin/time -f '%U %S %M' -o "$work/t2" \
    "$cairn" hunt --threads 1 -q -i "$work/c2.txt" "$work/dns.log" >/dev/null || true
# (time says "Command exited with non-zero status 1" first: 1 is a finding)
read -r u1 s1 m1 <<EOT
$(tail -1 "$work/t1")
EOT
read -r u2 s2 m2 <<EOT
$(tail -1 "$work/t2")
EOT
awk -v n="$lines" -v u1="$u1" -v s1="$s1" -v m1="$m1" -v u2="$u2" -v s2="$s2" -v m2="$m2" 'BEGIN {
    c1 = u1 + s1; c2 = u2 + s2
    if (c1 <= 0) c1 = 0.01
    if (c2 <= 0) c2 = 0.01
    printf "  cairn analyse sunburst      %6.2f s CPU  %9.0f names/s/core  %7d KiB peak\n", c1, n / c1, m1
    printf "  cairn hunt (baseline)       %6.2f s CPU  %9.0f names/s/core  %7d KiB peak\n", c2, n / c2, m2
    printf "  ratio analyse/hunt (speed)  %.2f\n", c2 / c1
}'

log $((lines / 4)) 100
/usr/bin/time -f '%U %S %M' -o "$work/t3" \
    "$cairn" analyse sunburst -q "$work/dns.log" >/dev/null || true
read -r u3 s3 m3 <<EOT
$(tail -1 "$work/t3")
EOT
echo "  the same victims in $((lines / 4)) lines: $m3 KiB peak (against $m1 KiB)"
