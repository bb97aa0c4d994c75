#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# clang-format (always), the kernel-calls rule (only src/sys, net, tls and http touch the kernel)
# and clang-tidy (unless --format-only) over the project's sources.
set -euo pipefail
cd "$(dirname "$0")/.."

mapfile -t sources < <(git ls-files 'src/*.cpp' 'src/*.hpp' 'tests/*.cpp' 'tests/*.hpp' 'fuzz/*.cpp')
clang-format --dry-run -Werror "${sources[@]}"
echo "lint: clang-format clean (${#sources[@]} files)"
python3 scripts/kernel_calls.py
# Every tracked file that can hold a comment says its license (the text: LICENSE,
# debian/copyright); data files, JSON and the files whose format allows no comment are covered
# by debian/copyright's "Files: *".
unlicensed=$(git ls-files -z | grep -z -v -E \
  '^(LICENSE|debian/(changelog|copyright|source/format|[^/]*\.install|[^/]*\.lintian-overrides))$|^fuzz/corpus/|\.json$' |
  xargs -0 grep -L 'SPDX-License-Identifier: Apache-2.0' || true)
if [ -n "$unlicensed" ]; then
  printf 'lint: no "SPDX-License-Identifier: Apache-2.0" line in:\n%s\n' "$unlicensed" >&2
  exit 1
fi
echo "lint: every source file carries its SPDX license line"

if [ "${1:-}" = "--format-only" ]; then
  exit 0
fi
# clang-tidy reads the unity build's batches (CMake's, as the release build compiles them), each
# joined into one file so that every source's code is main-file code, as when it is read alone
# (scripts/lint_batches.py says why): the headers every source includes are parsed and walked
# once per batch instead of once per source, half the CPU time. The canary batch first proves
# that this clang-tidy reports a finding in any source of a batch, at its line.
cmake --preset release -B build-lint -DCMAKE_UNITY_BUILD=ON >/dev/null
python3 scripts/lint_batches.py self-check build-lint/canary
read_as=$(python3 scripts/lint_batches.py write build-lint build-lint/batches)
report=$(mktemp)
trap 'rm -f "$report"' EXIT
status=0
run-clang-tidy -quiet -p build-lint/batches >"$report" 2>&1 || status=$?
if [ "$status" -ne 0 ]; then
  # Only the diagnostics, at the sources' lines: the per-file command lines are noise.
  { grep -E 'warning:|error:|note:|^\s' "$report" | grep -v -E '^\s*$' || cat "$report"; } |
    python3 scripts/lint_batches.py translate build-lint/batches >&2
  echo "lint: clang-tidy found problems" >&2
  exit 1
fi
echo "lint: clang-tidy clean ($read_as)"
