#!/usr/bin/env bash
# clang-format (always), the kernel-calls rule (only src/sys touches the kernel) and clang-tidy
# (unless --format-only) over the project's sources.
set -euo pipefail
cd "$(dirname "$0")/.."

mapfile -t sources < <(git ls-files 'src/*.cpp' 'src/*.hpp' 'tests/*.cpp' 'tests/*.hpp')
clang-format --dry-run -Werror "${sources[@]}"
echo "lint: clang-format clean (${#sources[@]} files)"
python3 scripts/kernel_calls.py

if [ "${1:-}" = "--format-only" ]; then
  exit 0
fi
# Each source's own compile command, from a tree configured for that alone (a unity build's
# commands name its batches, not the sources); configuring it takes seconds, nothing is built.
cmake --preset release -B build-lint -DCMAKE_UNITY_BUILD=OFF >/dev/null
mapfile -t units < <(git ls-files 'src/*.cpp')
report=$(mktemp)
trap 'rm -f "$report"' EXIT
status=0
run-clang-tidy -quiet -p build-lint "${units[@]}" >"$report" 2>&1 || status=$?
if [ "$status" -ne 0 ]; then
  # Only the diagnostics: the per-file command lines are noise.
  grep -E 'warning:|error:|note:|^\s' "$report" | grep -v -E '^\s*$' >&2 || cat "$report" >&2
  echo "lint: clang-tidy found problems" >&2
  exit 1
fi
echo "lint: clang-tidy clean (${#units[@]} files)"
