#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Fails when a module includes the public header of a module above it, or
# another module's internal header (docs/ARCHITECTURE.md: one direction
# only). Order, lowest first:
#   base stix pattern store hunt feed taxii server
set -u
cd "$(dirname "$0")/.." || exit 2

rank() {
    case $1 in
    base | error | cairn) echo 0 ;;
    stix) echo 1 ;;
    pattern) echo 2 ;;
    store) echo 3 ;;
    hunt | telemetry | analysis) echo 4 ;;
    feed) echo 5 ;;
    taxii) echo 6 ;;
    server) echo 7 ;;
    *) echo 99 ;;
    esac
}

out=$(mktemp)
trap 'rm -f "$out"' EXIT
for dir in src/*/; do
    mod=$(basename "$dir")
    mine=$(rank "$mod")
    for f in "$dir"*.c "$dir"*.h; do
        [ -e "$f" ] || continue
        grep -oE '#include "[^"]+"' "$f" | sed 's/#include "//; s/"$//' |
            while read -r inc; do
                case $inc in
                cairn/cairn.h)
                    # Only the library's version file sees everything.
                    if [ "$f" != src/base/version.c ]; then
                        echo "$f: includes cairn/cairn.h (all modules)"
                        echo bad
                    fi ;;
                cairn/*.h)
                    h=$(basename "$inc" .h)
                    if [ "$(rank "$h")" -gt "$mine" ]; then
                        echo "$f: includes $inc, a module above $mod"
                        echo bad
                    fi ;;
                */*_int.h | */*int.h)
                    if [ "${inc%%/*}" != "$mod" ]; then
                        echo "$f: includes $inc, another module's internals"
                        echo bad
                    fi ;;
                esac
            done
    done
done >"$out"
if grep -q '^bad$' "$out"; then
    grep -v '^bad$' "$out"
    exit 1
fi
echo "module layering respected"
