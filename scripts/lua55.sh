#!/bin/sh
# Lua 5.5 for `make LUA=lua5.5` (Debian 12 has none), in build-deps/lua5.5
# (LUA55_DIR): bin/lua5.5, include/, and lib/ with the C modules busted
# needs (lfs, term.core, system.core), built against the 5.5 headers from
# Debian's source packages. busted and its pure-Lua modules are Debian's
# (their 5.4 directory, on LUA_PATH). Safe to run again: done steps are kept.
#   sh scripts/lua55.sh           build what is missing
#   sh scripts/lua55.sh tarball   print the Lua 5.5 source tarball found, if any
# The interpreter comes from lua-5.5.0.tar.gz in shared/lua/ beside the
# checkout (LUA55_TARBALL overrides), else from the lua5.5 on PATH.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR=${LUA55_DIR:-$ROOT/build-deps/lua5.5}
CC=${CC:-gcc}

# The checkout is a sibling of shared/ (a CI clone has a copy beside it); a
# git worktree's main checkout is the sibling, so try that too.
find_tarball() {
    common=$(git -C "$ROOT" rev-parse --path-format=absolute --git-common-dir 2>/dev/null || true)
    for t in "${LUA55_TARBALL:-}" "$ROOT/../shared/lua/lua-5.5.0.tar.gz" \
             ${common:+"$common/../../shared/lua/lua-5.5.0.tar.gz"}; do
        if [ -n "$t" ] && [ -f "$t" ]; then
            echo "$(cd "$(dirname "$t")" && pwd)/$(basename "$t")"
            return 0
        fi
    done
    return 1
}

if [ "${1:-}" = tarball ]; then
    find_tarball || true
    exit 0
fi

SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo

interpreter() {
    [ -x "$DIR/bin/lua5.5" ] && [ -f "$DIR/include/lua.h" ] && return 0
    mkdir -p "$DIR/bin" "$DIR/include" "$DIR/src"
    if tb=$(find_tarball); then
        echo "lua55: building Lua 5.5 from $tb into $DIR"
        rm -rf "$DIR/src/lua"
        mkdir -p "$DIR/src/lua"
        tar xzf "$tb" -C "$DIR/src/lua" --strip-components=1
        src="$DIR/src/lua"
        [ -f "$src/onelua.c" ] || src="$src/src"
        $CC -O2 -std=c99 -DLUA_USE_LINUX -Wl,-E -o "$DIR/bin/lua5.5" "$src/onelua.c" -ldl -lm
    elif bin=$(command -v lua5.5); then
        prefix=$(dirname "$(dirname "$bin")")
        src=""
        for d in "$prefix/include/lua5.5" "$prefix/include/lua-5.5" "$prefix/include"; do
            if [ -f "$d/lua.h" ] && grep -q 'LUA_VERSION_NUM.*505' "$d/lua.h"; then src=$d; break; fi
        done
        [ -n "$src" ] || { echo "lua55: $bin has no Lua 5.5 headers under $prefix/include" >&2; exit 1; }
        echo "lua55: no lua-5.5.0.tar.gz in shared/lua/ beside the checkout: using $bin and the headers in $src"
        ln -sf "$bin" "$DIR/bin/lua5.5"
    else
        echo "lua55: Lua 5.5 is not available: no lua-5.5.0.tar.gz in shared/lua/ beside the checkout" \
             "(nor LUA55_TARBALL), and no lua5.5 on PATH" >&2
        exit 1
    fi
    for h in lua.h luaconf.h lualib.h lauxlib.h; do cp "$src/$h" "$DIR/include/"; done
}

# apt-get source needs a deb-src entry: add one beside Debian's own.
debsrc() {
    grep -rqsE '^(Types:.*deb-src|deb-src )' /etc/apt/sources.list /etc/apt/sources.list.d/ && return 0
    out=/etc/apt/sources.list.d/netsocket-src.sources
    echo "lua55: adding a deb-src entry ($out) so that apt-get source works"
    if [ -f /etc/apt/sources.list.d/debian.sources ]; then
        sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources | $SUDO tee "$out" >/dev/null
    else
        out=/etc/apt/sources.list.d/netsocket-src.list
        sed -n 's/^deb /deb-src /p' /etc/apt/sources.list | $SUDO tee "$out" >/dev/null
    fi
    $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
}

# Unpacks Debian's source of package $1 into $DIR/src/$1 (the upstream
# tarball: these packages build their C module unpatched). Fails quietly
# when the source cannot be fetched.
source_of() {
    [ -d "$DIR/src/$1" ] && return 0
    (cd "$DIR/src" && apt-get source --download-only -qq "$1" >/dev/null 2>&1) || true
    orig=$(ls "$DIR/src/$1"_*.orig.tar.* 2>/dev/null | head -n 1)
    [ -n "$orig" ] || return 1
    mkdir -p "$DIR/src/$1"
    tar xf "$orig" -C "$DIR/src/$1" --strip-components=1
}

# module <package> <output under lib/> <sources relative to the package>
module() {
    pkg=$1 out=$DIR/lib/$2
    shift 2
    [ -f "$out" ] && return 0
    source_of "$pkg" || return 1
    mkdir -p "$(dirname "$out")"
    files=""
    for f in "$@"; do files="$files $DIR/src/$pkg/$f"; done
    echo "lua55: building $out from Debian's $pkg"
    # shellcheck disable=SC2086
    $CC -O2 -fPIC -shared -I"$DIR/include" -I"$DIR/src/$pkg/src" $files -o "$out" \
        || { echo "lua55: building $out failed" >&2; exit 1; }
}

interpreter
debsrc
# lfs 1.8.0 refuses versions after 5.4 where it checks a FILE*; 5.5's
# luaL_Stream is 5.4's, so its 5.2-5.4 branch serves 5.5.
if source_of lua-filesystem; then
    sed -i 's/LUA_VERSION_NUM <= 504/LUA_VERSION_NUM <= 505/' "$DIR/src/lua-filesystem/src/lfs.c"
fi
module lua-filesystem lfs.so src/lfs.c \
    || { echo "lua55: cannot fetch Debian's lua-filesystem source" >&2; exit 1; }
module lua-term term/core.so core.c \
    || { echo "lua55: cannot fetch Debian's lua-term source" >&2; exit 1; }
if ! module lua-system system/core.so src/core.c src/time.c src/compat.c; then
    # The three functions busted calls (gettime, monotime, sleep).
    echo "lua55: Debian's lua-system source cannot be fetched: system.core is tools/system_core.c"
    mkdir -p "$DIR/lib/system"
    $CC -O2 -fPIC -shared -I"$DIR/include" "$ROOT/tools/system_core.c" -o "$DIR/lib/system/core.so"
fi
# Lua 5.5 makes for-loop variables read-only; a few of Debian's pure-Lua
# modules that busted loads assign to one. Patched copies go to
# $DIR/share (first on LUA_PATH): each such loop gets `local v = v` as
# the first statement of its body.
"$DIR/bin/lua5.5" - "$DIR/share" /usr/share/lua/5.4 <<'LUA'
local out, from = arg[1], arg[2]
local list = io.popen("find -L " .. from .. " -name '*.lua' -not -path '*/luarocks/*'")
for path in list:lines() do
  local rel = path:sub(#from + 2)
  local dest = out .. "/" .. rel
  local f = io.open(dest) or io.open(path)
  local text = f:read("a")
  f:close()
  local patched = false
  for _ = 1, 50 do
    local ok, err = load(text, "=" .. rel)
    local line, name = (not ok and err or ""):match(":(%d+): attempt to assign to const variable '([%w_]+)'")
    if not line then break end
    local lines = {}
    for l in (text .. "\n"):gmatch("(.-)\n") do lines[#lines + 1] = l end
    local n = tonumber(line)
    while n > 0 and not (lines[n]:find("for%s") and lines[n]:find("[%s,]" .. name .. "[%s,=]") and lines[n]:find("%sdo%f[%W]")) do
      n = n - 1
    end
    assert(n > 0, rel .. ": no loop header for " .. name)
    lines[n] = lines[n]:gsub("(%sdo)%f[%W]", "%1 local " .. name .. " = " .. name .. ";", 1)
    text = table.concat(lines, "\n")
    patched = true
  end
  if patched then
    assert(load(text, "=" .. rel))
    os.execute("mkdir -p '" .. dest:match("^(.*)/") .. "'")
    local w = assert(io.open(dest, "w"))
    w:write(text)
    w:close()
    print("lua55: " .. dest .. ": loop variables made local copies")
  end
end
LUA
touch "$DIR/ready"
echo "lua55: ready: $DIR/bin/lua5.5 (busted's C modules in $DIR/lib)"
