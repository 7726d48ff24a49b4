#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) and runs each for SECONDS (default 60)
# from its seed corpus in tests/fuzz/corpus/<target>. Prints "fuzz <target>: ok|FAILED".
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
set -uo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET=${1:-60}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(fuzz_npy fuzz_model_json fuzz_geometry fuzz_safetensors)
OUT=${LERF_FUZZ_DIR:-build-fuzz}
mkdir -p "$OUT"

CXXFLAGS=(-std=c++20 -O1 -gline-tables-only -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
          -Iengine/include -Iengine/src -Iengine -isystem /usr/include/eigen3)
LINKFLAGS=(-fsanitize=fuzzer,address,undefined -lpthread $(pkg-config --libs libhwy 2>/dev/null))
# The targets drive the CPU backend directly: no Engine front door, no Vulkan.
# *_avx2.cpp files get their ISA from the command line: clang ignores the GCC target pragma
# those files use under GCC (the run-time dispatch still checks the CPU).
ENGINE_SRC=($(ls engine/src/*.cpp engine/src/cpu/*.cpp | grep -v "/engine.cpp$"))
mkdir -p "$OUT/obj"
objects=()
for src in "${ENGINE_SRC[@]}"; do objects+=("$OUT/obj/$(echo "$src" | tr / _).o"); done
if ! printf '%s\n' "${ENGINE_SRC[@]}" | xargs -P "$(nproc)" -I{} sh -c \
     'dir=$1 src=$2; shift 2; o="$dir/obj/$(echo "$src" | tr / _).o"; isa=""
      case "$src" in *_avx2.cpp) isa="-mavx2 -mfma";; esac
      [ "$o" -nt "$src" ] || clang++ "$@" $isa -c "$src" -o "$o"' \
     _ "$OUT" {} "${CXXFLAGS[@]}" \
     2>"$OUT/engine.build.log"; then
  echo "fuzz engine build: FAILED (see $OUT/engine.build.log)"; tail -5 "$OUT/engine.build.log"
  for t in "${TARGETS[@]}"; do echo "fuzz $t: FAILED (engine build)"; done
  exit 1
fi
status=0
for t in "${TARGETS[@]}"; do
  if ! clang++ "${CXXFLAGS[@]}" "tests/fuzz/$t.cpp" "${objects[@]}" "${LINKFLAGS[@]}" -o "$OUT/$t" 2>"$OUT/$t.build.log"; then
    echo "fuzz $t: FAILED (build, see $OUT/$t.build.log)"; tail -5 "$OUT/$t.build.log"; status=1; continue
  fi
  work=$(mktemp -d)
  if "$OUT/$t" -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
       -artifact_prefix="$OUT/$t-" "$work" "tests/fuzz/corpus/$t" >"$OUT/$t.log" 2>&1; then
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$OUT/$t.log" | grep -o '[0-9]*$')
    echo "fuzz $t: ok (${SECONDS_PER_TARGET}s, ${runs:-?} runs, no findings)"
  else
    echo "fuzz $t: FAILED (see $OUT/$t.log)"; grep -m5 -E "ERROR|SUMMARY|runtime error" "$OUT/$t.log"; status=1
  fi
  rm -rf "$work"
done
exit $status
