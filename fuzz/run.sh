#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan+UBSan) and runs each for SECONDS (default 30)
# from its seed corpus in fuzz/corpus/<target>/ (new inputs go to a scratch copy).
#   fuzz/run.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
out=build-fuzz
mkdir -p "$out"
proto=(src/proto/*.cpp)
cloud=(src/cloud/nova_request.cpp src/cloud/time_policy.cpp)
check=(src/check/report.cpp src/check/check_result.cpp)
for target in packet decision leap_seconds chrony_reply nova_request report; do
  clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
    -Isrc "fuzz/${target}_fuzz.cpp" "${proto[@]}" "${cloud[@]}" "${check[@]}" -lcrypto -o "$out/${target}_fuzz"
  scratch=$(mktemp -d)
  cp fuzz/corpus/"$target"/* "$scratch"/
  echo "fuzz: ${target} for ${seconds} s"
  log="$out/${target}_fuzz.log"
  status=0
  "$out/${target}_fuzz" -max_total_time="$seconds" -max_len=2048 -print_final_stats=1 \
    -artifact_prefix="$out/${target}-" "$scratch" >"$log" 2>&1 || status=$?
  rm -rf "$scratch"
  grep -E '^(stat::number_of_executed_units|==|SUMMARY|#.*DONE)' "$log" || true
  if [ "$status" -ne 0 ]; then
    tail -n 40 "$log" >&2
    echo "fuzz: ${target} found a problem (input saved as $out/${target}-*)" >&2
    exit 1
  fi
done
echo "fuzz: all targets ran ${seconds} s without a finding"
