#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Fails when the static library defines a global symbol outside cairn's
# namespace: public functions are cairn_*, functions shared between the
# files of the library are cairn__* (STYLE.md), everything else is static.
#
#   scripts/check-symbols.sh build/libcairn.a
set -u
lib=${1:?usage: check-symbols.sh LIBCAIRN.a}
syms=$(nm -g --defined-only "$lib") || exit 2
# Names starting with "__" are the compiler's (sanitizer and coverage
# instrumentation such as __odr_asan.NAME), not ours.
bad=$(printf '%s\n' "$syms" |
    awk 'NF == 3 && $2 ~ /^[TDBRVWGS]$/ && $3 !~ /^cairn_/ && $3 !~ /^__/ {
        print $3 }' |
    sort -u)
if [ -n "$bad" ]; then
    echo "global symbols outside the cairn_ / cairn__ namespace:"
    echo "$bad"
    exit 1
fi
echo "every global symbol is cairn_* or cairn__*"
