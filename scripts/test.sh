#!/usr/bin/env bash
# The whole test suite: set-up, build (warnings as errors), every test; ends with the line
# "N passed, N failed" counted over individual test cases (GoogleTest cases and scripts).
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh || { echo "0 passed, 1 failed"; exit 1; }

BUILD=${LERF_BUILD_DIR:-build}
if [ ! -f "$BUILD/build.ninja" ]; then
  meson setup "$BUILD" || { echo "0 passed, 1 failed"; exit 1; }
fi
if ! meson compile -C "$BUILD"; then
  echo "build failed"
  echo "0 passed, 1 failed"
  exit 1
fi

meson test -C "$BUILD" --print-errorlogs --num-processes "$(nproc)" ${LERF_TEST_ARGS:-}
status=$?

# Count individual cases from meson's JUnit log (GoogleTest cases appear one by one).
python3 - "$BUILD/meson-logs/testlog.junit.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except Exception as e:
    print(f"cannot read test log: {e}")
    print("0 passed, 1 failed")
    sys.exit(0)
passed = failed = skipped = 0
for case in root.iter("testcase"):
    if case.find("failure") is not None or case.find("error") is not None:
        failed += 1
    elif case.find("skipped") is not None:
        skipped += 1
    else:
        passed += 1
# A test executable that crashed before reporting its cases shows as a suite-level failure.
for suite in root.iter("testsuite"):
    if not list(suite.iter("testcase")) and int(suite.get("failures", 0)) + int(suite.get("errors", 0)) > 0:
        failed += 1
print(f"{passed} passed, {failed} failed, {skipped} skipped")
PY
exit $status
