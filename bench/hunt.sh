#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# `cairn hunt` benchmark. Usage:
#   sh bench/hunt.sh [BUILD-DIR [SIZE_MB [SETS]]]
# (defaults: build, 1024, "10000 1000000"; a Release-like build.)
#
# Generates a Zeek dns.log and a squid proxy log of SIZE_MB each
# (bench_genlogs), and lists of mixed indicators (domains, IPv4 and IPv6
# addresses, URLs, email addresses, MD5/SHA-1/SHA-256) of each size in
# SETS; 100 of them are planted in the logs. For every set and log it runs
# `cairn hunt --threads 1` and, over the same data with the same values,
# `grep -F -c -f` and `rg -F -c -j1 -f`, and prints MB/s per core, lines
# per second, load and compile time of the set, peak memory and the ratios.
# The work files (in $TMPDIR, default /tmp) are deleted at the end.
set -eu
build=${1:-build}
size=${2:-1024}
sets=${3:-"10000 1000000"}
cairn=$build/cairn
gen=$build/bench/bench_genlogs
for t in "$cairn" "$gen"; do
    [ -x "$t" ] || { echo "bench/hunt.sh: no $t (build it first)" >&2; exit 2; }
done
command -v rg >/dev/null || { echo "bench/hunt.sh: needs ripgrep (rg)" >&2; exit 2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/cairn-bench-hunt.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

# values N: N indicator values, deterministic, none of them in the ranges
# and names bench_genlogs uses for ordinary lines.
values() {
    awk -v n="$1" 'BEGIN {
        s = 12345
        split("com net org info biz io xyz top ru cn", tld, " ")
        for (i = 1; i <= n; i++) {
            k = i % 20
            if (k < 8) {
                print rl(7 + r(6)) "." rl(5 + r(8)) "." tld[r(10) + 1]
            } else if (k < 13) {
                a = 11 + r(180); if (a == 127 || a == 169 || a == 172) a++
                print a "." r(256) "." r(256) "." r(256)
            } else if (k == 13) {
                printf "2a0%x:%x:%x::%x\n", r(16), r(65536), r(65536), r(65536)
            } else if (k < 16) {
                print "http://" rl(8) "." rl(6) ".com/" rl(10) "/" rl(6) ".php"
            } else if (k == 16) {
                print rl(8) "@" rl(9) "." tld[r(10) + 1]
            } else {
                print hex(k == 17 ? 32 : k == 18 ? 40 : 64)
            }
        }
    }
    # s * 69069 stays below 2^53: exact in awk'"'"'s doubles (a larger
    # multiplier rounds, and the sequence then cycles after a few thousand)
    function r(m) { s = (s * 69069 + 1) % 4294967296; return int(s / 65536) % m }
    function rl(len,   out, j) { out = ""; for (j = 0; j < len; j++) out = out substr("abcdefghijklmnopqrstuvwxyz0123456789", r(j ? 36 : 26) + 1, 1); return out }
    function hex(len,   out, j) { out = ""; for (j = 0; j < len; j++) out = out substr("0123456789abcdef", r(16) + 1, 1); return out }'
}

biggest=0
for n in $sets; do
    [ "$n" -gt "$biggest" ] && biggest=$n
done
echo "generating $biggest indicator values and ${size} MB logs in $work ..."
values "$biggest" >"$work/all.txt"
for n in $sets; do
    head -n "$n" "$work/all.txt" >"$work/set-$n.txt"
done
# Planted: domains and IPv4 addresses among the first values, which every
# set holds; the dns generator plants domains as queries, addresses as
# answers; the proxy generator domains as hosts and addresses as servers.
grep -E '^[a-z0-9.]+$|^[0-9.]+$' "$work/all.txt" | head -n 100 >"$work/plant.txt"
"$gen" dns "$size" --plant "$work/plant.txt" --every 10000 >"$work/dns.log"
"$gen" proxy "$size" --plant "$work/plant.txt" --every 10000 >"$work/proxy.log"

mb() { awk -v b="$(wc -c <"$1")" 'BEGIN { printf "%.1f", b / 1e6 }'; }
# timed OUT CMD...: runs CMD with /usr/bin/time; sets $secs (wall),
# $cpu (user + system) and $rss_mb.
timed() {
    out=$1
    shift
    /usr/bin/time -f '%e %M %U %S' -o "$work/time" "$@" >"$out" \
        2>"$work/stderr" || :
    # The last line: a failing command adds "Command exited with ..." first.
    secs=$(tail -n 1 "$work/time" | awk '{ print $1 }')
    rss_mb=$(tail -n 1 "$work/time" | awk '{ printf "%.0f", $2 / 1024 }')
    cpu=$(tail -n 1 "$work/time" | awk '{ printf "%.2f", $3 + $4 }')
}
rate() { awk -v m="$1" -v s="$2" 'BEGIN { printf "%.0f", (s > 0 ? m / s : 0) }'; }

printf '\n%-8s %-6s %-8s %9s %8s %9s %11s %7s %7s %7s %5s\n' set log tool \
    "MB/s/core" seconds "MB/CPU-s" "lines/s" "load s" "build s" "RSS MB" hits
for n in $sets; do
    for log in dns proxy; do
        f=$work/$log.log
        size_mb=$(mb "$f")
        lines=$(wc -l <"$f")
        cat "$f" >/dev/null # the page cache holds it for every tool
        timed "$work/hits" "$cairn" hunt -i "$work/set-$n.txt" --threads 1 \
            --no-progress "$f"
        summary=$(grep 'indicators hunted' "$work/stderr" || :)
        load=$(echo "$summary" | sed -n 's/.*loaded in \([0-9.]*\) s.*/\1/p')
        comp=$(echo "$summary" | sed -n 's/.*compiled in \([0-9.]*\) s.*/\1/p')
        scan=$(echo "$summary" | sed -n 's/.*scanned in \([0-9.]*\) s.*/\1/p')
        hits=$(wc -l <"$work/hits")
        c_rate=$(rate "$size_mb" "$scan")
        c_all=$(rate "$size_mb" "$secs")
        c_cpu=$(rate "$size_mb" "$cpu")
        printf '%-8s %-6s %-8s %9s %8s %9s %11s %7s %7s %7s %5s\n' "$n" "$log" \
            "cairn" "$c_rate" "$scan" "$c_cpu" "$(rate "$lines" "$scan")" \
            "$load" "$comp" "$rss_mb" "$hits"
        timed "$work/grep.out" env LC_ALL=C grep -F -c -f "$work/set-$n.txt" "$f"
        g_rate=$(rate "$size_mb" "$secs")
        g_cpu=$(rate "$size_mb" "$cpu")
        printf '%-8s %-6s %-8s %9s %8s %9s %11s %7s %7s %7s %5s\n' "$n" "$log" \
            "grep -F" "$g_rate" "$secs" "$g_cpu" "$(rate "$lines" "$secs")" \
            - - "$rss_mb" "$(cat "$work/grep.out")"
        timed "$work/rg.out" rg --no-config -F -c -j1 -f "$work/set-$n.txt" "$f"
        r_rate=$(rate "$size_mb" "$secs")
        r_cpu=$(rate "$size_mb" "$cpu")
        printf '%-8s %-6s %-8s %9s %8s %9s %11s %7s %7s %7s %5s\n' "$n" "$log" \
            "rg -F" "$r_rate" "$secs" "$r_cpu" "$(rate "$lines" "$secs")" \
            - - "$rss_mb" "$(cat "$work/rg.out")"
        awk -v c="$c_rate" -v a="$c_all" -v g="$g_rate" -v r="$r_rate" \
            -v cc="$c_cpu" -v gc="$g_cpu" -v rc="$r_cpu" \
            -v n="$n" -v l="$log" 'BEGIN {
            printf "%-8s %-6s cairn/grep, cairn/rg: scan %.1fx, %.1fx; " \
                "whole run %.1fx, %.1fx; per CPU-s %.1fx, %.1fx\n", n, l,
                (g > 0 ? c / g : 0), (r > 0 ? c / r : 0),
                (g > 0 ? a / g : 0), (r > 0 ? a / r : 0),
                (gc > 0 ? cc / gc : 0), (rc > 0 ? cc / rc : 0) }'
    done
done
echo
echo "MB/s/core: log bytes over the wall time of one thread (cairn: the scan"
echo "alone, from its summary line; grep and rg: the whole run). MB/CPU-s: log"
echo "bytes over the user + system CPU time of the whole run, loading included;"
echo "on a shared machine it is the steadier figure. hits: cairn hits (a line"
echo "may give several), grep/rg matching lines."
