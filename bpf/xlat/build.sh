#!/usr/bin/env bash
# Builds the translator (xlat.o, BPF) and its test runner (xlat-test-run, host)
# into dist/bpf/. Needs clang and libbpf-dev; no root. Without clang it says
# so and exits 0 unless XLAT_BUILD_REQUIRED=1: the rest of calico-ts builds and
# runs without the translator (only address spaces need it; their kernel
# tests skip with this reason).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/../../dist/bpf}"
mkdir -p "$out"
if ! command -v clang >/dev/null 2>&1 || [ ! -e /usr/include/bpf/bpf_helpers.h ]; then
  echo "xlat: clang or libbpf-dev missing; translator not built (install clang llvm libbpf-dev)" >&2
  [ "${XLAT_BUILD_REQUIRED:-0}" = 1 ] && exit 1
  exit 0
fi
arch_inc="/usr/include/$(uname -m)-linux-gnu"
# -g: BTF for the maps (libbpf needs it for BTF-defined maps); -O2: the verifier needs inlined code.
clang -O2 -g -Wall -Werror -target bpf -I"$arch_inc" -c "$here/xlat.c" -o "$out/xlat.o.tmp"
mv "$out/xlat.o.tmp" "$out/xlat.o"
clang -O2 -Wall -Werror -o "$out/xlat-test-run.tmp" "$here/test-run.c" -lbpf
mv "$out/xlat-test-run.tmp" "$out/xlat-test-run"
echo "xlat: built $out/xlat.o and $out/xlat-test-run"
