#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# `cairn hunt` benchmark. Usage:
#   sh bench/hunt.sh [BUILD-DIR [SIZE_MB [SETS]]]
# (defaults: build, 1024, "10000 1000000 net100000"; a Release-like build.)
#
# Generates a Zeek dns.log as rich as a resolver's (CNAME chains, several
# A/AAAA answers, TTL vectors, long names, PTR/SRV/TXT, NXDOMAIN) and a
# squid proxy log of SIZE_MB each (bench_genlogs). A number N in SETS is a
# list of N mixed indicators (domains, IPv4 and IPv6 addresses, URLs,
# email addresses, MD5/SHA-1/SHA-256); netN is N network indicators
# (domains, IPv4/IPv6 addresses and CIDRs of 19 prefix lengths), the
# usual content of a blocklist. 100 values of each kind of set are planted
# in the logs (an address inside a CIDR for a CIDR). For every set and log
# it runs `cairn hunt --threads 1` and `--threads 2` and, over the same
# data with the same values, `grep -F -c -f` and `rg -F -c -j1 -f`, and
# prints MB/s per core, MB per CPU second, lines per second, load and
# compile time of the set, peak memory and the ratios. grep and rg see a
# CIDR as text: they are a speed baseline, not the same search.
# With BASELINE set to another cairn binary (say, the previous build),
# that binary hunts the same logs with one thread too: its --jsonl hits
# must be byte-identical to this build's (the script fails otherwise), and
# the speed ratios to it are printed.
# The work files (in $TMPDIR, default /tmp) are deleted at the end.
#
#   sh bench/hunt.sh [BUILD-DIR [SIZE_MB [SETS]]]
#   BASELINE=/path/to/old/cairn sh bench/hunt.sh ...
set -eu
build=${1:-build}
size=${2:-1024}
sets=${3:-"10000 1000000 net100000"}
cairn=$build/cairn
gen=$build/bench/bench_genlogs
baseline=${BASELINE:-}
for t in "$cairn" "$gen" $baseline; do
    [ -x "$t" ] || { echo "bench/hunt.sh: no $t (build it first)" >&2; exit 2; }
done
command -v rg >/dev/null || { echo "bench/hunt.sh: needs ripgrep (rg)" >&2; exit 2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/cairn-bench-hunt.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
differ=0

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

# net N: N network indicators: domains, IPv4 and IPv6 addresses and CIDRs
# (IPv4 prefixes /12 to /30, IPv6 /32 to /64), none of them in the ranges
# bench_genlogs uses for ordinary lines (IPv4 192-223; IPv6 second groups
# below 8000).
net() {
    awk -v n="$1" 'BEGIN {
        s = 54321
        split("com net org info biz io xyz top ru cn", tld, " ")
        split("2001 2600 2606 2620 2400 2404 2a00 2a03", v6, " ")
        split("12 14 16 17 18 19 20 21 22 22 23 23 24 24 24 24 24 24 25 26 27 28 29 30", p4, " ")
        split("32 36 40 44 48 48 56 64", p6, " ")
        for (i = 1; i <= n; i++) {
            k = i % 20
            if (k < 9) {
                d = rl(7 + r(6)) "." rl(5 + r(8)) "." tld[r(10) + 1]
                print (k < 3 ? rl(3 + r(6)) "." d : d)
            } else if (k == 15 || k == 19) {
                f = v6[r(8) + 1]; g = 32768 + r(32768)
                if (k == 15) {
                    printf "%s:%x:%x::%x:%x\n", f, g, r(65536), r(65536), 1 + r(65535)
                    continue
                }
                p = p6[r(8) + 1]; t = r(65536); u = r(65536)
                if (p == 32) printf "%s:%x::/32\n", f, g
                else if (p < 48) printf "%s:%x:%x::/%d\n", f, g, int(t / 2 ^ (48 - p)) * 2 ^ (48 - p), p
                else if (p == 48) printf "%s:%x:%x::/48\n", f, g, t
                else if (p == 56) printf "%s:%x:%x:%x::/56\n", f, g, t, int(u / 256) * 256
                else printf "%s:%x:%x:%x::/64\n", f, g, t, u
            } else {
                a = 11 + r(180); if (a == 127 || a == 169 || a == 172) a++
                x = ((a * 256 + r(256)) * 256 + r(256)) * 256 + r(256)
                if (k < 15) {
                    print ip4(x)
                } else {
                    p = p4[r(24) + 1]; u = 2 ^ (32 - p)
                    print ip4(int(x / u) * u) "/" p
                }
            }
        }
    }
    function ip4(x) { return int(x / 16777216) "." int(x / 65536) % 256 "." int(x / 256) % 256 "." x % 256 }
    function r(m) { s = (s * 69069 + 1) % 4294967296; return int(s / 65536) % m }
    function rl(len,   out, j) { out = ""; for (j = 0; j < len; j++) out = out substr("abcdefghijklmnopqrstuvwxyz0123456789", r(j ? 36 : 26) + 1, 1); return out }'
}

biggest=0
biggest_net=0
for n in $sets; do
    case $n in
    net*) [ "${n#net}" -gt "$biggest_net" ] && biggest_net=${n#net} ;;
    *) [ "$n" -gt "$biggest" ] && biggest=$n ;;
    esac
done
echo "generating indicator values and ${size} MB logs in $work ..."
values "$biggest" >"$work/all.txt"
net "$biggest_net" >"$work/all-net.txt"
for n in $sets; do
    case $n in
    net*) head -n "${n#net}" "$work/all-net.txt" >"$work/set-$n.txt" ;;
    *) head -n "$n" "$work/all.txt" >"$work/set-$n.txt" ;;
    esac
done
# Planted: domains and addresses among the first values, which every set
# of a kind holds; the dns generator plants domains as queries, addresses
# as answers; the proxy generator domains as hosts and addresses as
# servers; an address inside a CIDR for a CIDR.
{
    grep -E '^[a-z0-9.]+$|^[0-9.]+$' "$work/all.txt" | head -n 100
    head -n 100 "$work/all-net.txt"
} >"$work/plant.txt"
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
# fixed_cpu BIN SET: the CPU seconds of hunting an empty log with SET
# (start, load, compile), the median of three runs; subtracted from a
# run's CPU time it leaves that of the scan.
fixed_cpu() {
    for k in 1 2 3; do
        timed "$work/hits.empty" "$1" hunt -i "$2" --threads 1 \
            --no-progress --jsonl "$work/empty.log"
        echo "$cpu"
    done | sort -n | sed -n 2p
}
: >"$work/empty.log"
# scan_rate MB CPU FIXED: MB over CPU less FIXED
scan_rate() { awk -v m="$1" -v c="$2" -v f="$3" 'BEGIN {
    printf "%.0f", (c - f > 0 ? m / (c - f) : 0) }'; }
for n in $sets; do
    fixed=$(fixed_cpu "$cairn" "$work/set-$n.txt")
    [ -z "$baseline" ] || bfixed=$(fixed_cpu "$baseline" "$work/set-$n.txt")
    for log in dns proxy; do
        f=$work/$log.log
        size_mb=$(mb "$f")
        lines=$(wc -l <"$f")
        cat "$f" >/dev/null # the page cache holds it for every tool
        timed "$work/hits" "$cairn" hunt -i "$work/set-$n.txt" --threads 1 \
            --no-progress --jsonl "$f"
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
        c_scan=$(scan_rate "$size_mb" "$cpu" "$fixed")
        echo "$n $log cairn: the scan alone $c_scan MB/CPU-s ($cpu CPU s less $fixed for an empty log)" |
            awk '{ printf "%-8s %-6s", $1, $2; $1 = $2 = ""; print substr($0, 2) }'
        timed "$work/hits2" "$cairn" hunt -i "$work/set-$n.txt" --threads 2 \
            --no-progress --jsonl "$f"
        summary=$(grep 'indicators hunted' "$work/stderr" || :)
        scan2=$(echo "$summary" | sed -n 's/.*scanned in \([0-9.]*\) s.*/\1/p')
        hits2=$(wc -l <"$work/hits2")
        printf '%-8s %-6s %-8s %9s %8s %9s %11s %7s %7s %7s %5s\n' "$n" "$log" \
            "cairn -j2" "$(rate "$size_mb" "$scan2")" "$scan2" \
            "$(rate "$size_mb" "$cpu")" "$(rate "$lines" "$scan2")" - - \
            "$rss_mb" "$hits2"
        c2_cpu=$(rate "$size_mb" "$cpu")
        awk -v a="$c2_cpu" -v b="$c_cpu" -v n="$n" -v l="$log" 'BEGIN {
            printf "%-8s %-6s cairn -j2/cairn: per CPU-s %.2fx\n", n, l,
                (b > 0 ? a / b : 0) }'
        cmp -s "$work/hits2" "$work/hits" || {
            echo "bench/hunt.sh: $n $log: other hits with two threads ($hits2) than with one ($hits)" >&2
            differ=1
        }
        if [ -n "$baseline" ]; then
            timed "$work/hits.base" "$baseline" hunt -i "$work/set-$n.txt" \
                --threads 1 --no-progress --jsonl "$f"
            summary=$(grep 'indicators hunted' "$work/stderr" || :)
            bscan=$(echo "$summary" | sed -n 's/.*scanned in \([0-9.]*\) s.*/\1/p')
            b_cpu=$(rate "$size_mb" "$cpu")
            b_scan=$(scan_rate "$size_mb" "$cpu" "$bfixed")
            printf '%-8s %-6s %-8s %9s %8s %9s %11s %7s %7s %7s %5s\n' "$n" \
                "$log" "baseline" "$(rate "$size_mb" "$bscan")" "$bscan" \
                "$b_cpu" "$(rate "$lines" "$bscan")" - - "$rss_mb" \
                "$(wc -l <"$work/hits.base")"
            if cmp -s "$work/hits.base" "$work/hits"; then
                same="the same hits, byte for byte"
            else
                same="OTHER HITS than the baseline"
                differ=1
            fi
            awk -v c="$c_rate" -v b="$(rate "$size_mb" "$bscan")" \
                -v cc="$c_cpu" -v bc="$b_cpu" -v cs="$c_scan" -v bs="$b_scan" \
                -v n="$n" -v l="$log" -v s="$same" 'BEGIN {
                printf "%-8s %-6s cairn/baseline: scan %.2fx, per CPU-s %.2fx, " \
                    "scan alone per CPU-s %.2fx (baseline %d MB/CPU-s); %s\n",
                    n, l, (b > 0 ? c / b : 0), (bc > 0 ? cc / bc : 0),
                    (bs > 0 ? cs / bs : 0), bs, s }'
        fi
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
echo "alone, from its summary line; grep and rg: the whole run; cairn -j2: log"
echo "bytes over the wall time of the scan with two threads). MB/CPU-s: log"
echo "bytes over the user + system CPU time of the whole run, loading included;"
echo "on a shared machine it is the steadier figure. hits: cairn hits (a line"
echo "may give several), grep/rg matching lines."
echo "The scan alone: log bytes over the run's CPU time less that of hunting"
echo "an empty log with the same set (start, load, compile)."
echo "cairn -j2's MB/CPU-s over cairn's: how well two threads use their CPU"
echo "(1.0: no CPU lost to splitting the log)."
if [ "$differ" -ne 0 ]; then
    echo "bench/hunt.sh: the hits differ (see above)" >&2
    exit 1
fi
