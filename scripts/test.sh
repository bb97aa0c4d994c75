#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The whole test suite, as CI runs it: install what is missing, build with warnings as errors,
# run unit and integration tests, again under ASan and UBSan, clang-format and clang-tidy, and
# a short libFuzzer run of every parser target. At its end, one table: every step, its
# seconds, and the total.
#   scripts/test.sh           the default tier (CI's; docs/testing.md says what is in it)
#   scripts/test.sh --full    everything, with what the default tier leaves out
#
# Two cores, one critical path: the release build, then the tests in the foreground; the ASan
# build (with the fuzz targets) and clang-tidy in the background at nice 19, where they take
# only the CPU the tests leave idle (guests waiting for their NTP clients, the tests' sleeps)
# and yield it at once to the tests, whose timing checks must not see a busy machine.
set -euo pipefail
cd "$(dirname "$0")/.."

tier=default
case "${1:-}" in
"") ;;
--full) tier=full ;;
*) echo "usage: scripts/test.sh [--full]" >&2; exit 64 ;;
esac
export CLOUDTIME_TEST_TIER=$tier

suite_start=$SECONDS
names=()
seconds=()
results=()
background=()
logs=()

table() {
  local status=$? i total=$((SECONDS - suite_start))
  echo
  echo "test.sh ($tier tier): steps and their seconds (background steps ran beside the others)"
  printf '  %-56s %8s  %s\n' step seconds result
  for i in "${!names[@]}"; do
    printf '  %-56s %8s  %s\n' "${names[$i]}" "${seconds[$i]}" "${results[$i]}"
  done
  printf '  %-56s %8s  %s\n' total "$total" "$([ "$status" -eq 0 ] && echo passed || echo "FAILED (exit $status)")"
  for pid in "${background[@]}"; do kill -- -"$pid" 2>/dev/null || true; done
  rm -f "${logs[@]}"
}
trap table EXIT

record() {  # NAME START STATUS
  names+=("$1")
  seconds+=($((SECONDS - $2)))
  results+=("$([ "$3" -eq 0 ] && echo ok || echo "failed ($3)")")
}

# step NAME COMMAND...: in the foreground; a failure ends the suite.
step() {
  local name=$1 start=$SECONDS status=0
  shift
  echo "test.sh: $name"
  "$@" || status=$?
  record "$name" "$start" "$status"
  echo "test.sh: $name took $((SECONDS - start)) s (suite at $((SECONDS - suite_start)) s)"
  return "$status"
}

# spawn VAR NAME NICENESS COMMAND...: NAME in the background, its own process group, its
# output in a log; VAR gets the pid. `finish VAR` waits for it and records it.
declare -A started log_of name_of
spawn() {
  local var=$1 name=$2 niceness=$3 log
  shift 3
  log=$(mktemp)
  logs+=("$log")
  setsid nice -n "$niceness" "$@" >"$log" 2>&1 &
  printf -v "$var" '%s' "$!"
  background+=("$!")
  started[$!]=$SECONDS
  log_of[$!]=$log
  name_of[$!]=$name
  echo "test.sh: $name started in the background"
}
finish() {
  local pid=${!1} status=0 line
  wait "$pid" || status=$?
  # Its parts' own lines ("background: NAME took N s") become rows of their own.
  while IFS= read -r line; do
    names+=("  ${line% took *} (background)")
    line=${line##* took }
    seconds+=("${line% s}")
    results+=(ok)
  done < <(sed -n 's/^background: \(.* took [0-9]* s\)$/\1/p' "${log_of[$pid]}")
  record "${name_of[$pid]} (background)" "${started[$pid]}" "$status"
  if [ "$status" -ne 0 ]; then
    tail -n 60 "${log_of[$pid]}" >&2
    echo "test.sh: ${name_of[$pid]} failed (exit $status)" >&2
    return "$status"
  fi
  tail -n 5 "${log_of[$pid]}"
}

step "bootstrap (the build's packages)" ./scripts/bootstrap.sh --build

# While the release build runs: the tests' peers and tools (apt mostly waits for the mirror),
# then the test images (debootstrap mostly waits for the mirror, dpkg and the disk), at nice 10:
# at nice 0 they slowed the release build from 304 s to 500-580 s here, and they are needed
# only after the tests without guests. The tests wait for the peers below; those that boot an
# image wait for it, or build what is missing themselves and say why they cannot.
rm -f build/.suite-peers
peers_and_images() {
  set -euo pipefail
  local start=$SECONDS
  ./scripts/bootstrap.sh --test
  if [ "$CLOUDTIME_TEST_TIER" = full ]; then
    ./scripts/bootstrap.sh --cloud  # the real OpenStack's packages (tests/openstack)
  fi
  echo "background: the tests' packages took $((SECONDS - start)) s"
  mkdir -p build && touch build/.suite-peers
  start=$SECONDS
  (cd tests/integration && /usr/bin/python3 prepare_images.py)
  echo "background: test images took $((SECONDS - start)) s"
}
export -f peers_and_images
spawn images "the tests' packages, test images" 10 bash -c peers_and_images

# The release tree is also the Debian package's build (the package test packages it instead of
# compiling it again: debian/rules, CLOUDTIME_BUILD_TREE): installed under /usr, with Debian's
# build flags (hardening=+all, as debian/rules asks) before the preset's own, and a unity build
# as the package's (~40 % less compile time; the tests' own sources stay one by one). clang-tidy
# reads each source alone from a tree of its own (scripts/lint.sh).
package_build_flags() {
  local cxx cpp ld
  cxx=$(DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --get CXXFLAGS)
  cpp=$(DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --get CPPFLAGS)
  ld=$(DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --get LDFLAGS)
  cmake --preset release -DCMAKE_INSTALL_PREFIX=/usr -DCMAKE_INSTALL_SYSCONFDIR=/etc \
    -DCMAKE_INSTALL_LOCALSTATEDIR=/var -DCMAKE_INSTALL_RUNSTATEDIR=/run \
    "-DCMAKE_CXX_FLAGS=$cxx $cpp" "-DCMAKE_EXE_LINKER_FLAGS=$ld" -DCMAKE_UNITY_BUILD=ON
}
step "configure release" package_build_flags
step "build release" cmake --build --preset release

# The ASan build (clang, one source at a time: it also proves each source compiles alone, and
# it builds the fuzz targets from the same objects), then clang-tidy: one after the other in
# the background.
background_builds() {
  set -euo pipefail
  local start=$SECONDS
  # A tree made before the preset moved to clang: CMake cannot change a tree's compiler.
  if [ -e build-asan/CMakeCache.txt ] &&
    ! grep -q '^CMAKE_CXX_COMPILER:.*clang++$' build-asan/CMakeCache.txt; then
    rm -rf build-asan
  fi
  cmake --preset asan >/dev/null
  cmake --build --preset asan
  echo "background: asan build took $((SECONDS - start)) s"
  touch build-asan/.suite-built
  start=$SECONDS
  ./scripts/lint.sh
  echo "background: lint took $((SECONDS - start)) s"
}
export -f background_builds
rm -f build-asan/.suite-built
spawn builds "asan build, lint" 19 bash -c background_builds

# wait_for FILE VAR: until FILE exists; fails, with the log of the background step whose pid
# is in VAR, when that step ended without making it.
wait_for() {
  while [ ! -e "$1" ]; do
    if ! kill -0 "${!2}" 2>/dev/null; then
      [ -e "$1" ] && break
      echo "test.sh: the background step that makes $1 ended without it" >&2
      finish "$2" || true
      return 1
    fi
    sleep 2
  done
}
step "wait for the tests' packages" wait_for build/.suite-peers images
step "non-image tests (release)" ctest --preset release -LE image
finish images || true  # a test that needs an image builds it and says why it could not
step "image tests (release)" ctest --preset release -L image
step "wait for the asan build" wait_for build-asan/.suite-built builds
step "tests (asan)" ctest --preset asan
# A short, bounded fuzz run of every parser target (longer runs: fuzz/run.sh SECONDS).
step "fuzz (20 s a target)" ./fuzz/run.sh --run-only 20
step "wait for lint" finish builds
