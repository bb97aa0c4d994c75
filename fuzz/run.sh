#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan+UBSan) and runs each for SECONDS (default 30)
# from its seed corpus in fuzz/corpus/<target>/ (new inputs go to a scratch copy).
#   fuzz/run.sh [SECONDS] [TARGET...]            build, then run (default: every target)
#   fuzz/run.sh --build-only [TARGET...]         build only (scripts/test.sh, in the background)
#   fuzz/run.sh --run-only SECONDS [TARGET...]   run what --build-only built
# The targets run one per core at a time (libFuzzer runs one thread); each is run by
# `fuzz/run.sh --one TARGET SECONDS`, once every target is linked.
set -euo pipefail
self="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
cd "$(dirname "$0")/.."
one=""
build=yes
run=yes
case "${1:-}" in
--one) one=$2; shift 2 ;;
--build-only) run=""; shift ;;
--run-only) build=""; shift ;;
esac
if [ -n "$run" ]; then
  seconds=${1:-30}
  shift || true
fi
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(packet decision leap_seconds chrony_reply nova_request report
                                     http_request config nts_ke nts_fields)
out=build-fuzz
mkdir -p "$out"
proto=(src/proto/*.cpp)
cloud=(src/cloud/nova_request.cpp src/cloud/time_policy.cpp src/cloud/instance_metadata.cpp)
check=(src/check/report.cpp src/check/check_result.cpp)
# The embedded default config and the vendordata's script, made as CMake makes them.
sys=(src/sys/socket_address.cpp src/sys/text_file.cpp src/sys/fd.cpp)
cloudall=(src/cloud/*.cpp "$out/time_setup_script.cpp")
config=(src/config/*.cpp "$out/default_config.cpp" "${cloudall[@]}")
# Every source is compiled once, one per core at a time, with the same flags for every target (the
# libraries as they ship: Debian's compiled toml++ and spdlog with its external fmt); each
# target then links only what it needs.
flags=(-std=c++20 -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -Isrc
       -DTOML_HEADER_ONLY=0 -DTOML_SHARED_LIB=1 -DSPDLOG_COMPILED_LIB -DSPDLOG_FMT_EXTERNAL)
libs=(-ltomlplusplus -lspdlog -lfmt -lcrypto)
sources_of() {
  case "$1" in
    http_request) echo "${proto[@]} src/sys/http_request.cpp src/daemon/vendordata_endpoint.cpp" \
                       "${cloudall[@]} ${sys[@]}" ;;
    config) echo "${proto[@]} ${config[@]} ${sys[@]}" ;;
    *) echo "${proto[@]} ${cloud[@]} ${check[@]}" ;;
  esac
}
object_of() { local name=${1#"$out"/}; echo "$out/obj/${name%.cpp}.o"; }
if [ -z "$one" ] && [ -n "$build" ]; then
python3 - "$out" <<'PY'
import pathlib, sys
out = pathlib.Path(sys.argv[1])
for template, source, key in (("src/config/default_config.cpp.in", "src/config/default.toml",
                               "CLOUDTIME_DEFAULT_CONFIG"),
                              ("src/cloud/time_setup_script.cpp.in", "src/cloud/time_setup.sh",
                               "CLOUDTIME_TIME_SETUP")):
    text = pathlib.Path(template).read_text().replace("@" + key + "@",
                                                      pathlib.Path(source).read_text())
    (out / pathlib.Path(template).name.removesuffix(".in")).write_text(text)
PY
all_sources=$(for target in "${targets[@]}"; do sources_of "$target"; done | tr ' ' '\n' |
              sort -u)
export out
export -f object_of
printf '%s\n' $all_sources | xargs -P "$(nproc)" -I{} bash -c '
  o=$(object_of "$1"); mkdir -p "$(dirname "$o")"
  clang++ "${@:2}" -fsanitize=fuzzer-no-link -c "$1" -o "$o"' _ {} "${flags[@]}"
fi

link() {
  local target=$1 objects=() source
  for source in $(sources_of "$target"); do objects+=("$(object_of "$source")"); done
  clang++ "${flags[@]}" -fsanitize=fuzzer "fuzz/${target}_fuzz.cpp" "${objects[@]}" "${libs[@]}" \
    -o "$out/${target}_fuzz"
}
if [ -z "$one" ] && [ -n "$build" ]; then
  failed=0
  running=0
  for target in "${targets[@]}"; do  # one link per core at a time
    if [ "$running" -ge "$(nproc)" ]; then
      wait -n || failed=1
      running=$((running - 1))
    fi
    link "$target" &
    running=$((running + 1))
  done
  while [ "$running" -gt 0 ]; do
    wait -n || failed=1
    running=$((running - 1))
  done
  [ "$failed" -eq 0 ] || { echo "fuzz: linking a target failed" >&2; exit 1; }
  echo "fuzz: ${#targets[@]} targets built in $out"
  [ -n "$run" ] || exit 0
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
