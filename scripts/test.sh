#!/usr/bin/env bash
# The whole test suite: set-up, build (warnings as errors), every test, then the engine and
# CLI tests again under AddressSanitizer + UndefinedBehaviorSanitizer, then a short fuzz run
# of every loader. Ends with the line "N passed, N failed, N skipped" counted over individual
# test cases.
#   LERF_BUILD_DIR      main build directory (default build)
#   LERF_SANITIZE=0     skip the sanitizer build;  LERF_FUZZ_SECONDS=N (default 15, 0 = skip)
set -uo pipefail
cd "$(dirname "$0")/.."

BUILD=${LERF_BUILD_DIR:-build}
ASAN_BUILD=${BUILD}-asan
FUZZ_SECONDS=${LERF_FUZZ_SECONDS:-15}
EXTRA=$(mktemp)   # "PASS name" / "FAIL name" lines of checks outside meson
trap 'rm -f "$EXTRA"' EXIT

fail_early() { echo "$1"; echo "0 passed, 1 failed"; exit 1; }

bash scripts/setup.sh || fail_early "set-up failed"
[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" || fail_early "meson setup failed"
meson compile -C "$BUILD" || fail_early "build failed"

status=0
meson test -C "$BUILD" --print-errorlogs --num-processes "$(nproc)" || status=1
logs=("$BUILD/meson-logs/testlog.junit.xml")

if [ "${LERF_SANITIZE:-1}" != 0 ]; then
  # -O1 with line tables only (-g1): a third of -O2 -g's compile time on the Eigen and CLI11
  # translation units, and sanitizer reports still name file and line. The Set14 warp
  # quality test (42 LeRF warps, a minute under ASan) runs in the normal build only.
  echo "== engine and CLI tests under ASan + UBSan =="
  if { [ -f "$ASAN_BUILD/build.ninja" ] ||
       meson setup "$ASAN_BUILD" -Doptimization=1 -Ddebug=false -Dc_args=-g1 -Dcpp_args=-g1 \
         -Db_sanitize=address,undefined -Db_lundef=false; } &&
     meson compile -C "$ASAN_BUILD" engine_tests lerf; then
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
      meson test -C "$ASAN_BUILD" engine --no-rebuild --print-errorlogs \
        --test-args=--gtest_filter=-Warp.LerfGBeatsBicubicWhenWarpingSet14 || status=1
    logs+=("$ASAN_BUILD/meson-logs/testlog.junit.xml")
  else
    echo "FAIL sanitizer-build" >>"$EXTRA"; status=1
  fi
fi

if [ "$FUZZ_SECONDS" != 0 ]; then
  echo "== fuzzing the loaders and geometry (${FUZZ_SECONDS}s each) =="
  while IFS= read -r line; do
    echo "$line"
    case "$line" in
      "fuzz "*": ok"*) echo "PASS ${line%%:*}" >>"$EXTRA" ;;
      "fuzz "*": FAILED"*) echo "FAIL ${line%%:*}" >>"$EXTRA"; status=1 ;;
    esac
  done < <(bash scripts/fuzz.sh "$FUZZ_SECONDS" 2>&1)
fi

# Count individual cases from meson's JUnit logs (GoogleTest cases appear one by one).
python3 - "$EXTRA" "${logs[@]}" <<'PY'
import sys, xml.etree.ElementTree as ET
passed = failed = skipped = 0
for path in sys.argv[2:]:
    try:
        root = ET.parse(path).getroot()
    except Exception as e:
        print(f"cannot read test log {path}: {e}")
        failed += 1
        continue
    for case in root.iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
        elif case.find("skipped") is not None:
            skipped += 1
        else:
            passed += 1
    # An executable that crashed before reporting its cases is a suite without cases.
    for suite in root.iter("testsuite"):
        if not list(suite.iter("testcase")) and int(suite.get("failures", 0)) + int(suite.get("errors", 0)) > 0:
            failed += 1
# A test that timed out or crashed may leave no failing case behind: count it from meson's
# own per-test results (testlog.json beside each JUnit log).
import json, os
broken = 0
for path in sys.argv[2:]:
    try:
        for line in open(os.path.join(os.path.dirname(path), "testlog.json")):
            if json.loads(line).get("result") not in ("OK", "SKIP", "EXPECTEDFAIL"):
                broken += 1
    except Exception:
        pass
if broken and failed == 0:
    failed = broken
for line in open(sys.argv[1]):
    passed += line.startswith("PASS ")
    failed += line.startswith("FAIL ")
print(f"{passed} passed, {failed} failed, {skipped} skipped")
PY
exit $status
