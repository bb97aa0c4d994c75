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
[ -f build/compile_commands.json ] || cmake --preset release >/dev/null
mapfile -t units < <(git ls-files 'src/*.cpp')
report=$(mktemp)
database=$(mktemp -d)
trap 'rm -rf "$report" "$database"' EXIT
# One compile command per source: cloudtime-vm compiles ~40 sources a second time with other
# flags (fmt header-only, sections), and clang-tidy would analyse each of them twice.
python3 - build/compile_commands.json "$database/compile_commands.json" <<'PY'
import json, sys
entries = json.load(open(sys.argv[1]))
chosen = {}
for e in entries:
    if e["file"] not in chosen or "cloudtime-vm.dir" in chosen[e["file"]]["command"]:
        chosen[e["file"]] = e
json.dump(list(chosen.values()), open(sys.argv[2], "w"))
PY
status=0
run-clang-tidy -quiet -p "$database" "${units[@]}" >"$report" 2>&1 || status=$?
if [ "$status" -ne 0 ]; then
  # Only the diagnostics: the per-file command lines are noise.
  grep -E 'warning:|error:|note:|^\s' "$report" | grep -v -E '^\s*$' >&2 || cat "$report" >&2
  echo "lint: clang-tidy found problems" >&2
  exit 1
fi
echo "lint: clang-tidy clean (${#units[@]} files)"
