#!/bin/sh
# Building against an installed helhost: cmake --install into a prefix that
# is then moved, a program built with pkg-config and one with find_package,
# both auto-starting the installed emulator.
set -u
build=$1 src=$2
fail=0
check() { if [ "$2" = "$3" ]; then echo "ok: $1"; else echo "FAIL: $1 (expected $2, got $3)"; fail=1; fi; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/first" >/dev/null; check "cmake --install" 0 $?
mv "$work/first" "$work/prefix"
prefix=$work/prefix

cc "$src/examples/hello/hello.c" $(PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config --cflags --libs hel) \
	-Wl,-rpath,"$prefix/lib" -o "$work/hello-pc"; check "built with pkg-config" 0 $?
env -u HELHOST_EMULATOR "$work/hello-pc" >"$work/out" 2>&1; check "it runs" 0 $?
grep -q "done in" "$work/out"; check "and finishes" 0 $?

# hel.pc alone says where libhel is at run time (its rpath): no -Wl,-rpath here.
cc "$src/examples/hello/hello.c" $(PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config --cflags --libs hel) \
	-o "$work/hello-rpath"; check "built with pkg-config alone" 0 $?
env -u HELHOST_EMULATOR -u LD_LIBRARY_PATH "$work/hello-rpath" >"$work/out" 2>&1
check "it finds libhel by the rpath hel.pc gives" 0 $?
grep -q "done in" "$work/out"; check "and finishes" 0 $?

# The guide the installed headers refer to, and the headers they name.
grep -q "share/doc/helhost/GUIDE.md" "$prefix/include/helhost.h" && test -s "$prefix/share/doc/helhost/GUIDE.md"
check "the guide is installed where helhost.h says" 0 $?
test -s "$prefix/include/helhost-queue.h" && test -s "$prefix/include/helhost-check.h"
check "helhost-queue.h and helhost-check.h are installed" 0 $?

mkdir "$work/proj"
cat >"$work/proj/CMakeLists.txt" <<'EOC'
cmake_minimum_required(VERSION 3.20)
project(uses_helhost C)
find_package(helhost REQUIRED)
add_executable(hello-cmake hello.c)
target_link_libraries(hello-cmake PRIVATE helhost::hel)
set_target_properties(hello-cmake PROPERTIES BUILD_RPATH "${helhost_DIR}/../..")
EOC
cp "$src/examples/hello/hello.c" "$work/proj/"
cmake -S "$work/proj" -B "$work/proj/build" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null 2>&1 &&
	cmake --build "$work/proj/build" >/dev/null 2>&1; check "built with find_package(helhost)" 0 $?
env -u HELHOST_EMULATOR "$work/proj/build/hello-cmake" >"$work/out" 2>&1; check "it runs" 0 $?

# Managarm's <sys/auxv.h> and peekauxval from the compatibility library.
cat >"$work/auxv.c" <<'EOC'
#include <stdio.h>
#include <sys/auxv.h>
int main(void)
{
	unsigned long xpipe = 0, page = 0;
	if (peekauxval(AT_XPIPE, &xpipe) || !xpipe || peekauxval(AT_PAGESZ, &page) || !page)
		return 1;
	puts("xpipe ok");
	return 0;
}
EOC
cc "$work/auxv.c" $(PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config --cflags --libs helhost-managarm) \
	-Wl,-rpath,"$prefix/lib" -o "$work/auxv"; check "built with pkg-config helhost-managarm" 0 $?
env -u HELHOST_EMULATOR HELHOST_AUXV=AT_XPIPE=+install.xpipe "$work/auxv" >"$work/out" 2>&1
check "peekauxval(AT_XPIPE) gives a lane" 0 $?
exit $fail
