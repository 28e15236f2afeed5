#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Fails when docs/cairn.1 differs from what `cairn help --man` generates
# (run `cmake --build build --target man` to regenerate it).
set -u
cairn=$1
page=$2
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
"$cairn" help --man >"$tmp" || exit 1
if ! diff -u "$page" "$tmp"; then
    echo "docs/cairn.1 is out of date: cmake --build build --target man"
    exit 1
fi
echo "docs/cairn.1 matches the command table"
