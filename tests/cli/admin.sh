#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The administration commands as an operator runs them: users, tokens,
# collections, rights and bulk import into a fresh data directory, with
# exit codes 0/1/2 and clear messages for what is missing or malformed.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${CAIRN_SRC:?CAIRN_SRC must name the source tree}/tests/cli/lib.sh"
: "${CAIRN_EXAMPLES:?CAIRN_EXAMPLES must name the examples/ folder}"
: "${CAIRN_DATA:?CAIRN_DATA must name tests/data}"

lines() { wc -l <"$out" | tr -d ' '; } # lines on the last run's stdout
is_uuid() {
    grep -qx '[0-9a-f]\{8\}-[0-9a-f]\{4\}-[0-9a-f]\{4\}-[0-9a-f]\{4\}-[0-9a-f]\{12\}' "$out"
}

cd "$tmp" || exit 2
data=$tmp/data
pw='Corr3ct-Horse-Battery-8231'
printf '%s\n' "$pw" >pw.txt

# ---- a data directory that is not there -------------------------------------
for sub in "user list" "collection list"; do
    # shellcheck disable=SC2086
    run $sub --data "$tmp/none"
    expect 2 "$sub on a missing data directory"
    check "$sub names the missing directory" said "no data directory $tmp/none"
    check "$sub does not create the directory" [ ! -e "$tmp/none" ]
done
mkdir empty
run user list --data empty
expect 2 "user list on a directory without a store"
check "the message says there is no store" said "no store in the data directory"
check "list creates no store" [ ! -e empty/cairn.db ]

# ---- users ----------------------------------------------------------------------
stdin=pw.txt run user add alice --data "$data"
expect 0 "user add alice"
check "the first command creates the store" [ -f "$data/cairn.db" ]
check "the data directory is private (0700)" \
    [ "$(stat -c %a "$data")" = 700 ]
check "the new store announces its first collection" \
    said "collection 'default' [0-9a-f-]\{36\}"
check "the password is nowhere in the data directory in clear" \
    sh -c "! grep -rqF -- '$pw' '$data'"
stdin=pw.txt run user add alice --data "$data"
expect 1 "adding an existing user"
check "the refusal names the user" said "user 'alice' exists already"
printf '\n' >empty.txt
stdin=empty.txt run user add bob --data "$data"
expect 2 "an empty password"
check "the empty password is refused by name" said "empty password"
stdin=pw.txt run user add 'carol:x' --data "$data"
expect 2 "a user name with a colon"
stdin=pw.txt run user add bob --data "$data"
expect 0 "user add bob"
run user list --data "$data"
expect 0 "user list"
check "user list prints both users, in order" \
    [ "$(tr '\n' ' ' <"$out")" = "alice bob " ]
printf 'N3w-pass\n' >pw2.txt
stdin=pw2.txt run user passwd alice --data "$data"
expect 0 "user passwd alice"
stdin=pw2.txt run user passwd nobody --data "$data"
expect 1 "passwd of an unknown user"
check "the new password is not stored in clear" \
    sh -c "! grep -rqF -- 'N3w-pass' '$data'"
run user remove bob --data "$data"
expect 0 "user remove bob"
run user remove bob --data "$data"
expect 1 "removing a removed user"
check "the refusal names the user" said "no user 'bob'"
run user list --data "$data"
check "bob is gone from the list" [ "$(cat "$out")" = alice ]

# The default data directory comes from $CAIRN_DATA_DIR.
CAIRN_DATA_DIR=$tmp/envdata stdin=pw.txt run user add dave
expect 0 "user add with CAIRN_DATA_DIR"
check "CAIRN_DATA_DIR names the default data directory" \
    [ -f "$tmp/envdata/cairn.db" ]

# ---- tokens -------------------------------------------------------------------
run token new alice --data "$data"
expect 0 "token new alice"
check "a token is 64 hexadecimal characters" grep -qx '[0-9a-f]\{64\}' "$out"
token=$(cat "$out")
check "the token is not stored in clear" \
    sh -c "! grep -rqF -- '$token' '$data'"
run token new nobody --data "$data"
expect 1 "a token for an unknown user"
run token revoke "$token" --data "$data"
expect 0 "token revoke"
run token revoke "$token" --data "$data"
expect 1 "revoking a revoked token"
run token revoke not-a-token --data "$data"
expect 2 "revoking a malformed token"
check "a malformed token is not echoed" sh -c "! grep -q not-a-token '$err'"

# ---- collections ----------------------------------------------------------------
run collection list --data "$data"
expect 0 "collection list"
check "a new store has one collection, 'default' in api1" \
    grep -qx '[0-9a-f-]\{36\}  api1  default' "$out"
default=$(cut -d' ' -f1 "$out")
run collection add --title 'Phishing feed' --alias phishing --data "$data"
expect 0 "collection add"
check "collection add prints a UUID" is_uuid
phish=$(cat "$out")
fixed=1b6f0b68-5a3f-4b8d-9b0c-1f0e2d3c4b5a
run collection add --title Partners --id "$fixed" --data "$data"
expect 0 "collection add --id"
check "collection add --id prints that id" [ "$(cat "$out")" = "$fixed" ]
run collection add --title Again --id "$fixed" --data "$data"
expect 1 "a duplicate collection id"
check "the refusal names the id" said "$fixed exists already"
run collection add --title Again --alias phishing --data "$data"
expect 1 "a duplicate alias in the same root"
run collection add --title Bad --id 1234 --data "$data"
expect 2 "a collection id that is not a UUID"
run collection add --data "$data"
expect 2 "collection add without --title"
run collection add --title Shared --api-root partners --data "$data"
expect 0 "collection add in a new API root"
check "a new API root is announced" said "created API root 'partners'"
run collection list --data "$data"
check "collection list shows the four collections" [ "$(lines)" = 4 ]
check "collection list shows the titles" printed "Phishing feed"
check "collection list shows the roots" grep -q '  partners  Shared$' "$out"
run collection list --api-root partners --data "$data"
check "--api-root selects one root" [ "$(lines)" = 1 ]
run collection add --title Gone --data "$data"
gone=$(cat "$out")
run collection remove "$gone" --data "$data"
expect 0 "collection remove"
run collection remove "$gone" --data "$data"
expect 1 "removing a removed collection"
run collection list --data "$data"
check "a removed collection is not listed" sh -c "! grep -q '$gone' '$out'"

# ---- rights ---------------------------------------------------------------------
run grant alice "$phish" --read --data "$data"
expect 0 "grant --read"
run user list --rights --data "$data"
check "alice may read the phishing collection" \
    grep -qx "alice  $phish  read" "$out"
run grant alice "$phish" -w --data "$data"
expect 0 "grant -w adds to read"
run user list --rights --data "$data"
check "alice may read and write" grep -qx "alice  $phish  read,write" "$out"
run revoke alice "$phish" --read --data "$data"
expect 0 "revoke --read"
run user list --rights --data "$data"
check "revoke --read keeps write" grep -qx "alice  $phish  write" "$out"
run revoke alice "$phish" --data "$data"
expect 0 "revoke with neither flag"
run user list --rights --data "$data"
check "revoke without flags takes both" grep -qx "alice  -  none" "$out"
run grant alice "$phish" --data "$data"
expect 2 "grant without --read or --write"
check "the usage error names the flags" said "--read, --write"
run grant nobody "$phish" --read --data "$data"
expect 1 "grant to an unknown user"
check "the refusal names the user" said "no user 'nobody'"
run grant alice 00000000-0000-4000-8000-000000000000 --read --data "$data"
expect 1 "grant on an unknown collection"
check "the refusal names the collection" said "no collection 00000000"
run grant alice not-a-collection --read --data "$data"
expect 2 "grant on a malformed collection id"

# ---- import ---------------------------------------------------------------------
examples=$CAIRN_EXAMPLES/stix
total=0
for f in $(find "$examples" -name '*.json' | sort); do
    name=${f#"$examples"/}
    # What validate counts is what import must account for, object by object.
    n=$("$CAIRN" validate "$f" 2>&1 >/dev/null | sed -n 's/.*: \([0-9]*\) objects\{0,1\},.*/\1/p')
    run import --collection "$default" --data "$data" "$f"
    expect 0 "import $name"
    sum=$(sed -n 's/.*: \([0-9]*\) stored, \([0-9]*\) already present, 0 rejected$/\1 + \2/p' "$err")
    check "import $name accounts for its $n objects (got: $(tail -1 "$err"))" \
        [ "$((${sum:-0}))" -eq "${n:-1}" ]
    total=$((total + n))
done
check "the examples hold objects" [ "$total" -gt 20 ]
f=$examples/c2-infrastructure.json
run import -c "$default" --data "$data" "$f"
expect 0 "a second import of the same file"
check "a second import stores nothing new" \
    said ": 0 stored, [1-9][0-9]* already present, 0 rejected"
stdin=$f run import -c "$default" --data "$data" -
expect 0 "import from standard input"
check "standard input is named <stdin>" said "^<stdin>: 0 stored"

cat >mixed.json <<'JSON'
{"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d",
 "objects": [
  {"type": "indicator", "spec_version": "2.1",
   "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
   "created": "2016-04-06T20:03:48.000Z",
   "modified": "2016-04-06T20:03:48.000Z", "name": "ok",
   "pattern": "[ipv4-addr:value = '198.51.100.1']", "pattern_type": "stix",
   "valid_from": "2016-01-01T00:00:00Z"},
  {"type": "indicator", "spec_version": "2.1",
   "id": "indicator--9e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
   "created": "2016-04-06T20:03:48.000Z",
   "modified": "2016-04-06T20:03:48.000Z", "name": "no pattern",
   "pattern_type": "stix", "valid_from": "2016-01-01T00:00:00Z"},
  {"type": "malware", "spec_version": "2.1", "id": "malware--not-a-uuid",
   "created": "2016-04-06T20:03:48.000Z",
   "modified": "2016-04-06T20:03:48.000Z", "name": "x", "is_family": false}
 ]}
JSON
run import -c "$phish" --data "$data" mixed.json
expect 1 "import of a bundle with invalid objects"
check "the valid object is stored, the invalid ones rejected" \
    said "^mixed.json: 1 stored, 0 already present, 2 rejected$"
check "a rejection names file, object and path" \
    said "^mixed.json: indicator--9e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f: objects\[1\]: error: .*pattern"
check "a rejection names a malformed id" said "objects\[2\].id: error"
run import -c "$phish" --data "$data" --quiet mixed.json
expect 1 "--quiet keeps the exit status"
check "--quiet prints nothing" [ ! -s "$err" ]
head -c 300 "$f" >cut.json
run import -c "$phish" --data "$data" cut.json
expect 1 "import of a truncated file"
check "the syntax error has a line and column" said "^cut.json:[0-9]*:[0-9]*: error"
run import -c "$phish" --data "$data" missing.json
expect 2 "import of a file that does not exist"
run import -c 00000000-0000-4000-8000-000000000000 --data "$data" "$f"
expect 2 "import into an unknown collection"
run import -c "$default" --api-root partners --data "$data" "$f"
expect 2 "import into a collection of another root"
run import --data "$data" "$f"
expect 2 "import without --collection"
run import -c "$default" --data "$data"
expect 2 "import without a file"
run import -c "$default" --data "$tmp/none" "$f"
expect 2 "import into a missing data directory"

# ---- sharing attributes (TLP 2.0) -------------------------------------------------
ida=identity--0b7c1c8e-0b7a-4c4e-9a54-2d8e1c3a4f10
run user list --sharing --data "$data"
expect 0 "user list --sharing"
check "a user starts with no identity and is no member" \
    grep -qx "alice  -  -" "$out"
run user set alice --identity "$ida" --member --data "$data"
expect 0 "user set --identity --member"
run user list --sharing --data "$data"
check "user list --sharing shows both" grep -qx "alice  $ida  member" "$out"
run user set alice --no-member --data "$data"
expect 0 "user set --no-member"
run user list --sharing --data "$data"
check "--no-member keeps the identity" grep -qx "alice  $ida  -" "$out"
run user set alice --identity none --data "$data"
run user list --sharing --data "$data"
check "--identity none removes it" grep -qx "alice  -  -" "$out"
stdin=pw.txt run user add carol --identity "$ida" --member --data "$data"
expect 0 "user add with --identity and --member"
run user list --sharing --data "$data"
check "...which are kept" grep -qx "carol  $ida  member" "$out"
run user set nobody --member --data "$data"
expect 1 "user set of an unknown user"
check "...names it" said "no user 'nobody'"
run user set alice --identity alice --data "$data"
expect 2 "an identity that is not identity--UUID"
check "...says what is expected" said "identity--UUID"
run user set alice --data "$data"
expect 2 "user set without an attribute"
run user passwd alice --member --data "$data"
expect 2 "--member is not an option of passwd"
run collection add --title Amber --tlp amber --data "$data"
expect 0 "collection add --tlp amber"
amber=$(cat "$out")
run collection set "$amber" --tlp TLP:RED --data "$data"
expect 0 "collection set --tlp TLP:RED"
run collection set "$amber" --tlp purple --data "$data"
expect 2 "an unknown TLP level"
check "...lists the levels" said "amber+strict"
run collection set 00000000-0000-4000-8000-000000000000 --tlp red \
    --data "$data"
expect 1 "collection set of an unknown collection"
run collection set "$amber" --data "$data"
expect 2 "collection set without --tlp"
run collection list --tlp red --data "$data"
expect 2 "--tlp is not an option of list"

# ---- usage ------------------------------------------------------------------------
for args in "user" "user frob" "user add" "user add a b" "user list extra" \
    "token" "token new" "collection" "collection remove" \
    "collection list --title x" "grant alice" "revoke" "user list --bogus"; do
    # shellcheck disable=SC2086
    run $args --data "$data"
    expect 2 "usage error: cairn $args"
    check "usage error for 'cairn $args' says something" [ -s "$err" ]
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
