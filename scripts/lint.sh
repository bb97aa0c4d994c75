#!/usr/bin/env bash
# clang-format (always) and clang-tidy (unless --format-only) over the project's sources.
set -euo pipefail
cd "$(dirname "$0")/.."

mapfile -t sources < <(git ls-files 'src/*.cpp' 'src/*.hpp' 'tests/*.cpp' 'tests/*.hpp')
clang-format --dry-run -Werror "${sources[@]}"
echo "lint: clang-format clean (${#sources[@]} files)"

if [ "${1:-}" = "--format-only" ]; then
  exit 0
fi
[ -f build/compile_commands.json ] || cmake --preset release >/dev/null
mapfile -t units < <(git ls-files 'src/*.cpp')
run-clang-tidy -quiet -p build "${units[@]}" 2>/dev/null || clang-tidy -quiet -p build "${units[@]}"
echo "lint: clang-tidy clean"
