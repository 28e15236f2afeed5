#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Fails when a banned C function is called anywhere in the tree:
# sprintf, strcpy, strcat, atoi, gets, strtok (use snprintf, explicit
# lengths, strtol with checks, and hand-written splitting instead).
set -u
cd "$(dirname "$0")/.." || exit 2
found=$(grep -rnE '(^|[^_a-zA-Z0-9.>])(sprintf|strcpy|strcat|atoi|gets|strtok)\(' \
    --include='*.c' --include='*.h' src cli include tests fuzz bench 2>/dev/null)
if [ -n "$found" ]; then
    echo "banned functions in use:"
    echo "$found"
    exit 1
fi
echo "no banned functions"
