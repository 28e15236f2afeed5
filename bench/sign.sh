#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Signed intelligence (issue 17, docs/signing.md), two measures:
#
# 1. bench_sign over N generated objects (default 20,000; bench_genbundle's
#    mix): cairn_sign_object and cairn_sign_verify per CPU second on one
#    core, with the canonical form alone, libcrypto's and libsodium's bare
#    Ed25519 verification as baselines in the same run (medians of
#    interleaved rounds). Goal: verify >= 20,000 objects/s per core.
# 2. `cairn pull` of the same N objects, signed, from another cairn node on
#    loopback, once with no signature policy (the baseline) and once with
#    --signatures require --trust KEY, into a fresh collection each time.
#    Goal: the pull with require at no less than half the speed of the one
#    without. Wall and CPU seconds (/usr/bin/time %e, %U+%S) are printed
#    for both, since a busy machine moves the wall time: medians of
#    CAIRN_BENCH_ROUNDS (3) interleaved rounds.
# 3. bench_ed25519: the Ed25519 verifiers Debian packages (libcrypto,
#    libsodium, nettle, libgcrypt, wolfSSL, libdecaf, Botan) over the same
#    signatures, interleaved.
#
#   bench/sign.sh [BUILD_DIR [N]]   (BUILD_DIR defaults to build)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
n=${2:-20000}
case $build in /*) ;; *) build=$here/$build ;; esac
cairn=${CAIRN:-$build/cairn}
gen=$build/bench/bench_genbundle
bench=$build/bench/bench_sign

for tool in "$cairn" "$gen" "$bench"; do
    [ -x "$tool" ] || {
        echo "missing $tool: build first (cmake --build $build)" >&2
        exit 2
    }
done
for tool in awk /usr/bin/time; do
    command -v $tool >/dev/null || {
        echo "$tool is needed" >&2
        exit 2
    }
done

tmp=$(mktemp -d)
pid=""
cleanup() {
    if [ -n "$pid" ]; then
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 2' INT TERM

echo "generating $n objects ..."
"$gen" "$n" >"$tmp/bundle.json"

echo "---- 1. sign and verify on one core"
"$bench" "$tmp/bundle.json" || true

echo "---- 1b. Ed25519 alone: the libraries"
"$build/bench/bench_ed25519" 4000 500 5 || true

echo "---- 2. pull, without and with --signatures require"
src=$tmp/src
dst=$tmp/dst
"$cairn" key new producer --data "$src" >/dev/null
"$cairn" key export producer --data "$src" >"$tmp/producer.pub"
"$cairn" sign --key producer --data "$src" -o "$tmp/signed.json" \
    "$tmp/bundle.json" 2>/dev/null
rm -f "$tmp/bundle.json"
printf 'pw\n' | "$cairn" user add puller --data "$src" >/dev/null
coll=$("$cairn" collection add --title source --data "$src")
"$cairn" grant puller "$coll" --read --data "$src" >/dev/null
"$cairn" import --collection "$coll" --data "$src" "$tmp/signed.json" \
    >/dev/null 2>&1
rm -f "$tmp/signed.json"
"$cairn" serve --data "$src" --listen 127.0.0.1:0 \
    --port-file "$tmp/port" --log "$tmp/access.log" 2>"$tmp/serve.err" &
pid=$!
i=0
while [ ! -s "$tmp/port" ] && [ $i -lt 600 ] && kill -0 "$pid" 2>/dev/null; do
    sleep 0.05
    i=$((i + 1))
done
port=$(cat "$tmp/port")

# pull NAME ARGS...: one pull into a new collection; prints "WALL CPU".
pull() {
    name=$1
    shift
    into=$("$cairn" collection add --title "$name" --data "$dst")
    CAIRN_PASSWORD=pw /usr/bin/time -f '%e %U %S' -o "$tmp/time" \
        "$cairn" pull "http://127.0.0.1:$port/taxii2/" --user puller \
        --collection "$coll" --into "$into" --data "$dst" "$@" \
        2>"$tmp/pull.err" || {
        cat "$tmp/pull.err" >&2
        exit 1
    }
    tail -n 1 "$tmp/pull.err" >&2
    awk '{ printf "%s %.2f\n", $1, $2 + $3 }' "$tmp/time"
}
rate() { awk -v n="$n" -v s="$1" 'BEGIN { if (s <= 0) s = 0.001; printf "%.0f", n / s }'; }

# Rounds interleave the two, so that a busy machine slows both alike; the
# figures are the medians.
rounds=${CAIRN_BENCH_ROUNDS:-3}
: >"$tmp/plain" && : >"$tmp/req"
r=0
while [ $r -lt "$rounds" ]; do
    pull "plain$r" >>"$tmp/plain"
    pull "required$r" --signatures require --trust "$tmp/producer.pub" \
        >>"$tmp/req"
    r=$((r + 1))
done
# median FILE COLUMN
median() { sort -n -k"$2" "$1" | awk -v c="$2" '{ v[NR] = $c } END { print v[int((NR + 1) / 2)] }'; }
plain_wall=$(median "$tmp/plain" 1) plain_cpu=$(median "$tmp/plain" 2)
req_wall=$(median "$tmp/req" 1) req_cpu=$(median "$tmp/req" 2)
echo "pull, no policy:          $n objects in $plain_wall s wall," \
    "$plain_cpu s CPU: $(rate "$plain_wall") objects/s (median of $rounds)"
echo "pull, signatures require: $n objects in $req_wall s wall," \
    "$req_cpu s CPU: $(rate "$req_wall") objects/s (median of $rounds)"
awk -v a="$plain_wall" -v b="$req_wall" -v c="$plain_cpu" -v d="$req_cpu" \
    'BEGIN { r = a / b; m = r >= 0.5 ? "met" : "MISSED"; printf "require / no policy: %.2f of the speed " \
             "(goal >= 0.5: %s); CPU %.2fx\n", r, m,
             d / c }'
