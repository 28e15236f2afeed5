#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Invalid STIX as data: for every tests/data/invalid/NAME.json,
# `cairn validate NAME.json` run in that directory must print exactly
# NAME.expected, and exit 1 -- or 0 when every expected finding is a
# warning. Adding a case is adding two files.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${CAIRN_SRC:?CAIRN_SRC must name the source tree}/tests/cli/lib.sh"
: "${CAIRN_DATA:?CAIRN_DATA must name tests/data}"

dir=$CAIRN_DATA/invalid
cd "$dir" || exit 2
pairs=0
for input in *.json; do
    [ -e "$input" ] || continue
    name=${input%.json}
    expected=$name.expected
    if [ ! -f "$expected" ]; then
        fail "$input has no $expected next to it"
        continue
    fi
    pairs=$((pairs + 1))
    if [ ! -s "$expected" ]; then
        fail "$expected is empty: an invalid file must produce a finding"
        continue
    fi
    "$CAIRN" validate "$input" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    want=1
    grep -q ': error: ' "$expected" || want=0
    case_ok=1
    if [ "$rc" -ge 128 ] || crash_report "$tmp/err"; then
        fail "$input: cairn crashed (exit $rc)"
        head -20 "$tmp/err"
        case_ok=0
    elif [ "$rc" -ne "$want" ]; then
        fail "$input: exit $rc, expected $want"
        cat "$tmp/err"
        case_ok=0
    fi
    if ! diff -u "$expected" "$tmp/out" >"$tmp/diff"; then
        fail "$input: output differs from $expected"
        cat "$tmp/diff"
        case_ok=0
    fi
    [ "$case_ok" -eq 1 ] && ok
done
for expected in *.expected; do
    [ -e "$expected" ] || continue
    [ -f "${expected%.expected}.json" ] || fail "$expected has no .json input"
done
[ "$pairs" -ge 1 ] || fail "no NAME.json/NAME.expected pairs in $dir"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
