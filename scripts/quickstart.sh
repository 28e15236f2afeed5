#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# From a fresh checkout: install what is missing, build a release cairn in
# build/, check the STIX 2.1 examples in examples/stix, load them and
# SUNBURST's published indicators (examples/sunburst-fireeye) into the
# embedded store, and serve them over TAXII 2.1 on 127.0.0.1 until Ctrl-C.
#
#   scripts/quickstart.sh              # data in cairn's default directory
#   CAIRN_DATA_DIR=/tmp/c scripts/quickstart.sh
#   CAIRN_QUICKSTART_SERVE=no scripts/quickstart.sh   # set up, do not serve
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
examples=$here/examples/stix
sunburst=$here/examples/sunburst-fireeye
cairn=$here/build/cairn

"$here/scripts/install-deps.sh"
log=$here/build/quickstart-build.log
mkdir -p "$here/build"
if ! { cmake -S "$here" -B "$here/build" -DCMAKE_BUILD_TYPE=Release &&
    cmake --build "$here/build" -j2 --target cairn; } >"$log" 2>&1; then
    tail -30 "$log"
    echo "build failed; the whole log is in $log" >&2
    exit 1
fi
echo "built $("$cairn" --version)"

echo
echo "== 1. validate every STIX 2.1 example under $examples"
(cd "$examples" && find . -name '*.json' | sort | xargs "$cairn" validate)

echo
echo "== 2. a user, and the default collection of the embedded store"
user=quickstart
if ! "$cairn" user list 2>/dev/null | grep -qx "$user"; then
    password=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
    printf '%s\n' "$password" | "$cairn" user add "$user"
    echo "created user '$user' with password $password (shown once)"
else
    password="(the one shown when it was created)"
    echo "user '$user' exists already"
fi
collection=$("$cairn" collection list | awk '$3 == "default" { print $1; exit }')
"$cairn" grant "$user" "$collection" --read --write

echo
echo "== 3. load the examples, then SUNBURST's indicators, into it"
find "$examples" -name '*.json' | sort |
    xargs "$cairn" import --collection "$collection"
for csv in "$sunburst"/Indicator_Release_NBIs.csv \
    "$sunburst"/Indicator_Release_Hashes.csv; do
    "$cairn" feed import --format fireeye --into "$collection" "$csv"
done

echo
echo "== 4. serve them over TAXII 2.1 (Ctrl-C stops the server)"
cat <<EOF
Try, from another terminal:
  curl -u $user:PASSWORD -H 'Accept: application/taxii+json;version=2.1' \\
      'http://127.0.0.1:6543/api1/collections/$collection/objects/?limit=5'
where PASSWORD is $password
EOF
if [ "${CAIRN_QUICKSTART_SERVE:-yes}" = no ]; then
    exit 0
fi
exec "$cairn" serve
