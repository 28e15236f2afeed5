#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Fails when a module includes the public header of a module above it, or
# another module's internal header (docs/ARCHITECTURE.md: one direction
# only). Order, lowest first:
#   base stix sign pattern values store telemetry hunt archive analysis feed
#   export taxii console server
set -u
cd "$(dirname "$0")/.." || exit 2

rank() {
    case $1 in
    base | error | cairn) echo 0 ;;
    stix) echo 1 ;;
    sign) echo 2 ;;
    pattern) echo 3 ;;
    values) echo 4 ;;
    store) echo 5 ;;
    telemetry) echo 6 ;;
    hunt) echo 7 ;;
    archive) echo 8 ;;
    analysis) echo 9 ;;
    feed) echo 10 ;;
    export) echo 11 ;;
    taxii) echo 12 ;;
    console) echo 13 ;;
    server) echo 14 ;;
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
# The public headers keep the same order: values.h below telemetry.h below
# hunt.h, and so on.
for f in include/cairn/*.h; do
    h=$(basename "$f" .h)
    mine=$(rank "$h")
    grep -oE '#include "cairn/[^"]+"' "$f" | sed 's/#include "cairn\///; s/\.h"$//' |
        while read -r inc; do
            [ "$inc" = cairn ] && continue
            if [ "$(rank "$inc")" -gt "$mine" ] && [ "$h" != cairn ]; then
                echo "$f: includes cairn/$inc.h, a module above $h"
                echo bad
            fi
        done
done >>"$out"
if grep -q '^bad$' "$out"; then
    grep -v '^bad$' "$out"
    exit 1
fi
echo "module layering respected"
