#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs each libFuzzer target for SECONDS (default 30) from its seed corpus in
# fuzz/corpus/<target>/ (new inputs go to a scratch copy). The targets are built by CMake in the
# asan preset's tree (clang, ASan+UBSan, fuzz/CMakeLists.txt), from the libraries the tests use.
#   fuzz/run.sh [SECONDS] [TARGET...]            build the asan tree's targets, then run
#   fuzz/run.sh --run-only SECONDS [TARGET...]   run what the asan tree holds (scripts/test.sh)
# The targets run one per core at a time (libFuzzer runs one thread); each is run by
# `fuzz/run.sh --one TARGET SECONDS`. Findings are saved as build-asan/fuzz/<target>-*.
set -euo pipefail
self="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
cd "$(dirname "$0")/.."
out=build-asan/fuzz
one=""
build=yes
case "${1:-}" in
--one) one=$2; seconds=$3; build="" ;;
--run-only) build=""; shift ;;
esac
if [ -z "$one" ]; then
  seconds=${1:-30}
  shift || true
fi
case "$seconds" in
'' | *[!0-9]*) echo "fuzz: SECONDS must be a whole number, not '$seconds'" >&2; exit 64 ;;
esac
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(packet decision leap_seconds chrony_reply nova_request report
                                     http_request config nts_ke nts_fields etcd_answer nts_key_set
                                     tenant_messages vendordata_messages)

if [ -n "$build" ]; then
  cmake --preset asan >/dev/null
  cmake --build --preset asan --target "${targets[@]/%/_fuzz}"
fi

run_one() {
  local target=$1 scratch status=0
  [ -x "$out/${target}_fuzz" ] || { echo "fuzz: $out/${target}_fuzz is not built" >&2; return 1; }
  scratch=$(mktemp -d)
  cp fuzz/corpus/"$target"/* "$scratch"/
  "$out/${target}_fuzz" -max_total_time="$seconds" -max_len=2048 -print_final_stats=1 \
    -artifact_prefix="$out/${target}-" "$scratch" >"$out/${target}_fuzz.log" 2>&1 || status=$?
  rm -rf "$scratch"
  return "$status"
}
if [ -n "$one" ]; then
  status=0
  run_one "$one" || status=$?
  echo "$status" >"$out/${one}_fuzz.status"
  exit 0
fi

for target in "${targets[@]}"; do
  [ -x "$out/${target}_fuzz" ] || { echo "fuzz: $out/${target}_fuzz is not built" >&2; exit 1; }
done
rm -f "$out"/*_fuzz.status
printf '%s\n' "${targets[@]}" | xargs -P "$(nproc)" -I{} "$self" --one {} "$seconds"
for target in "${targets[@]}"; do
  echo "fuzz: ${target} for ${seconds} s"
  log="$out/${target}_fuzz.log"
  grep -E '^(stat::number_of_executed_units|==|SUMMARY|#.*DONE)' "$log" || true
  if [ "$(cat "$out/${target}_fuzz.status" 2>/dev/null)" != 0 ]; then
    tail -n 40 "$log" >&2
    echo "fuzz: ${target} found a problem (input saved as $out/${target}-*)" >&2
    exit 1
  fi
done
echo "fuzz: all targets ran ${seconds} s without a finding"
