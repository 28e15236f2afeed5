#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The coordinated response at federation scale: tests/cli/response.sh with
# a hub and N member nodes (default 40) on loopback, each a `cairn serve`
# with [hunt], [archive] and a [peer] pulling the hub's indicators every
# second and pushing sightings back, each with EVENTS archived DNS queries
# (default 20,000). Prints the time from the hub's `cairn feed import` of
# FireEye's SUNBURST indicators to the hub holding a sighting from every
# member hit (and from none else). Baseline in the same run: the same with
# one member, the floor of one pull, one retro-hunt and one push; the
# federation's time is reported as a multiple of it. Goal: under 60 s.
#
#   bench/loop.sh [BUILD_DIR [N [EVENTS]]]   (BUILD_DIR defaults to build)
#   CAIRN=/path/to/cairn bench/loop.sh ...   (another binary)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
n=${2:-40}
events=${3:-20000}
case $build in /*) ;; *) build=$here/$build ;; esac
cairn=${CAIRN:-$build/cairn}
goal_ms=60000

[ -x "$cairn" ] || {
    echo "missing $cairn: build first (cmake --build $build)" >&2
    exit 2
}
for tool in curl jq awk; do
    command -v $tool >/dev/null || {
        echo "$tool is needed" >&2
        exit 2
    }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 2' INT TERM

# scenario MEMBERS: runs the scenario, prints its milliseconds.
scenario() {
    out=$tmp/scenario.$1
    if ! CAIRN=$cairn CAIRN_SRC=$here CAIRN_EXAMPLES=$here/examples \
        CAIRN_LOOP_MEMBERS=$1 CAIRN_LOOP_EVENTS=$events \
        sh "$here/tests/cli/response.sh" >"$out" 2>&1; then
        echo "the scenario with $1 member(s) failed:" >&2
        tail -n 40 "$out" >&2
        exit 1
    fi
    sed -n "s/.*from the hub's import to its last sighting: \([0-9]*\) ms.*/\1/p" "$out"
}

echo "baseline: 1 member, $events archived DNS events ..."
base=$(scenario 1)
echo "federation: $n members, $events archived DNS events each ..."
fed=$(scenario "$n")
grep "^response: $n members" "$tmp/scenario.$n"
awk -v b="$base" -v f="$fed" -v n="$n" -v g="$goal_ms" 'BEGIN {
    printf "import to the last victim known at the hub: %d members %.2f s, 1 member %.2f s (x%.1f); goal under %d s: %s\n",
        n, f / 1000, b / 1000, (b > 0 ? f / b : 0), g / 1000, (f < g ? "met" : "NOT met")
}'
