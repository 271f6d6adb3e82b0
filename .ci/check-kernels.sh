#!/usr/bin/env bash
# Guard against silent de-optimisation of the SIMD resampling kernels (see
# /work/shared/research/swift-feasibility.md, section 2 "Traps"): in the release objects of the three
# kernel modules no kernel may call anything outside its own module (an out-of-line stdlib SIMD
# helper, an fmaf libcall, a Swift runtime call), the baseline module must contain no VEX/ymm code (it runs on any x86-64), and the
# AVX2 module must really be AVX2 code and the VNNI module AVX-VNNI code (no AVX-512).
#
#   .ci/check-kernels.sh            # builds `swift build -c release` first unless SKIP_BUILD=1
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  swift build -c release --product darkroom >/dev/null
fi

BASE=$(find .build/release/ -path '*DarkroomKernels.build/*.o' | sort)
AVX2=$(find .build/release/ -path '*DarkroomKernelsAVX2.build/*.o' | sort)
VNNI=$(find .build/release/ -path '*DarkroomKernelsVNNI.build/*.o' | sort)
if [[ -z "$BASE" || -z "$AVX2" || -z "$VNNI" ]]; then
  echo "check-kernels: kernel object files not found under .build/release" >&2
  exit 1
fi

fail=0
for obj in $BASE $AVX2 $VNNI; do
  case "$obj" in *AVX2*) own='$s19DarkroomKernelsAVX2' ;; *VNNI*) own='$s19DarkroomKernelsVNNI' ;; *) own='$s15DarkroomKernels' ;; esac
  dis=$(objdump -d --no-show-raw-insn -r "$obj")
  # Every relocated call/jump target must be a kernel of the same module (one entry point may
  # call a sibling kernel once per row); anything else is an out-of-line helper, a libcall
  # (fmaf, memcpy) or a Swift runtime call.
  targets=$(printf '%s\n' "$dis" | grep -E 'R_X86_64_(PLT32|PC32|GOTPCREL[X]?|REX_GOTPCRELX)' | awk '{print $3}' \
            | sed -E 's/[-+]0x[0-9a-f]+$//' | sort -u)
  bad=$(printf '%s\n' "$targets" | grep -v -F "$own" | grep -vE '^\.(rodata|LCPI|text)|^$' || true)
  calls_in_text=$(printf '%s\n' "$dis" | grep -E '\bcall' | grep -v -F "$own" || true)
  if [[ -n "$bad" || -n "$calls_in_text" ]]; then
    echo "check-kernels: FAIL $obj calls out of the kernel module:" >&2
    printf '%s\n' "$bad" "$calls_in_text" | grep -v '^$' | head -20 >&2
    fail=1
  fi
  if printf '%s\n' "$dis" | grep -qE 'fmaf|pointwiseM|swift_'; then
    echo "check-kernels: FAIL $obj references fmaf/pointwiseMin/Max or the Swift runtime" >&2
    fail=1
  fi
done
for obj in $BASE; do
  if objdump -d --no-show-raw-insn "$obj" | grep -E '%ymm|\bv(pmadd|padd|pmovzx|broadcast)' >/dev/null; then
    echo "check-kernels: FAIL baseline module $obj contains AVX (VEX/ymm) instructions" >&2
    fail=1
  fi
done
for obj in $AVX2; do
  n=$(objdump -d --no-show-raw-insn "$obj" | grep -c 'vpmaddwd.*%ymm' || true)
  if [[ "$n" == 0 ]]; then
    echo "check-kernels: FAIL AVX2 module $obj has no ymm vpmaddwd (was it built with -target-cpu haswell?)" >&2
    fail=1
  fi
done
for obj in $VNNI; do
  n=$(objdump -d --no-show-raw-insn "$obj" | grep -c 'vpdpwssd.*%ymm' || true)
  if [[ "$n" == 0 ]]; then
    echo "check-kernels: FAIL VNNI module $obj has no ymm vpdpwssd (was it built with -target-cpu alderlake?)" >&2
    fail=1
  fi
  if objdump -d --no-show-raw-insn "$obj" | grep -qE '%zmm|%k[0-7]'; then
    echo "check-kernels: FAIL VNNI module $obj contains AVX-512 code" >&2
    fail=1
  fi
done
if [[ $fail == 0 ]]; then
  n=$(objdump -d $BASE $AVX2 $VNNI | grep -cE '^[0-9a-f]+ <')
  echo "check-kernels: ok ($n kernel symbols, no calls out of the kernel modules; baseline has no AVX; AVX2 module uses ymm vpmaddwd; VNNI module uses ymm vpdpwssd)"
fi
exit $fail
