#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# `cairn --help`, `cairn help`, `cairn COMMAND --help`, --version and the
# man page: all generated from the command table, so they must agree.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${CAIRN_SRC:?CAIRN_SRC must name the source tree}/tests/cli/lib.sh"
check_stderr=show # a failed check shows its command's complaint

# The commands that exist: one cli/cmd_NAME.c each.
commands=$(cd "$CAIRN_SRC/cli" && ls cmd_*.c | sed 's/^cmd_//; s/\.c$//')
[ -n "$commands" ] || fail "no cli/cmd_*.c found under $CAIRN_SRC"

run --help
check "--help exits 0" [ "$rc" -eq 0 ]
check "--help starts with a usage line" grep -q '^Usage: cairn ' "$tmp/out"
for c in $commands; do
    check "--help lists '$c'" grep -q "^  $c  " "$tmp/out"
done
check "--help lists help" grep -q '^  help  ' "$tmp/out"
check "--help lists --version" grep -q -- '--version' "$tmp/out"
cp "$tmp/out" "$tmp/global"

run -h
check "-h is --help" cmp -s "$tmp/out" "$tmp/global"
run help
check "'help' is --help" cmp -s "$tmp/out" "$tmp/global"

for c in $commands; do
    run help "$c"
    check "help $c exits 0" [ "$rc" -eq 0 ]
    check "help $c has the usage line" grep -q "^Usage: cairn $c " "$tmp/out"
    check "help $c has an options table" grep -q '^Options:$' "$tmp/out"
    check "help $c lists --help" grep -q -- '-h, --help' "$tmp/out"
    cp "$tmp/out" "$tmp/cmd"
    run "$c" --help
    check "$c --help exits 0" [ "$rc" -eq 0 ]
    check "$c --help equals help $c" cmp -s "$tmp/out" "$tmp/cmd"
    run "$c" -h
    check "$c -h equals help $c" cmp -s "$tmp/out" "$tmp/cmd"
    # Every line of help text fits 80 columns.
    check "help $c fits 80 columns" \
        test -z "$(awk 'length > 80' "$tmp/cmd")"
done
check "--help fits 80 columns" test -z "$(awk 'length > 80' "$tmp/global")"

# validate's options, as the issue names them.
run help validate
cp "$tmp/out" "$tmp/validate"
for opt in --json --quiet -q --strict '--max-object SIZE' '--max-input SIZE'; do
    check "help validate shows $opt" grep -q -- "$opt" "$tmp/out"
done
check "help validate shows the exit statuses" \
    grep -q '^Exit status:$' "$tmp/out"
# --help after options and operands still shows help; after "--" it is a file.
run validate --json some.json --help
check "validate --json FILE --help shows help" \
    sh -c '[ "$1" -eq 0 ] && cmp -s "$2" "$3"' - "$rc" "$tmp/out" "$tmp/validate"
run validate --max-object -h x.json
check "an option's argument '-h' is not --help (exit 2)" [ "$rc" -eq 2 ]
run validate -- --help
check "after --, --help is a file name (exit 2, not found)" [ "$rc" -eq 2 ]
check "after --, the missing file is named" grep -q -- '--help' "$tmp/err"

# --version: "cairn X.Y.Z", the version of CMakeLists.txt.
version=$(sed -n 's/^project(cairn VERSION \([0-9.]*\).*/\1/p' \
    "$CAIRN_SRC/CMakeLists.txt")
run --version
check "--version exits 0" [ "$rc" -eq 0 ]
check "--version prints 'cairn $version'" \
    test "$(cat "$tmp/out")" = "cairn $version"
run -V
check "-V prints 'cairn $version'" test "$(cat "$tmp/out")" = "cairn $version"

# Usage errors: exit 2 and a pointer to --help on standard error.
run
check "no command exits 2" [ "$rc" -eq 2 ]
check "no command prints the usage" grep -q '^Usage: cairn' "$tmp/err"
run frobnicate
check "unknown command exits 2" [ "$rc" -eq 2 ]
check "unknown command is named" grep -q "unknown command 'frobnicate'" \
    "$tmp/err"
check "unknown command suggests cairn --help" grep -q "cairn --help" "$tmp/err"
check "unknown command prints nothing on stdout" test ! -s "$tmp/out"
run --frobnicate
check "unknown global option exits 2" [ "$rc" -eq 2 ]
run help frobnicate
check "help of an unknown command exits 2" [ "$rc" -eq 2 ]
run help validate extra
check "help with two arguments exits 2" [ "$rc" -eq 2 ]

# Help that cannot be written is a failure, not a silent success.
"$CAIRN" --help >&- 2>/dev/null
rc=$?
check "--help to a closed standard output exits 2" [ "$rc" -eq 2 ]
if [ -w /dev/full ]; then
    "$CAIRN" help validate >/dev/full 2>/dev/null
    rc=$?
    check "help to a full disk exits 2" [ "$rc" -eq 2 ]
fi

# The man page: roff with the usual sections, every command and option.
run help --man
check "help --man exits 0" [ "$rc" -eq 0 ]
man="$tmp/out"
check "man page has .TH" grep -q '^\.TH CAIRN 1 ' "$man"
for section in NAME SYNOPSIS DESCRIPTION OPTIONS COMMANDS '"\?EXIT STATUS"\?' \
    EXAMPLES '"\?SEE ALSO"\?' BUGS; do
    check "man page has section $section" grep -q "^\.SH $section\$" "$man"
done
for c in $commands; do
    check "man page has a subsection for $c" grep -q "^\.SS $c\$" "$man"
done
for opt in json quiet strict max\\\\-object max\\\\-input; do
    check "man page documents --$opt" grep -q "^\\\\fB.*\\\\-\\\\-$opt\\\\fR" "$man"
done
# A text line starting with . or ' would be read as a roff request.
check "man page text lines do not start with a stray control character" \
    test -z "$(grep -E "^(\.|')" "$man" |
        grep -vE '^\.(\\"|TH|SH|SS|PP|TP|B|I|BR|RS|RE|nf|fi|br|nh)( |$)')"
check "man page has no unescaped minus in options" \
    test -z "$(grep -v '^\.\\"' "$man" | grep -E '(^| )--?[a-z]')"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
