#!/bin/sh
# Installs what the build, the tests, the demo and the lint need: Debian's
# packages, plus what one interpreter needs (default lua5.4):
#   sh scripts/deps.sh [lua5.1|lua5.2|lua5.3|lua5.4|lua5.5|luajit|all]
# LuaJIT is OpenResty's branch (luajit2, libluajit2-5.1-dev): Debian's luajit
# and libluajit-5.1-dev conflict with libluajit2-5.1-2, which nginx's Lua
# module needs. Lua 5.5 is not in Debian 12: scripts/lua55.sh builds it.
# Called by the Makefile when something is missing; safe to run again.
set -eu

PKGS="lua5.4 liblua5.4-dev lua-busted luarocks pkg-config make gcc clang \
libssl-dev openssl socat curl lua-check cppcheck lua-sec python3 \
python3-aiosmtpd python3-pyftpdlib valgrind strace zip wrk apache2-utils"

want=${1:-lua5.4}
[ "$want" = all ] && want="lua5.1 lua5.2 lua5.3 lua5.4 lua5.5 luajit"
lua55=""
for v in $want; do
    case "$v" in
        lua5.1) PKGS="$PKGS lua5.1 liblua5.1-0-dev" ;;
        lua5.2|lua5.3|lua5.4) PKGS="$PKGS $v lib$v-dev" ;;
        luajit) PKGS="$PKGS luajit2 libluajit2-5.1-dev" ;;
        lua5.5) lua55=yes; PKGS="$PKGS dpkg-dev xz-utils" ;;
        *) ;;   # another interpreter: nothing to install for it
    esac
done

missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
        || missing="$missing $p"
done
if [ -n "$missing" ]; then
    SUDO=""
    if [ "$(id -u)" != 0 ]; then
        command -v sudo >/dev/null 2>&1 || { echo "deps: need root or sudo to install:$missing" >&2; exit 1; }
        SUDO=sudo
    fi
    echo "deps: installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
    # shellcheck disable=SC2086
    $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $missing >/dev/null
fi

[ -z "$lua55" ] || sh "$(dirname "$0")/lua55.sh"
