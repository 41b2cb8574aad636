#!/usr/bin/env bash
# scripts/cross_aarch64.sh -- build tl for aarch64 (no x86 kernels: the scalar
# reference kernels everywhere) and run the whole ctest suite under qemu-user.
# Installs what it needs on Debian 12 (as root or with sudo): the cross compiler,
# qemu-user and the arm64 builds of the libraries tl links.
# Usage: bash scripts/cross_aarch64.sh [ctest options, e.g. -R script/]
# .ci/run excludes unit/test_gguf_quantize (too slow under qemu; docs/platforms.md).
# Tests needing models read $TL_TEST_MODELS (default ../shared/models) and report
# SKIPPED without them.  Exits non-zero when any test fails.
set -euo pipefail
cd "$(dirname "$0")/.."
B=build-aarch64
MODELS="${TL_TEST_MODELS:-$(cd .. && pwd)/shared/models}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
LIBS="libjansson-dev:arm64 libffi-dev:arm64 libcmocka-dev:arm64 libcurl4-openssl-dev:arm64 libedit-dev:arm64"
if ! command -v aarch64-linux-gnu-gcc >/dev/null || ! command -v qemu-aarch64 >/dev/null ||
   ! dpkg-query -W libjansson-dev:arm64 >/dev/null 2>&1; then
  $SUDO dpkg --add-architecture arm64
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends \
    gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user $LIBS
fi
cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTL_TEST_MODELS="$MODELS" \
  -DCMAKE_TOOLCHAIN_FILE="$PWD/scripts/aarch64-linux-gnu.cmake"
cmake --build "$B" -j"$(nproc)"
# The tests' shell scripts run `tl` and `pull_make_gguf` themselves: put a qemu
# wrapper in their place (ctest runs the other executables through qemu itself).
for exe in "$B/tl" "$B/tests/pull_make_gguf"; do
  if ! head -c 2 "$exe" | grep -q '#!'; then
    mv "$exe" "$exe.aarch64"
    printf '#!/bin/sh\nexec qemu-aarch64 "%s" "$@"\n' \
      "$PWD/$exe.aarch64" >"$exe"
    chmod +x "$exe"
  fi
done
# an aarch64 ELF (e_machine 183 = 0xb7), not a host binary
[ "$(od -An -tx1 -j18 -N2 "$B/tl.aarch64" | tr -d ' ')" = b700 ] || { echo "$B/tl is not aarch64" >&2; exit 1; }
TL_TEST_MODELS="$MODELS" ctest --test-dir "$B" --output-on-failure -j"$(nproc)" "$@"
