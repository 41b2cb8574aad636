# scripts/aarch64-linux-gnu.cmake -- CMake toolchain for a Debian cross build to
# aarch64 (gcc-aarch64-linux-gnu, the :arm64 -dev packages, qemu-user to run).
# Used by scripts/cross_aarch64.sh.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER) # re2c, lemon, python3 run on the host
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
# ctest runs the test executables through qemu with the arm64 multiarch glibc
# (libc6:arm64): its loader /lib/ld-linux-aarch64.so.1 and the libraries in
# /lib/aarch64-linux-gnu.  No -L /usr/aarch64-linux-gnu: that would pair the cross
# sysroot's ld.so (libc6-arm64-cross) with the multiarch libc.so.6 the loader finds
# through ld.so.cache -- two glibc builds whose private loader data differ, which
# made pthread_create loop forever walking the thread-stack cache
# (test_vm_isolation hung; docs/aarch64.md).
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64)
# Never pick up the host's x86-64 libraries or headers.
set(CMAKE_IGNORE_PATH /usr/lib/x86_64-linux-gnu /lib/x86_64-linux-gnu /usr/include/x86_64-linux-gnu)
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig)
