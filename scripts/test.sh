#!/usr/bin/env bash
# The whole test suite, as CI runs it: install what is missing, clang-format and clang-tidy,
# build with warnings as errors, run unit and integration tests, then again under ASan and
# UBSan.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/bootstrap.sh

cmake --preset release
./scripts/lint.sh
cmake --build --preset release
ctest --preset release

cmake --preset asan
cmake --build --preset asan
ctest --preset asan
