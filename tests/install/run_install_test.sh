#!/usr/bin/env bash
# tests/install/run_install_test.sh BUILD_DIR SOURCE_DIR -- `cmake --install` into a
# temporary prefix, then use every installed piece from there:
#   the tl command running a script that imports the installed stdlib (sampling.tl);
#   a C program built with `pkg-config --cflags --libs tl`;
#   a CMake project using find_package(tl) and the tl::tl target;
#   the Python package (Debian python3 + python3-numpy) finding libtl.so beside it.
set -euo pipefail
build=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
cmake --install "$build" --prefix "$prefix" >"$tmp/install.log"
for f in bin/tl lib/libtl.so include/tl.h lib/pkgconfig/tl.pc lib/cmake/tl/tlConfig.cmake \
         lib/cmake/tl/tlTargets.cmake share/tl/stdlib/llama.tl lib/python3/dist-packages/tl/__init__.py; do
  [ -e "$prefix/$f" ] || { echo "FAIL: $f was not installed"; exit 1; }
done

# 1. the command, away from the source tree (no TL_PATH): the stdlib beside it
cat >"$tmp/s.tl" <<'TL'
import "sampling"
main { print("ok", 6 * 7) }
TL
out=$(cd "$tmp" && env -u TL_PATH "$prefix/bin/tl" run s.tl)
[ "$out" = "ok 42" ] || { echo "FAIL: installed tl printed: $out"; exit 1; }

# 2. pkg-config
cat >"$tmp/c.c" <<'C'
#include <tl.h>
#include <stdio.h>
int main(void) {
    tl_vm *vm = tl_vm_new();
    tl_val *r = tl_val_new();
    int64_t x = 0;
    if (tl_vm_eval(vm, "main { 6 * 7 }", r) != 0 || tl_val_get_int(r, &x) != 0) return 1;
    printf("%lld\n", (long long)x);
    tl_val_free(r);
    tl_vm_free(vm);
    return 0;
}
C
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
# shellcheck disable=SC2046
cc -o "$tmp/c_pc" "$tmp/c.c" $(pkg-config --cflags --libs tl)
[ "$(LD_LIBRARY_PATH=$prefix/lib "$tmp/c_pc")" = 42 ] || { echo "FAIL: pkg-config program"; exit 1; }
[ "$(pkg-config --modversion tl)" = "$(sed -n 's/^project(tl VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")" ] ||
  { echo "FAIL: tl.pc version"; exit 1; }

# 3. find_package(tl)
mkdir -p "$tmp/cm"
cp "$tmp/c.c" "$tmp/cm/c.c"
cat >"$tmp/cm/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.20)
project(uses_tl C)
find_package(tl 0.1 REQUIRED)
add_executable(c_cmake c.c)
target_link_libraries(c_cmake PRIVATE tl::tl)
CM
cmake -S "$tmp/cm" -B "$tmp/cm/b" -DCMAKE_PREFIX_PATH="$prefix" >"$tmp/cm.log" 2>&1 ||
  { cat "$tmp/cm.log"; echo "FAIL: find_package(tl)"; exit 1; }
cmake --build "$tmp/cm/b" >>"$tmp/cm.log" 2>&1 || { cat "$tmp/cm.log"; exit 1; }
[ "$("$tmp/cm/b/c_cmake")" = 42 ] || { echo "FAIL: find_package program"; exit 1; } # RPATH

# 4. Python (skipped without Debian's numpy)
py=/usr/bin/python3
if "$py" -c 'import numpy' 2>/dev/null; then
  got=$(cd "$tmp" && env -u TL_LIBRARY PYTHONPATH="$prefix/lib/python3/dist-packages" "$py" -c '
import tl
vm = tl.VM()
print(tl.library_path().startswith("'"$prefix"'"), vm.eval("main { sum(ones([2, 3])) }"))')
  [ "$got" = "True 6.0" ] || { echo "FAIL: installed Python package: $got"; exit 1; }
else
  echo "note: no numpy for $py, the Python part was not run"
fi
echo "install test: ok"
