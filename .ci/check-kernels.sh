#!/usr/bin/env bash
# Guards the SIMD resampling kernels against silent de-optimisation and against code the CPU
# check does not cover. The kernels are C (Sources/CDarkroomKernels): one body compiled into one
# object once per level with target attributes (darkroom_sse2_*, darkroom_avx2_*, darkroom_avxvnni_*).
# In the release object:
#   - no kernel calls anything (no libcall such as memcpy/memset/fmaf, no out-of-line helper):
#     the only relocations are the object's own constant pools and jump tables;
#   - no level contains FMA instructions (floats must be a multiply then an add, as the scalar
#     Swift reference computes them);
#   - darkroom_sse2_* has no VEX/ymm code (it runs on any x86-64);
#   - darkroom_avx2_* uses ymm vpmaddwd and no AVX-VNNI or AVX-512 (it runs on any AVX2 + FMA CPU);
#   - darkroom_avxvnni_* uses ymm vpdpwssd and no AVX-512.
#
#   .ci/check-kernels.sh            # builds `swift build -c release` first unless SKIP_BUILD=1
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  swift build -c release --product darkroom >/dev/null
fi

OBJ=$(find .build/release/ -path '*CDarkroomKernels.build/kernels.c.o' | sort | head -1)
if [[ -z "$OBJ" ]]; then
  echo "check-kernels: kernel object (CDarkroomKernels.build/kernels.c.o) not found under .build/release" >&2
  exit 1
fi

fail=0
dis=$(objdump -d --no-show-raw-insn -r "$OBJ")
# Disassembly of the functions whose name starts with $1.
funcs() { printf '%s\n' "$dis" | awk -v p="<$1" '/^[0-9a-f]+ </ { on = index($0, p) > 0 } on'; }

# Relocations: only local constant pools / jump tables / sections, nothing external.
bad=$(printf '%s\n' "$dis" | grep -E 'R_X86_64_' | awk '{print $3}' | sed -E 's/[-+]0x[0-9a-f]+$//' | sort -u \
      | grep -vE '^\.(rodata|LCPI|LJTI|text)|^$' || true)
calls=$(printf '%s\n' "$dis" | grep -E '\bcall' || true)
if [[ -n "$bad" || -n "$calls" ]]; then
  echo "check-kernels: FAIL $OBJ calls or references something outside the object:" >&2
  printf '%s\n' "$bad" "$calls" | grep -v '^$' | head -20 >&2
  fail=1
fi
if grep -qE 'vf(n)?m(add|sub)' <<<"$dis"; then
  echo "check-kernels: FAIL $OBJ contains FMA instructions (floating-point contraction must stay off)" >&2
  fail=1
fi

declare -A count
for level in sse2 avx2 avxvnni; do
  body=$(funcs "darkroom_${level}_")
  count[$level]=$(printf '%s\n' "$body" | grep -cE '^[0-9a-f]+ <' || true)
  if [[ "${count[$level]}" == 0 ]]; then
    echo "check-kernels: FAIL no darkroom_${level}_* functions in $OBJ" >&2
    fail=1
    continue
  fi
  case $level in
    sse2)
      if grep -qE '%ymm|%zmm|:\s+v[a-z]' <<<"$body"; then
        echo "check-kernels: FAIL darkroom_sse2_* contains AVX (VEX/ymm) instructions" >&2
        fail=1
      fi
      ;;
    avx2)
      if ! grep -qE 'vpmaddwd.*%ymm' <<<"$body"; then
        echo "check-kernels: FAIL darkroom_avx2_* has no ymm vpmaddwd (is target(\"avx2,fma\") applied?)" >&2
        fail=1
      fi
      if grep -qE 'vpdpw|%zmm|%k[0-7]' <<<"$body"; then
        echo "check-kernels: FAIL darkroom_avx2_* contains AVX-VNNI or AVX-512 code" >&2
        fail=1
      fi
      ;;
    avxvnni)
      if ! grep -qE 'vpdpwssd.*%ymm' <<<"$body"; then
        echo "check-kernels: FAIL darkroom_avxvnni_* has no ymm vpdpwssd (is target(\"avx2,fma,avxvnni\") applied?)" >&2
        fail=1
      fi
      if grep -qE '%zmm|%k[0-7]' <<<"$body"; then
        echo "check-kernels: FAIL darkroom_avxvnni_* contains AVX-512 code" >&2
        fail=1
      fi
      ;;
  esac
done
if [[ $fail == 0 ]]; then
  echo "check-kernels: ok (${count[sse2]} sse2 + ${count[avx2]} avx2 + ${count[avxvnni]} avxvnni kernels in one object, no calls out of it, no FMA; sse2 has no AVX; avx2 uses ymm vpmaddwd and no VNNI/AVX-512; avxvnni uses ymm vpdpwssd and no AVX-512)"
fi
exit $fail
