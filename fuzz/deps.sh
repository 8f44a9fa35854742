#!/bin/sh
# What the fuzz targets need beyond scripts/deps.sh (which brings clang,
# OpenSSL and Lua): the libFuzzer runtime. Checked by what matters, whether
# clang links a fuzzer, and installed with apt-get when it does not.
set -eu
sh scripts/deps.sh
CC=${FUZZ_CC:-clang}
probe() {
    echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void) d; return (int) n * 0; }' |
        "$CC" -x c -fsanitize=fuzzer,address,undefined - -o /dev/null 2>/dev/null
}
probe && exit 0
PKG=libclang-rt-$("$CC" -dumpversion | cut -d. -f1)-dev
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
echo "fuzz deps: installing $PKG (libFuzzer runtime)"
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$PKG" >/dev/null
probe || { echo "fuzz deps: $CC still cannot link -fsanitize=fuzzer" >&2; exit 1; }
