#!/usr/bin/env bash
# The whole test suite, as CI runs it: install what is missing, clang-format and clang-tidy,
# build with warnings as errors, run unit and integration tests, then again under ASan and
# UBSan; a short libFuzzer run comes before the builds.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/bootstrap.sh

cmake --preset release
./scripts/lint.sh
# A short, bounded fuzz run of every parser target (longer runs: fuzz/run.sh SECONDS).
./fuzz/run.sh 20
cmake --build --preset release
ctest --preset release

cmake --preset asan
cmake --build --preset asan
ctest --preset asan
