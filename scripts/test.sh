#!/usr/bin/env bash
# The whole test suite, as CI runs it: install what is missing, clang-format and clang-tidy,
# build with warnings as errors, run unit and integration tests, then again under ASan and
# UBSan; a short libFuzzer run comes before the builds. Each step says how long it took.
set -euo pipefail
cd "$(dirname "$0")/.."

step() {
  local start=$SECONDS
  "$@"
  echo "test.sh: '$*' took $((SECONDS - start)) s (suite at $SECONDS s)"
}

step ./scripts/bootstrap.sh

# The VM tests' images are built meanwhile (debootstrap mostly waits for the mirror, dpkg and
# the disk while the lint keeps the cores busy); the tests wait for them below.
images_log=$(mktemp)
asan_log=$(mktemp)
setsid bash -c 'cd tests/integration && exec /usr/bin/python3 prepare_images.py' \
  >"$images_log" 2>&1 &
images=$!
asan_build=""
cleanup() {
  kill -- -"$images" 2>/dev/null || true
  [ -z "$asan_build" ] || kill -- -"$asan_build" 2>/dev/null || true
  rm -f "$images_log" "$asan_log"
}
trap cleanup EXIT

step cmake --preset release
step ./scripts/lint.sh
# A short, bounded fuzz run of every parser target (longer runs: fuzz/run.sh SECONDS).
step ./fuzz/run.sh 20
step cmake --build --preset release

# The ASan build runs at the lowest priority beside the release tests: it takes the CPU their
# waits leave idle (the VM tests' guests waiting for their clients, the tests' sleeps) and
# yields it at once to everything else.
step cmake --preset asan
setsid nice -n 19 cmake --build --preset asan >"$asan_log" 2>&1 &
asan_build=$!

# Not fatal here: a test that needs an image builds what is missing and says why it cannot.
wait "$images" || true
cat "$images_log"
step ctest --preset release

asan_wait() {
  local status=0
  wait "$asan_build" || status=$?
  asan_build=""
  tail -n 5 "$asan_log"
  if [ "$status" -ne 0 ]; then
    grep -E 'error|FAILED' "$asan_log" | head -n 40 >&2 || true
    return "$status"
  fi
}
step asan_wait
step ctest --preset asan
