#!/bin/sh
# Installs what `make bench` compares against and plots with (Debian/Ubuntu):
# LuaSocket, LuaSec and copas as baselines, gnuplot for the PNG, nginx with
# lua-nginx-module (and wrk) for the socket.httpd workload. That module
# pulls libluajit2-5.1-2: never Debian's luajit/libluajit-5.1-dev, which
# conflict with it (scripts/deps.sh installs luajit2 for the LuaJIT builds). The
# baselines live in Debian's system paths; netsocket's suite and bench put
# build/ first in LUA_CPATH, so they never shadow it.
set -e
need=""
for p in lua-socket lua-sec lua-copas gnuplot-nox nginx libnginx-mod-http-lua wrk; do
    dpkg -s "$p" >/dev/null 2>&1 || need="$need $p"
done
[ -z "$need" ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
    echo "bench/setup.sh: not Debian; install by hand:$need (the bench runs without what is missing)" >&2
    exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "bench/setup.sh: installing$need"
$SUDO apt-get install -y --no-install-recommends $need >/dev/null || {
    $SUDO apt-get update >/dev/null && $SUDO apt-get install -y --no-install-recommends $need >/dev/null
} || echo "bench/setup.sh: could not install$need (the bench runs without it)" >&2
