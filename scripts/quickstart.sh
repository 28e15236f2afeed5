#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# From a fresh checkout: install what is missing, build a release cairn in
# build/, and validate every STIX 2.1 example of the reference data with it.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
examples=${CAIRN_REF:-$here/../shared/ref}/stix2-json-schemas/examples

"$here/scripts/install-deps.sh"
log=$here/build/quickstart-build.log
mkdir -p "$here/build"
if ! { cmake -S "$here" -B "$here/build" -DCMAKE_BUILD_TYPE=Release &&
    cmake --build "$here/build" -j2 --target cairn; } >"$log" 2>&1; then
    tail -30 "$log"
    echo "build failed; the whole log is in $log" >&2
    exit 1
fi
echo "built $("$here/build/cairn" --version)"

if [ ! -d "$examples" ]; then
    echo "no examples at $examples (set CAIRN_REF to the reference data)" >&2
    exit 2
fi
status=0
# Findings go to stdout, one summary line per file to stderr.
echo "validating every example under $examples:"
cd "$examples"
find . -name '*.json' -exec "$here/build/cairn" validate {} + 2>&1 ||
    status=$?
if [ "$status" -eq 0 ]; then
    echo "all examples are valid STIX 2.1"
else
    echo "some examples did not validate (exit $status)"
fi
exit "$status"
