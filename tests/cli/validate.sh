#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# `cairn validate` as a user runs it: the shipped examples pass, exit
# codes 0/1/2, --json, --quiet, --strict, limits, and bad input of every
# kind answered with a clear message and never a crash.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${CAIRN_SRC:?CAIRN_SRC must name the source tree}/tests/cli/lib.sh"
: "${CAIRN_EXAMPLES:?CAIRN_EXAMPLES must name the examples/ folder}"
: "${CAIRN_DATA:?CAIRN_DATA must name tests/data}"
check_stderr=show # a failed check shows its command's complaint

# Whether every line of $out is a finding "NAME:LINE:COL: error: ...".
syntax_error_named() {
    [ -s "$out" ] && grep -q "^$1:[0-9][0-9]*:[0-9][0-9]*: error: " "$out"
}
no_errors() { ! grep -q ': error: ' "$out"; }

examples=$CAIRN_EXAMPLES/stix
oasis=${CAIRN_REF:-/nonexistent}/stix2-json-schemas/examples
cd "$tmp" || exit 2

# ---- every shipped example (and OASIS's, when beside us) is valid --------
valid_examples() { # DIR [OPTION]: every *.json under it exits 0, no errors
    n=0
    for f in $(find "$1" -name '*.json' | sort); do
        n=$((n + 1))
        run validate ${2:+"$2"} "$f"
        name=${f#"$1"/}
        check "example $name exits 0 (got $rc: $(head -3 "$out"))" [ "$rc" -eq 0 ]
        check "example $name has no error findings" no_errors
        check "example $name gets a summary on stderr" \
            grep -q "^$f: [1-9][0-9]* objects\?, 0 errors, " "$err"
    done
}
valid_examples "$examples" --strict # ours have no warnings either
check "the shipped examples were found ($n)" [ "$n" -ge 7 ]
if [ -d "$oasis" ]; then
    valid_examples "$oasis"
    check "the OASIS examples were found ($n)" [ "$n" -ge 8 ]
else
    echo "skipped: no OASIS examples at $oasis"
fi

good=$examples/c2-infrastructure.json
big=$examples/sunburst-report.json

# ---- exit codes: 0 valid, 1 invalid, 2 usage or I/O ----------------------
printf '{"type": "indicator"}\n' >incomplete.json
run validate incomplete.json
check "an object missing required properties exits 1" [ "$rc" -eq 1 ]
check "...with error findings that name the file" \
    grep -q '^incomplete.json: .*error: ' "$out"

run validate "$good" incomplete.json
check "valid + invalid exits 1" [ "$rc" -eq 1 ]
run validate incomplete.json missing.json
check "invalid + unreadable exits 2 (2 wins)" [ "$rc" -eq 2 ]
check "...and the readable file is still checked" \
    grep -q '^incomplete.json: ' "$out"
run validate
check "no FILE is a usage error (exit 2), not a read of stdin" [ "$rc" -eq 2 ]
check "...that says how to read stdin" grep -q "'-'" "$err"
run validate --frobnicate "$good"
check "an unknown option exits 2" [ "$rc" -eq 2 ]
check "...and names the option" grep -q -- '--frobnicate' "$err"
for size in 0 -1 12X 1.5M ' 1M' 99999999999999999999 18446744073709551615G; do
    run validate --max-object "$size" "$good"
    check "--max-object '$size' is rejected with exit 2" [ "$rc" -eq 2 ]
done
run validate --max-object 16m --max-input 2G "$good"
check "sizes with suffixes are accepted" [ "$rc" -eq 0 ]

# ---- I/O errors name the file and the reason -----------------------------
run validate missing.json
check "a missing file exits 2" [ "$rc" -eq 2 ]
check "...naming it and the reason" \
    grep -q 'missing.json: No such file or directory' "$err"
mkdir adir
run validate adir
check "a directory exits 2" [ "$rc" -eq 2 ]
check "...saying it is a directory" grep -q 'adir: is a directory' "$err"
run validate - -
check "standard input twice exits 2" [ "$rc" -eq 2 ]

# ---- standard input -------------------------------------------------------
stdin=$good run validate -
check "'-' reads a valid document from standard input (exit 0)" [ "$rc" -eq 0 ]
printf '{"type": ' >trunc-stdin.json
stdin=trunc-stdin.json run validate -
check "'-' with truncated JSON exits 1" [ "$rc" -eq 1 ]
check "...and the finding names <stdin>:LINE:COL" syntax_error_named '<stdin>'
head -c 3000000 /dev/zero >zeros
stdin=zeros run validate --max-input 1M -
check "standard input over --max-input exits 2" [ "$rc" -eq 2 ]
check "...saying the limit was passed" grep -q 'larger than the limit' "$err"

# ---- --json ---------------------------------------------------------------
cat >badtime.json <<'EOF'
{"type": "bundle", "id": "bundle--44af6c39-c09b-49c5-9de2-394224b04982",
 "objects": [{"type": "indicator", "spec_version": "2.1",
   "id": "indicator--33fe3b22-0201-47cf-85d0-97c02164528d",
   "created": "2014-05-08T09:00:00.000Z", "modified": "2014-05-08",
   "pattern": "[ipv4-addr:value = '10.0.0.0']", "pattern_type": "stix",
   "valid_from": "2014-05-08T09:00:00.000000Z"}]}
EOF
run validate --json badtime.json
check "--json: a bad property has its object id and JSON path" \
    jq -e 'select(.path == "objects[0].modified") | .object_id ==
        "indicator--33fe3b22-0201-47cf-85d0-97c02164528d"' "$out"
run validate badtime.json
check "text: the finding is 'FILE: ID: PATH: error: ...'" grep -q \
    '^badtime.json: indicator--33fe3b22-0201-47cf-85d0-97c02164528d: objects\[0\]\.modified: error: ' \
    "$out"

run validate --json incomplete.json
check "--json exits 1 on an invalid file" [ "$rc" -eq 1 ]
check "--json prints findings" test -s "$out"
check "--json: every line is a JSON object with file, severity, rule, message" \
    test "$(jq -c 'select(type == "object" and .file == "incomplete.json"
        and (.severity == "error" or .severity == "warning")
        and (.rule | type) == "string" and (.message | type) == "string")' \
        "$out" | wc -l)" -eq "$(wc -l <"$out")"
printf '{"type": "bundle",\n  "objects": [\n' >trunc.json
run validate --json trunc.json
check "--json syntax error has line and column" \
    jq -e '.line >= 1 and .column >= 1 and .file == "trunc.json"' "$out"
run validate --json "$good"
check "--json prints nothing for a valid file" test ! -s "$out"

# ---- --quiet and --strict ------------------------------------------------
run validate --quiet incomplete.json
check "--quiet exits 1 on an invalid file" [ "$rc" -eq 1 ]
check "--quiet prints nothing on stdout" test ! -s "$out"
check "--quiet prints nothing on stderr" test ! -s "$err"
run validate -q --json incomplete.json missing.json
check "-q still exits 2 for a missing file" [ "$rc" -eq 2 ]
check "-q --json prints nothing on stdout" test ! -s "$out"

warn=$CAIRN_DATA/invalid/cli-vocab-warning.json
run validate "$warn"
check "a warning-only file exits 0" [ "$rc" -eq 0 ]
check "...and prints the warning" grep -q ': warning: ' "$out"
run validate --strict "$warn"
check "--strict turns a warning-only file into exit 1" [ "$rc" -eq 1 ]
check "...reporting it as an error" grep -q ': error: ' "$out"
run validate --strict "$good"
check "--strict on a clean file exits 0" [ "$rc" -eq 0 ]

# ---- bad input: a clear finding and exit 1, never a crash ----------------
printf 'hello, world\n' >notjson.json
run validate notjson.json
check "not JSON exits 1" [ "$rc" -eq 1 ]
check "...with FILE:LINE:COL: error:" syntax_error_named notjson.json

head -c 700 "$big" >truncated.json
run validate truncated.json
check "truncated JSON exits 1" [ "$rc" -eq 1 ]
check "...with FILE:LINE:COL: error:" syntax_error_named truncated.json

: >empty.json
run validate empty.json
check "an empty file exits 1" [ "$rc" -eq 1 ]
check "...with a finding naming it" grep -q '^empty.json:.* error: ' "$out"

printf '{"type": "indicator", "name": "\377\376"}\n' >utf8.json
run validate utf8.json
check "invalid UTF-8 exits 1" [ "$rc" -eq 1 ]
check "...with FILE:LINE:COL: error:" syntax_error_named utf8.json

printf '{"type": "indicator",\n "type": "malware"}\n' >dup.json
run validate dup.json
check "duplicate keys exit 1" [ "$rc" -eq 1 ]
check "...with FILE:LINE:COL: error:" syntax_error_named dup.json

printf '{"type": "indicator", "name": "a\000b"}\n' >nul.json
run validate nul.json
check "a raw NUL byte exits 1" [ "$rc" -eq 1 ]
check "...with FILE:LINE:COL: error:" syntax_error_named nul.json
printf '{"type": "indicator", "name": "a\\u0000b"}\n' >nulesc.json
run validate nulesc.json
check "an escaped NUL (\\u0000) exits 1" [ "$rc" -eq 1 ]
check "...with a finding naming the file" grep -q '^nulesc.json:.* error: ' "$out"

head -c 100000 /dev/zero | tr '\0' '[' >deep.json
run validate deep.json
check "100,000 nested arrays exit 1" [ "$rc" -eq 1 ]
check "...with FILE:LINE:COL: error:" syntax_error_named deep.json
{
    printf '{"type": "bundle", "id": "bundle--44af6c39-c09b-49c5-9de2-394224b04982", "objects": ['
    yes '{"a":' | head -n 100000 | tr -d '\n'
} >deepobj.json
run validate deepobj.json
check "100,000 nested objects in a bundle exit 1" [ "$rc" -eq 1 ]
check "...with FILE:LINE:COL: error:" syntax_error_named deepobj.json

# A 2 GB file is mapped, not read into the heap: the error at its first
# bad byte comes at once, whatever follows.
if truncate -s 2G huge.json 2>/dev/null; then
    run validate huge.json
    check "a 2 GB file of NULs exits 1" [ "$rc" -eq 1 ]
    check "...with FILE:LINE:COL: error:" syntax_error_named huge.json
    if [ -x /usr/bin/time ]; then
        # Peak memory in KiB: far below the file's size, so it was mapped.
        /usr/bin/time -f '%M' -o rss.txt "$CAIRN" validate huge.json \
            >/dev/null 2>&1
        check "...without reading it into memory ($(cat rss.txt) KiB peak)" \
            [ "$(tail -1 rss.txt)" -lt 262144 ]
    fi
    # The same after a bundle's opening: one finding, not a 2 GB read.
    printf '{"type": "bundle", "objects": [' |
        dd of=huge.json conv=notrunc status=none
    run validate huge.json
    check "a bundle opening then 2 GB of NULs fails (exit $rc)" \
        test "$rc" -eq 1 -o "$rc" -eq 2
    check "...with FILE:LINE:COL: error:" syntax_error_named huge.json
    rm -f huge.json
else
    fail "cannot create a 2 GB sparse file in $tmp"
fi

# ---- --max-object ----------------------------------------------------------
run validate --max-object 100 "$good"
check "an object over --max-object exits 2 (not checked)" [ "$rc" -eq 2 ]
check "...and the message points to --max-object" \
    grep -q -- '--max-object' "$err"
run validate --max-object 1M "$good"
check "--max-object above every object exits 0" [ "$rc" -eq 0 ]

# ---- output that cannot be written ----------------------------------------
if [ -w /dev/full ]; then
    "$CAIRN" validate incomplete.json >/dev/full 2>"$err"
    rc=$?
    check "findings to a full disk exit 2" [ "$rc" -eq 2 ]
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
