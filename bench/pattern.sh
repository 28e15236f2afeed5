#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Pattern benchmarks (see bench/bench_pattern.c). Usage:
#   sh bench/pattern.sh [BUILD-DIR]     (default: build; a Release-like build)
# Prints patterns parsed per second over a mix of ten realistic patterns,
# observations evaluated per second by a ten-comparison pattern over
# 1,000,000 observations, and the time of
# [x:a < 20] REPEATS 10 TIMES WITHIN 8 SECONDS over 10,000 observations.
# No OASIS Python baseline is run: the stix2-patterns and stix2-matcher
# packages are not installable here. Their published figures (about 0.3 ms
# per small case; seconds for REPEATS ... WITHIN) are quoted in
# docs/patterns.md.
set -eu
build=${1:-build}
"$build/bench/bench_pattern" 1000000 1000000 10000
