#!/bin/sh
# Installs the Debian packages the build, the tests, the demo and the lint need.
# Called by the Makefile when something is missing; safe to run again.
set -eu

PKGS="lua5.4 liblua5.4-dev lua-busted luarocks pkg-config make gcc clang \
libssl-dev openssl socat curl lua-check cppcheck lua-sec python3 \
python3-aiosmtpd python3-pyftpdlib valgrind strace"

missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
        || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

SUDO=""
if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "deps: need root or sudo to install:$missing" >&2; exit 1; }
    SUDO=sudo
fi
echo "deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
