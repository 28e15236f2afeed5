#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# `cairn pattern check` and `cairn pattern match`: exit codes, output, JSON.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${CAIRN_SRC:?CAIRN_SRC must name the source tree}/tests/cli/lib.sh"

# expect CODE DESCRIPTION -- COMMAND...: one check that COMMAND exits with
# CODE (this script's own expect; lib.sh's checks the last run)
expect() {
    want=$1; what=$2; shift 3
    "$@" >"$tmp/out" 2>"$tmp/err"
    got=$?
    if [ "$got" -ne "$want" ]; then
        fail "$what: exit $got, expected $want"; cat "$tmp/out" "$tmp/err"
    else
        ok
    fi
}

expect 0 "valid pattern" -- "$CAIRN" pattern check "[file:name = 'a.exe']"
contains "$tmp/out" "valid: [file:name = 'a.exe']" "canonical text"

expect 1 "invalid pattern" -- "$CAIRN" pattern check "[file:name = 'a' AND file:size = 5 AND]"
contains "$tmp/out" "invalid: 1:39: expected a comparison" "error position"

expect 1 "one of two invalid" -- "$CAIRN" pattern check "[x:a = 1]" "[x:a ="
expect 2 "no subcommand" -- "$CAIRN" pattern
expect 2 "unknown subcommand" -- "$CAIRN" pattern frobnicate
expect 2 "unknown option" -- "$CAIRN" pattern check --nope "[x:a = 1]"
expect 2 "missing file" -- "$CAIRN" pattern check -f "$tmp/does-not-exist"

printf "[x:a = 1]\n# a comment\n\n[y:b=2] WITHIN 5 SECONDS\n" >"$tmp/list.txt"
expect 0 "patterns from a file" -- "$CAIRN" pattern check -f "$tmp/list.txt"
contains "$tmp/out" "valid: [y:b = 2] WITHIN 5 SECONDS" "file line"

"$CAIRN" pattern check <"$tmp/list.txt" >"$tmp/out" 2>&1
if [ $? -eq 0 ]; then ok; else fail "patterns from stdin"; fi
contains "$tmp/out" "valid: [x:a = 1]" "stdin line"

expect 1 "json output" -- "$CAIRN" pattern check --json "[x:a = 1]" "[x:1 = 1]"
contains "$tmp/out" '"valid":false' "json invalid"
contains "$tmp/out" '"canonical":"[x:a = 1]"' "json canonical"
contains "$tmp/out" '"column":4' "json column"

cat >"$tmp/obs.json" <<'JSON'
{"type":"bundle","id":"bundle--6f5b6b2c-2a3b-4d5e-8f90-0123456789ab","objects":[
 {"type":"domain-name","spec_version":"2.1","id":"domain-name--1b2d5b1c-1111-5111-8111-111111111111","value":"x.appsync-api.us-east-2.avsvmcloud.com"},
 {"type":"observed-data","spec_version":"2.1","id":"observed-data--2b2d5b1c-2222-4222-8222-222222222222","created":"2020-12-13T00:00:00Z","modified":"2020-12-13T00:00:00Z","first_observed":"2020-12-13T00:00:00Z","last_observed":"2020-12-13T00:00:00Z","number_observed":1,"object_refs":["domain-name--1b2d5b1c-1111-5111-8111-111111111111"]}
]}
JSON
expect 0 "match" -- "$CAIRN" pattern match "[domain-name:value LIKE '%.avsvmcloud.com']" "$tmp/obs.json"
contains "$tmp/out" "matched" "match line"
contains "$tmp/out" "observed-data--2b2d5b1c-2222-4222-8222-222222222222" "match id"

expect 1 "no match" -- "$CAIRN" pattern match "[domain-name:value = 'example.com']" "$tmp/obs.json"
contains "$tmp/out" "no match" "no match line"

expect 0 "match json" -- "$CAIRN" pattern match --json "[domain-name:value LIKE '%.avsvmcloud.com']" "$tmp/obs.json"
contains "$tmp/out" '"matched":true' "json matched"
contains "$tmp/out" '"observations":["observed-data--2b2d5b1c-2222-4222-8222-222222222222"]' "json ids"

printf '[%s]\n' "$(cat "$tmp/obs.json")" >"$tmp/array.json"
expect 0 "array of bundles" -- "$CAIRN" pattern match "[domain-name:value LIKE '%avsvmcloud%']" "$tmp/array.json"

# A peer's custom object type with '_' parses and matches (STIX naming is
# only a warning of strict validation).
cat >"$tmp/custom.json" <<'JSON'
[{"type":"bundle","id":"bundle--6f5b6b2c-2a3b-4d5e-8f90-0123456789ac","objects":[
 {"type":"x_sensor_event","id":"x_sensor_event--1b2d5b1c-1111-5111-8111-111111111112","host-name":"ws1","seen":"2020-12-13T00:00:00Z","when":"last tuesday"},
 {"type":"observed-data","spec_version":"2.1","id":"observed-data--2b2d5b1c-2222-4222-8222-222222222223","created":"2020-12-13T00:00:00Z","modified":"2020-12-13T00:00:00Z","first_observed":"2020-12-13T00:00:00Z","last_observed":"2020-12-13T00:00:00Z","number_observed":1,"object_refs":["x_sensor_event--1b2d5b1c-1111-5111-8111-111111111112"]}
]}]
JSON
expect 0 "custom type with _" -- "$CAIRN" pattern match "[x_sensor_event:'host-name' == 'ws1']" "$tmp/custom.json"
expect 0 "check custom type" -- "$CAIRN" pattern check "[x_sensor_event:'host-name' == 'ws1']"
contains "$tmp/out" "valid: [x_sensor_event:'host-name' = 'ws1']" "canonical custom type"
expect 0 "timestamp property" -- "$CAIRN" pattern match "[x_sensor_event:seen < t'2021-01-01T00:00:00Z']" "$tmp/custom.json"
# A string that should be a timestamp and is not: an error in the input.
expect 2 "not a timestamp" -- "$CAIRN" pattern match "[x_sensor_event:when != t'2021-01-01T00:00:00Z']" "$tmp/custom.json"
contains "$tmp/err" "1 value compared with a timestamp is not" "not a timestamp message"
contains "$tmp/err" "observed-data--2b2d5b1c-2222-4222-8222-222222222223" "not a timestamp observation"
expect 1 "hash of the wrong length" -- "$CAIRN" pattern check "[file:hashes.'SHA-256' = 'f00']"
contains "$tmp/out" "invalid: 1:26: 'f00' is not a valid SHA-256 hash" "hash message"
expect 1 "qualifier twice" -- "$CAIRN" pattern check "[x:a = 1] WITHIN 5 SECONDS WITHIN 6 SECONDS"

expect 2 "invalid pattern in match" -- "$CAIRN" pattern match "[x:a" "$tmp/obs.json"
expect 2 "missing input" -- "$CAIRN" pattern match "[x:a = 1]" "$tmp/nope.json"
printf '{"type": "bundle", ' >"$tmp/bad.json"
expect 2 "malformed input" -- "$CAIRN" pattern match "[x:a = 1]" "$tmp/bad.json"
expect 2 "match without file" -- "$CAIRN" pattern match "[x:a = 1]"

[ "$failed" -eq 0 ]
