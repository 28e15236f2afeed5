#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Install what is missing, build, and run the whole test suite.
#
#   scripts/test.sh
#   BUILD_DIR=build-asan CAIRN_CMAKE_FLAGS="-DCAIRN_SANITIZE=ON" scripts/test.sh
#
# BUILD_DIR (default build) is relative to the source tree unless absolute;
# CAIRN_CMAKE_FLAGS are passed to cmake as they are (split at blanks);
# CAIRN_TEST_JOBS is how many tests run at once (processors + 2).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-build}
case $build in /*) ;; *) build=$here/$build ;; esac

"$here/scripts/install-deps.sh"
# shellcheck disable=SC2086
cmake -S "$here" -B "$build" ${CAIRN_CMAKE_FLAGS:-}
cmake --build "$build" -j2
# Two more tests than processors: many of them spend their time waiting
# on servers they started, and every test passes on a loaded machine.
ctest --test-dir "$build" --output-on-failure \
    -j"${CAIRN_TEST_JOBS:-$(($(nproc) + 2))}"
