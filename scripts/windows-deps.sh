#!/bin/sh
# Installs what the Windows cross-build needs (issue 16): the mingw-w64
# compiler, Wine to run the result, and the Debian source packages that the
# Windows Lua, OpenSSL and busted's C modules are built from.
# Usage: windows-deps.sh [SRCDIR]   (default build/win64-src); safe to rerun.
set -eu

SRC=${1:-build/win64-src}
PKGS="gcc-mingw-w64-x86-64 wine64 dpkg-dev make perl lua5.4 lua-busted"

# Source packages: OpenSSL, busted's C deps and, without the shared tarball,
# Lua itself. Each is unpacked once into $SRC/<name>-*/.
SRCPKGS="openssl lua-filesystem lua-system lua-term"

SUDO=""
if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "windows-deps: need root or sudo" >&2; exit 1; }
    SUDO=sudo
fi
APT="$SUDO apt-get -o DPkg::Lock::Timeout=600"
export DEBIAN_FRONTEND=noninteractive

missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
        || missing="$missing $p"
done
updated=""
if [ -n "$missing" ]; then
    echo "windows-deps: installing:$missing"
    $APT update -qq
    updated=yes
    # shellcheck disable=SC2086
    $APT install -y -qq --no-install-recommends $missing >/dev/null
fi

# The Windows Lua comes from the lua-5.4.8 tarball that sits in shared/ beside
# the checkout when there is one (the checkout may be a worktree one level
# deeper); else from Debian's lua5.4 source package.
tarball=""
dir=$(pwd)
while [ "$dir" != / ]; do
    if [ -f "$dir/shared/lua/lua-5.4.8.tar.gz" ]; then tarball="$dir/shared/lua/lua-5.4.8.tar.gz"; break; fi
    dir=$(dirname "$dir")
done
mkdir -p "$SRC"
if [ -n "$tarball" ]; then
    [ -d "$SRC/lua-5.4.8" ] || tar -xzf "$tarball" -C "$SRC"
    echo "windows-deps: Lua from $tarball"
else
    SRCPKGS="$SRCPKGS lua5.4"
    echo "windows-deps: no shared/lua/lua-5.4.8.tar.gz: Lua from Debian's lua5.4 source package"
fi

need=""
for p in $SRCPKGS; do
    { ls -d "$SRC/$p"-[0-9]*/ >/dev/null 2>&1 || [ -e "$SRC/.nosource-$p" ]; } || need="$need $p"
done
if [ -n "$need" ]; then
    # apt-get source needs deb-src lines; add them once, next to the deb ones.
    if ! grep -rqsE '^(deb-src|Types:.*deb-src)' /etc/apt/sources.list /etc/apt/sources.list.d/; then
        echo "windows-deps: adding deb-src entries (/etc/apt/sources.list.d/netsocket-src.sources) for apt-get source"
        codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
        $SUDO sh -c "cat > /etc/apt/sources.list.d/netsocket-src.sources" <<SRCS
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: $codename $codename-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: $codename-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRCS
        updated=""
    fi
    [ -n "$updated" ] || $APT update -qq
    for p in $need; do
        # The newest version listed may be missing from the mirror (a
        # security update newer than its snapshot): try each, newest first.
        # When only the upstream tarball can be had, unpack that (Debian's
        # patches don't matter for a cross-build).
        got=""
        for v in "" $(apt-cache showsrc "$p" | sed -n 's/^Version: //p' | sort -rV); do
            echo "windows-deps: apt-get source $p${v:+=$v}"
            if (cd "$SRC" && apt-get source -qq "$p${v:+=$v}" >/dev/null 2>&1); then got=yes; break; fi
            orig=$(ls "$SRC/${p}_"*.orig.tar.* 2>/dev/null | grep -v '\.asc$' | head -1 || true)
            if [ -n "$orig" ]; then
                echo "windows-deps: only $(basename "$orig") could be fetched: unpacking it without Debian's patches"
                ver=$(basename "$orig" | sed "s/^${p}_//; s/\.orig\.tar\..*//")
                mkdir -p "$SRC/$p-$ver"
                tar -xf "$orig" -C "$SRC/$p-$ver" --strip-components=1
                got=yes; break
            fi
            rm -f "$SRC/${p}_"*
        done
        # busted's lua-system is small enough to stand in for (mk/windows.mk
        # builds tools/win_system.c when its source cannot be had).
        if [ -z "$got" ]; then
            echo "windows-deps: warning: no source for $p could be fetched (not retried: rm $SRC/.nosource-$p)" >&2
            : > "$SRC/.nosource-$p"
        fi
    done
fi
# Stable names for the makefile (mk/windows.mk): lua (the directory holding
# lapi.c: the tarball is flat, Debian's tree has src/), openssl, lfs, term.
link() { [ -n "$2" ] && ln -sfn "$(cd "$(dirname "$2")" && pwd)/$(basename "$2")" "$SRC/$1"; }
link lua "$(dirname "$(find "$SRC"/lua-5.4* -name lapi.c | head -1)")"
link openssl "$(ls -d "$SRC"/openssl-[0-9]* 2>/dev/null | head -1)"
link lfs "$(ls -d "$SRC"/lua-filesystem-[0-9]* 2>/dev/null | head -1)"
link term "$(ls -d "$SRC"/lua-term-[0-9]* 2>/dev/null | head -1)"
link system "$(ls -d "$SRC"/lua-system-[0-9]* 2>/dev/null | head -1)" || true

# Wine wants a prefix before its first real run; making it here keeps that
# one-time cost (and its chatter) out of the build and the tests.
WINEDEBUG=-all /usr/lib/wine/wine64 cmd /c exit >/dev/null 2>&1 || true
exit 0
