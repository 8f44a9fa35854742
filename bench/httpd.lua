-- The socket.httpd workloads of `make bench` (issue 17): wrk against
-- samples/httpd_hello.lua and against nginx + lua-nginx-module started from
-- a temp prefix (1 worker, keepalive_requests high, content_by_lua_block
-- setting Content-Length and printing the same body). The server runs on
-- CPU 1 and wrk on CPU 0; rounds alternate (netsocket, nginx, netsocket,
-- ...), and each row gives the median of the per-round ratios of requests/s
-- and of server CPU per request (utime + stime from /proc). Writes
-- bench/results/httpd.md.
--
-- usage: lua5.4 bench/httpd.lua ROOT BUILD QUICK(0|1) [callgrind]
local ROOT, BUILD = arg[1], arg[2]
assert(ROOT and BUILD, "usage: httpd.lua ROOT BUILD QUICK(0|1) [callgrind]")
local QUICK = arg[3] == "1"
local ROUNDS = tonumber(os.getenv("BENCH_REPS") or "") or (QUICK and 3 or 5)
local SECS = QUICK and 2 or 4
local LUA = os.getenv("LUA") or "lua5.4"
local NS_ENV = ("LUA_PATH='%s/lua/?.lua;;' LUA_CPATH='%s/%s/?.so;;'"):format(ROOT, ROOT, BUILD)

local function sh(cmd)
  local h = io.popen(cmd .. " 2>&1")
  local out = h:read("*a")
  h:close()
  return out
end
local function have(cmd) return sh("command -v " .. cmd) ~= "" end
local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local NGINX = have("nginx") and io.open("/usr/lib/nginx/modules/ngx_http_lua_module.so") and "nginx"
if not have("wrk") or not NGINX then
  io.write("httpd bench: needs wrk, nginx and libnginx-mod-http-lua (bench/setup.sh); skipped\n")
  os.exit(0)
end
local PIN_S, PIN_C = "taskset -c 1 ", "taskset -c 0 "
if tonumber(sh("nproc")) < 2 or not have("taskset") then PIN_S, PIN_C = "", "" end

local function freeport()
  local p = io.popen(NS_ENV .. " " .. LUA
    .. [[ -e "local s=require('socket').bind('127.0.0.1',0) print((select(2,s:getsockname()))) s:close()"]])
  local port = tonumber(p:read("l"))
  p:close()
  return port
end

-- The nginx prefix: one worker, no master, no logs; / says hello, /rich
-- reads the method, the path and one header and sets one response header.
local PREFIX = os.tmpname()
os.remove(PREFIX)
os.execute("mkdir -p " .. q(PREFIX .. "/logs"))
local function nginxconf(port)
  local f = assert(io.open(PREFIX .. "/nginx.conf", "w"))
  f:write(([[
load_module /usr/lib/nginx/modules/ndk_http_module.so;
load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;
worker_processes 1;
daemon off;
master_process off;
error_log %s/logs/error.log error;
pid %s/nginx.pid;
worker_rlimit_nofile 20000;
events { worker_connections 8192; }
http {
  access_log off;
  default_type text/plain;
  keepalive_requests 1000000000;
  keepalive_timeout 60;
  client_body_temp_path %s/tmp;
  proxy_temp_path %s/tmp;
  fastcgi_temp_path %s/tmp;
  uwsgi_temp_path %s/tmp;
  scgi_temp_path %s/tmp;
  server {
    listen 127.0.0.1:%d;
    location / {
      content_by_lua_block {
        ngx.header["Content-Length"] = 13
        ngx.print("Hello, world!")
      }
    }
    location /rich {
      content_by_lua_block {
        local m, p, ua = ngx.req.get_method(), ngx.var.uri, ngx.var.http_user_agent
        ngx.header["X-Handler"] = m == "GET" and ua and p or "other"
        ngx.header["Content-Length"] = 13
        ngx.print("Hello, world!")
      }
    }
  }
}
]]):format(PREFIX, PREFIX, PREFIX, PREFIX, PREFIX, PREFIX, PREFIX, port))
  f:close()
end

-- A server process: its pid and how to stop it.
local function start(kind, port, extra)
  local cmd
  if kind == "nginx" then
    nginxconf(port)
    cmd = ("%snginx -p %s -c %s"):format(extra or PIN_S, q(PREFIX), q(PREFIX .. "/nginx.conf"))
  elseif kind == "rich" then
    cmd = ("env %s %s%s %s %d"):format(NS_ENV, PIN_S, LUA, q(ROOT .. "/bench/httpd_rich.lua"), port)
  else
    cmd = ("env %s %s%s %s %d %s"):format(NS_ENV, extra or PIN_S, LUA, q(ROOT .. "/samples/httpd_hello.lua"),
      port, extra and "reuseport" or "")
  end
  local p = assert(io.popen("exec sh -c " .. q("echo $$; exec " .. cmd .. " 2>&1"), "r"))
  local pid = tonumber(p:read("l"))
  for _ = 1, 200 do                        -- until it accepts (at most about 2 s)
    if sh(("bash -c 'exec 3<>/dev/tcp/127.0.0.1/%d' 2>/dev/null && echo up"):format(port)):find("up") then break end
    os.execute("sleep 0.01")
  end
  return {
    pid = pid,
    stop = function()
      os.execute("kill " .. pid .. " 2>/dev/null")
      p:read("*a")
      p:close()
    end,
  }
end

local function cputicks(pid)
  local f = io.open("/proc/" .. pid .. "/stat")
  if not f then return 0 end
  local s = f:read("l")
  f:close()
  local rest = s:match("%) (.*)$")
  local fields = {}
  for x in rest:gmatch("%S+") do fields[#fields + 1] = x end
  return tonumber(fields[12]) + tonumber(fields[13])    -- utime, stime (fields 14, 15)
end

-- 8 header fields a browser sends besides Host.
local BROWSER = {
  "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
  "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8",
  "Accept-Language: en-US,en;q=0.5",
  "Accept-Encoding: gzip, deflate, br",
  "Cookie: session=8f3a2c1e9b7d4f60a1c2e3d4f5a6b7c8; theme=dark; lang=en",
  "Upgrade-Insecure-Requests: 1",
  "Sec-Fetch-Dest: document",
  "Sec-Fetch-Mode: navigate",
}
local HDRS = {}
for i, h in ipairs(BROWSER) do HDRS[i] = "-H " .. q(h) end
HDRS = table.concat(HDRS, " ")

-- One wrk run: requests, requests/s.
local function wrk(port, conns, path, headers, pin)
  local out = sh(("%swrk -t1 -c%d -d%d %s http://127.0.0.1:%d%s"):format(pin or PIN_C, conns, SECS,
    headers and HDRS or "", port, path))
  local n = tonumber(out:match("(%d+) requests in"))
  local rps = tonumber(out:match("Requests/sec:%s*([%d.]+)"))
  if not n or out:find("Non%-2xx") then error("wrk failed: " .. out) end
  return n, rps
end

local function median(t)
  local s = {}
  for i, v in ipairs(t) do s[i] = v end
  table.sort(s)
  local n = #s
  if n == 0 then return 0 / 0 end
  local h = math.floor(n / 2)
  return n % 2 == 1 and s[h + 1] or (s[h] + s[h + 1]) / 2
end

-- One measured run of a server kind: requests/s and CPU seconds per request.
local function measure(kind, conns, path, headers)
  local port = freeport()
  local s = start(kind, port)
  wrk(port, math.min(conns, 100), path, headers)            -- warm-up (short)
  local t0 = cputicks(s.pid)
  local n, rps = wrk(port, conns, path, headers)
  local cpu = (cputicks(s.pid) - t0) / 100
  s.stop()
  return rps, cpu / n
end

local ROWS = {
  { "hello, 100 connections", 100, "/", false, "hello" },
  { "hello, 1,000 connections", 1000, "/", false, "hello" },
  { "hello, 100 connections, 8 browser headers", 100, "/", true, "hello" },
  { "hello, 1,000 connections, 8 browser headers", 1000, "/", true, "hello" },
  { "handler: method, path, 1 header in, 1 header out; 100 connections, 8 browser headers", 100, "/rich", true,
    "rich" },
}

local results = {}
io.write(("httpd: %d rounds of %d s per row, server on CPU 1, wrk on CPU 0\n"):format(ROUNDS, SECS))
for _, row in ipairs(ROWS) do
  local rr, cr, nsr, ngr = {}, {}, {}, {}
  for r = 1, ROUNDS do
    local a_rps, a_cpu = measure(row[5], row[2], row[3], row[4])
    local b_rps, b_cpu = measure("nginx", row[2], row[3], row[4])
    rr[r], cr[r], nsr[r], ngr[r] = a_rps / b_rps, a_cpu / b_cpu, a_rps, b_rps
    io.write(("  %s round %d: netsocket %.0f req/s %.1f µs CPU/req, nginx %.0f req/s %.1f µs CPU/req\n")
      :format(row[1], r, a_rps, a_cpu * 1e6, b_rps, b_cpu * 1e6))
  end
  results[#results + 1] = { row[1], median(nsr), median(ngr), median(rr), median(cr) }
end

-- reuseport: 2 netsocket processes on one port against 1 (nothing pinned:
-- the two servers and wrk share the two CPUs).
local r1, r2 = {}, {}
for r = 1, ROUNDS do
  local port = freeport()
  local a = start("hello", port, "")
  wrk(port, 100, "/", false, "")
  r1[r] = select(2, wrk(port, 100, "/", false, ""))
  a.stop()
  port = freeport()
  a = start("hello", port, "")
  local b = start("hello", port, "")
  wrk(port, 100, "/", false, "")
  r2[r] = select(2, wrk(port, 100, "/", false, ""))
  a.stop()
  b.stop()
end

local lines = {
  "| workload | netsocket req/s | nginx + Lua req/s | req/s ratio | CPU per request ratio |",
  "| --- | ---: | ---: | ---: | ---: |",
}
for _, r in ipairs(results) do
  lines[#lines + 1] = ("| %s | %.0f | %.0f | %.2f | %.2f |"):format(r[1], r[2], r[3], r[4], r[5])
end
lines[#lines + 1] = ""
lines[#lines + 1] = ("reuseport, 2 processes against 1 (unpinned, wrk on the same 2 CPUs): %.0f / %.0f req/s = %.2f")
  :format(median(r2), median(r1), median(r2) / median(r1))
local md = table.concat(lines, "\n") .. "\n"
io.write(md)
local f = io.open(ROOT .. "/bench/results/httpd.md", "w")
if f then
  f:write(md)
  f:close()
end
os.execute("rm -rf " .. q(PREFIX))
