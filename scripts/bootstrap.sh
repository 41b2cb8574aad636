#!/bin/sh
# scripts/bootstrap.sh -- install the Debian 12 packages tl needs, then
# configure and build into ./build (Release with debug info).
# Usage: sh scripts/bootstrap.sh [extra cmake -D options]
set -eu
cd "$(dirname "$0")/.."
PKGS="build-essential cmake re2c lemon libcmocka-dev libffi-dev libjansson-dev libedit-dev
      libcurl4-openssl-dev python3-numpy valgrind chromium parallel pkg-config"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends $missing
fi
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@"
cmake --build build -j"$(nproc)"
