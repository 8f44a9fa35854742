#!/bin/sh
# Instructions per request of an HTTP server under callgrind (issue 17,
# doc/performance.md): samples/httpd_hello.lua (or bench/httpd_rich.lua)
# against nginx + lua-nginx-module from a temp prefix. wrk warms the server
# up, callgrind_control zeroes the counters, wrk runs again, the counters
# are dumped: instructions / requests. Needs valgrind, wrk, nginx, a build.
#   bench/cghttpd.sh [hello|rich|nginx] [HEADERS(0|1)]
set -eu
KIND=${1:-hello}
HDRS=${2:-0}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TMP=$(mktemp -d)
PID=""
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
export LUA_PATH="$ROOT/lua/?.lua;;" LUA_CPATH="$ROOT/build/?.so;;"
PORT=$(lua5.4 -e "local s=require('socket').bind('127.0.0.1',0) print((select(2,s:getsockname()))) s:close()")
PATHQ=/
case $KIND in
    nginx)
        mkdir -p "$TMP/logs"
        cat > "$TMP/nginx.conf" <<CONF
load_module /usr/lib/nginx/modules/ndk_http_module.so;
load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;
worker_processes 1; daemon off; master_process off;
error_log $TMP/logs/error.log error; pid $TMP/nginx.pid;
events { worker_connections 1024; }
http {
  access_log off; default_type text/plain; keepalive_requests 1000000000;
  client_body_temp_path $TMP; proxy_temp_path $TMP; fastcgi_temp_path $TMP; uwsgi_temp_path $TMP; scgi_temp_path $TMP;
  server { listen 127.0.0.1:$PORT;
    location / { content_by_lua_block { ngx.header["Content-Length"] = 13 ngx.print("Hello, world!") } } }
}
CONF
        set -- nginx -p "$TMP" -c "$TMP/nginx.conf" ;;
    rich) set -- lua5.4 "$ROOT/bench/httpd_rich.lua" "$PORT"; PATHQ=/rich ;;
    *) set -- lua5.4 "$ROOT/samples/httpd_hello.lua" "$PORT" ;;
esac
valgrind --tool=callgrind --callgrind-out-file="$TMP/cg.out" "$@" >"$TMP/server.log" 2>&1 &
PID=$!
for _ in $(seq 1 300); do
    bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT" 2>/dev/null && break
    sleep 0.1
done
H=""
if [ "$HDRS" = 1 ]; then
    H="-H 'User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0' \
-H 'Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8' \
-H 'Accept-Language: en-US,en;q=0.5' -H 'Accept-Encoding: gzip, deflate, br' \
-H 'Cookie: session=8f3a2c1e9b7d4f60a1c2e3d4f5a6b7c8; theme=dark; lang=en' \
-H 'Upgrade-Insecure-Requests: 1' -H 'Sec-Fetch-Dest: document' -H 'Sec-Fetch-Mode: navigate'"
fi
eval wrk -t1 -c50 -d2 $H "http://127.0.0.1:$PORT$PATHQ" >/dev/null
callgrind_control -z "$PID" >/dev/null 2>&1
N=$(eval wrk -t1 -c50 -d4 $H "http://127.0.0.1:$PORT$PATHQ" | sed -n 's/^ *\([0-9]*\) requests in.*/\1/p')
callgrind_control -d "$PID" >/dev/null 2>&1
sleep 1
I=$(for f in "$TMP"/cg.out*; do callgrind_annotate "$f" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1; exit }'; done | sort -n | tail -1)
[ -n "${CG_KEEP:-}" ] && cp "$TMP"/cg.out* "$CG_KEEP"/ && echo "callgrind files in $CG_KEEP"
echo "RESULT cghttpd $KIND headers=$HDRS requests=$N instructions=$I per_request=$((I / N))"
