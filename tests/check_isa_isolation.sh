#!/usr/bin/env bash
# The AVX2 + FMA build of the implicit fast path (engine/src/cpu/implicit_fast_avx2.cpp) must
# keep every AVX instruction inside its own namespaces (lerf::cpu::avx2, EigenAvx2): a VEX
# instruction in any other function (a std:: or lerf:: inline function instantiated there)
# could be the copy the linker keeps for the baseline code, and crash CPUs without AVX2.
# Usage: check_isa_isolation.sh ENGINE_STATIC_LIBRARY
set -euo pipefail
lib=$1
command -v objdump >/dev/null || { echo "no objdump: skipped"; exit 77; }
member=$(ar t "$lib" | grep 'implicit_fast_avx2' || true)
[ -n "$member" ] || { echo "no implicit_fast_avx2 object in $lib: skipped (not an x86-64 build?)"; exit 77; }
# meson builds thin archives: the member is the object file's path (relative to the archive)
obj=$member
[ -f "$obj" ] || obj="$(dirname "$lib")/$member"
[ -f "$obj" ] || { echo "FAIL: cannot find the object $member"; exit 1; }
total=$(objdump -d --no-show-raw-insn -C "$obj" | grep -cE '\s(v[a-z0-9]+)\s' || true)
leaks=$(objdump -d --no-show-raw-insn -C "$obj" |
  awk '/^[0-9a-f]+ <.*>:$/ { fn = $0 } /\tv[a-z0-9]+ / { print fn }' | sort -u |
  grep -vE 'EigenAvx2|lerf::cpu::avx2' || true)
if [ "$total" -eq 0 ]; then echo "FAIL: no AVX instruction at all in $member (the build lost its target)"; exit 1; fi
if [ -n "$leaks" ]; then echo "FAIL: AVX instructions outside the avx2 namespaces:"; echo "$leaks"; exit 1; fi
echo "ok: $total AVX instructions, all inside lerf::cpu::avx2 / EigenAvx2"
