-- The `make demo` tour. Each step starts one of the samples as a process of
-- its own, talks to it over loopback (as a client here, or through another
-- sample or curl), prints both sides, and stops it: by the sample's own quit
-- command or request count, and, should something go wrong, by the PID it
-- was started with. The whole tour takes a few seconds.
--
--   make demo                      (builds first)
--   lua5.4 samples/demo.lua        (with LUA_PATH/LUA_CPATH set to the build)
--   lua5.4 samples/demo.lua echo pipe   (only those steps)
--   make demo-windows              (echo, daytime, pipe and tls under Wine)
--
-- On Windows the samples run through cmd.exe: no PIDs to stop them by (each
-- sample stops itself: by command, count or idle time), the chat is on a
-- Windows named pipe, and the TLS step needs $TLS_ECHO_DIR to hold a
-- certificate already (there is no openssl tool to make one).
local socket = require("socket")
local co = require("socket.co")
local pipe = require("socket.pipe")
local hasssl = pcall(require, "socket.ssl")

local windows = package.config:sub(1, 1) == "\\"
local lua = os.getenv("NETSOCKET_LUA") or arg[-1] or "lua5.4"
local here = arg[0]:match("^(.*)[/\\][^/\\]*$") or "."

local function q(s)
  if windows then return '"' .. tostring(s) .. '"' end
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end
-- cmd.exe strips the outer quotes of its command: add a pair.
local function cmdline(line) return windows and '"' .. line .. '"' or line end

local failures = 0
local function check(ok, what)
  if not ok then
    failures = failures + 1
    print("   FAILED: " .. what)
  end
  return ok
end

local function say(line) print("   " .. line) end

-- Processes started by the tour: popen'd through `sh -c 'echo $$; exec ...'`,
-- so the first line of each is its PID.
local started = {}

local function spawn(cmd)
  local p = assert(io.popen(windows and cmdline(cmd .. " 2>&1") or "echo $$; exec " .. cmd .. " 2>&1", "r"))
  local h = { p = p, pid = not windows and tonumber(p:read("*l")) or nil }
  started[#started + 1] = h
  function h.line() return p:read("*l") end
  -- Reads the rest of the output and waits for the exit; true when it was 0.
  function h.finish()
    if h.done then return h.ok, "" end
    local rest = p:read("*a")
    h.done, h.ok = true, p:close() == true
    return h.ok, rest
  end
  return h
end

-- Reads lines until one matches `pattern` (at most `max` lines); returns the
-- captures, printing every line read.
local function expect(h, pattern, max)
  for _ = 1, max or 5 do
    local l = h.line()
    if not l then return nil end
    say(l)
    local a, b = l:match(pattern)
    if a then return a, b end
  end
  return nil
end

local function finish(h, what)
  local ok, rest = h.finish()
  for l in rest:gmatch("[^\n]+") do say(l) end
  check(ok, what .. " exited with status 0")
  return rest
end

-- Stops whatever is still running (after a failure): by its PID.
local function cleanup()
  for _, h in ipairs(started) do
    if not h.done then
      if h.pid then os.execute("kill " .. h.pid .. " 2>/dev/null") end
      h.finish()
    end
  end
end

local function sh(cmd)
  local p = assert(io.popen(cmdline(cmd .. " 2>&1"), "r"))
  local out = p:read("*a")
  return out, p:close() == true
end

local function step(n, title, explain)
  print()
  print(("%d. %s"):format(n, title))
  print("   (" .. explain .. ")")
end

local function tmpdir()
  if windows then
    local d = ("%s\\netsocket-demo-%d"):format(os.getenv("TEMP") or ".", math.random(1, 1e9))
    assert(os.execute("mkdir " .. q(d)))
    return d
  end
  local d = os.tmpname()
  os.remove(d)
  assert(os.execute("mkdir -m 700 " .. q(d)))
  return d
end

local function rmdir(d)
  os.execute(windows and "rmdir /s /q " .. q(d) or "rm -rf " .. q(d))
end

------------------------------------------------------------------------------

local function echo()
  step(1, "echo: samples/echo_server.lua and a client",
    "a blocking TCP server; each line comes back; \"quit\" stops it")
  local server = spawn(("%s %s/echo_server.lua 127.0.0.1 0 10"):format(lua, here))
  local port = tonumber(expect(server, "port (%d+)"))
  if not check(port, "the echo server started") then return end
  local c = assert(socket.connect("127.0.0.1", port))
  c:settimeout(5)
  for _, line in ipairs({ "hello, netsocket", "a line with a CR\r", "ünïcödé bytes" }) do
    assert(c:send(line .. "\n"))
    local reply, err = c:receive("*l")
    say(("client sent %q, received %s"):format(line, reply and ("%q"):format(reply) or err))
    check(reply == line:gsub("\r", ""), "echo of " .. ("%q"):format(line))
  end
  local r, s = c:getstats()
  say(("getstats() -> %s received, %s sent (%s)"):format(r, s, math.type and math.type(r) or type(r)))
  say(("socket._SETSIZE = %d (select has no 1024-descriptor limit)"):format(socket._SETSIZE))
  local got, err = c:receivesome(100, 0.05)
  say(("receivesome(100, 0.05) with nothing sent -> %s, %q"):format(tostring(got), err))
  assert(c:send("quit\n"))
  say("client sent \"quit\", received " .. ("%q"):format(c:receive("*l")))
  c:close()
  finish(server, "echo_server")
end

local function daytime()
  step(2, "daytime: samples/daytime_server.lua and samples/daytime_client.lua",
    "RFC 867 over TCP and UDP from one select() loop; it stops after 2 answers")
  local server = spawn(("%s %s/daytime_server.lua 127.0.0.1 0 2 10"):format(lua, here))
  local tport, uport = expect(server, "tcp port (%d+), udp port (%d+)")
  if not check(tport, "the daytime server started") then return end
  for _, run in ipairs({ { "tcp", tport }, { "udp", uport } }) do
    local out, ok = sh(("%s %s/daytime_client.lua %s 127.0.0.1 %s"):format(lua, here, run[1], run[2]))
    say(("daytime client over %s: %s"):format(run[1]:upper(), (out:gsub("\n$", ""))))
    check(ok and out:match("UTC\n$"), "daytime over " .. run[1])
  end
  finish(server, "daytime_server")
end

local function pipechat()
  step(3, "named pipe: samples/pipe_chat.lua",
    "a chat server on a unix socket file (on Windows, a named pipe); this script and a pipe_chat client"
      .. " talk through it")
  local dir = tmpdir()
  local path = dir .. "/chat.sock"
  local server = spawn(("%s %s/pipe_chat.lua server %s 10"):format(lua, here, q(path)))
  if not check(expect(server, "^(ready) "), "the chat server started") then return end
  local me = assert(pipe.connect(path, 5))   -- connects before the other client
  me:settimeout(5)
  say("this script connected to " .. path)
  local other = spawn(("%s %s/pipe_chat.lua client %s %s"):format(lua, here, q(path), q("hello from a client process")))
  local heard, err = me:receive("*l")
  say(("this script heard %s"):format(heard and ("%q"):format(heard) or err))
  check(heard == "hello from a client process", "the chat line was relayed")
  assert(me:send("hello back from the demo\n"))
  local ok, out = other.finish()                    -- it waits 2 s for more, then exits
  say(("the client process printed %q"):format((out:gsub("\n$", ""))))
  check(ok and out == "hello back from the demo\n", "the reply was relayed")
  assert(me:send("/quit-server\n"))
  me:close()
  finish(server, "pipe_chat server")
  local f = io.open(path)
  check(not f, "the server removed its socket file")   -- (a named pipe has none)
  if f then f:close() end
  rmdir(dir)
end

local function tls()
  step(4, "TLS: samples/tls_echo.lua",
    "a throwaway self-signed certificate made with openssl; the client verifies it and the host")
  if not hasssl then
    say("skipped: socket.ssl is not built here (install libssl-dev, then make)")
    return
  end
  local made = windows and os.getenv("TLS_ECHO_DIR")
  if windows and not made then
    say("skipped: set TLS_ECHO_DIR to a directory with cert.pem and key.pem")
    return
  end
  local dir = made or tmpdir()
  local env = made and "" or "env TLS_ECHO_DIR=" .. q(dir) .. " "
  local server = spawn(("%s%s %s/tls_echo.lua server 127.0.0.1 0 10"):format(env, lua, here))
  local port = tonumber(expect(server, "port (%d+)"))
  if check(port, "the TLS server started") then
    local out, ok = sh(("%s%s %s/tls_echo.lua client 127.0.0.1 %d %s quit")
      :format(env, lua, here, port, q("hello over TLS")))
    for l in out:gmatch("[^\n]+") do say(l) end
    check(ok and out:find('got "hello over TLS"', 1, true), "the TLS echo")
    finish(server, "tls_echo server")
  end
  if not made then rmdir(dir) end
end

local function http()
  step(5, "HTTP: samples/http_echo.lua fetched with curl and with samples/get.lua (socket.http)",
    "an HTTP/1.1 server that answers with the request it got; it stops after 3 requests")
  local server = spawn(("%s %s/http_echo.lua 127.0.0.1 0 3 10"):format(lua, here))
  local port = tonumber(expect(server, "^http_echo: listening on http://127%.0%.0%.1:(%d+)/$"))
  if not check(port, "the HTTP server started") then return end
  local url = ("http://127.0.0.1:%d"):format(port)
  local _, hascurl = sh("command -v curl")
  local requests = {
    { "curl " .. url .. "/hello -H 'X-Demo: yes'", "GET /hello HTTP/1.1" },
    { "curl " .. url .. "/form -d 'name=netsocket'", "name=netsocket" },
  }
  requests[3] = { ("%s samples/get.lua %s/get"):format(lua, url), "GET /get HTTP/1.1", get = true }
  for _, r in ipairs(requests) do
    local out, ok
    if r.get then                                   -- netsocket's own HTTP client
      say("$ lua5.4 samples/get.lua " .. url .. "/get")
      out, ok = sh(("cd %s/.. && %s 2>&1"):format(here, r[1]))
    elseif hascurl then
      say("$ " .. r[1])
      out, ok = sh("curl -sS --noproxy '*' --max-time 10 " .. r[1]:sub(6))
    else                                            -- the same request by hand
      say("(curl is not installed; the same request with netsocket)")
      local c = assert(socket.connect("127.0.0.1", port))
      c:settimeout(5)
      local path, body = r[1]:match(" %S+(/%w+)"), r[1]:match("-d '(.-)'")
      c:send(("%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n%s\r\n%s"):format(body and "POST" or "GET", path, port,
        body and ("Content-Length: %d\r\n"):format(#body) or "X-Demo: yes\r\n", body or ""))
      local all = c:receive("*a") or ""
      c:close()
      out, ok = all:match("\r\n\r\n(.*)$") or "", all:match("^HTTP/1%.1 200 ") ~= nil
    end
    for l in (out:gsub("\n$", "") .. "\n"):gmatch("(.-)\n") do say((("| " .. l):gsub("%s+$", ""))) end
    check(ok and out:find(r[2], 1, true), "the HTTP echo of " .. r[2])
  end
  finish(server, "http_echo")
end

local function cosockets()
  step(6, "cosockets: samples/co_echo_server.lua",
    "blocking-style code, one socket.co task per client; three clients here talk at once")
  local server = spawn(("%s %s/co_echo_server.lua 0 10"):format(lua, here))
  local port = tonumber(expect(server, "port (%d+)"))
  if not check(port, "the cosocket server started") then return end
  -- Three clients, each a task of this script: all three connect and are
  -- answered before any of them says goodbye.
  local connected, replies = 0, {}
  for i = 1, 3 do
    co.spawn(function()
      local c = assert(socket.connect("127.0.0.1", port))
      c:settimeout(5)
      assert(c:send(("client %d says hello\n"):format(i)))
      replies[i] = c:receive("*l")
      connected = connected + 1
      for _ = 1, 500 do                             -- wait for the other two (bounded)
        if connected == 3 then break end
        co.sleep(0.01)
      end
      assert(c:send(("client %d: %d of us connected at once\n"):format(i, connected)))
      say(("client %d received %q"):format(i, c:receive("*l")))
      c:close()
    end)
  end
  check(co.run(20), "the cosocket clients finished")
  for i = 1, 3 do
    check(replies[i] == ("client %d says hello"):format(i), "the cosocket echo for client " .. i)
  end
  local c = assert(socket.connect("127.0.0.1", port))
  c:settimeout(5)
  assert(c:send("quit-server\n"))
  say("client sent \"quit-server\", received " .. ("%q"):format(c:receive("*l")))
  c:close()
  finish(server, "co_echo_server")
end

local function httpdfiles()
  step(7, "socket.httpd: samples/httpd_files.lua serving a directory",
    "an HTTP/1.1 server on cosockets; a path that leaves the directory gets 404; SIGTERM stops it")
  local dir = tmpdir()
  local f = assert(io.open(dir .. "/index.html", "w"))
  f:write("<h1>netsocket</h1>\n")
  f:close()
  f = assert(io.open(dir .. "/notes.txt", "w"))
  f:write("served by socket.httpd\n")
  f:close()
  local server = spawn(("%s %s/httpd_files.lua %s 0"):format(lua, here, q(dir)))
  local port = tonumber(expect(server, "^listening on http://127%.0%.0%.1:(%d+)/"))
  if check(port, "the file server started") then
    local url = ("http://127.0.0.1:%d"):format(port)
    local _, hascurl = sh("command -v curl")
    for _, r in ipairs({ { "/", "200 text/html; charset=utf-8" }, { "/notes.txt", "200 text/plain; charset=utf-8" },
                         { "/../../etc/passwd", "404 text/plain" }, { "/%2e%2e/etc/passwd", "404 text/plain" } }) do
      local out
      if hascurl then
        say("$ curl --path-as-is " .. url .. r[1])
        out = sh(("curl -sS --noproxy '*' --max-time 10 --path-as-is -w '%%{http_code} %%{content_type}' %s%s")
          :format(url, r[1]))
      else
        local c = assert(socket.connect("127.0.0.1", port))   -- (no <close>: samples run on Lua 5.1 too)
        c:settimeout(5)
        c:send(("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"):format(r[1]))
        local all = c:receive("*a") or ""
        c:close()
        out = all:match("\r\n\r\n(.*)$") .. (all:match("^HTTP/1%.1 (%d+)") or "") .. " "
          .. (all:match("Content%-Type: ([^\r]*)") or "")
      end
      for l in out:gmatch("[^\n]+") do say("| " .. l) end
      check(out:sub(-#r[2]) == r[2], "GET " .. r[1] .. " -> " .. r[2])
    end
  end
  os.execute("kill " .. server.pid)
  local _, rest = server.finish()
  for l in rest:gmatch("[^\n]+") do say(l) end
  say("stopped by SIGTERM")
  sh("rm -rf " .. q(dir))
end

print(("netsocket demo — %s (%s)"):format(socket._IMPL, socket._VERSION))
local t0 = socket.gettime()
local steps = { echo = echo, daytime = daytime, pipe = pipechat, tls = tls, http = http, co = cosockets,
  httpd = httpdfiles }
local order = { "echo", "daytime", "pipe", "tls", "http", "co", "httpd" }
local chosen = #arg > 0 and arg or order
for _, name in ipairs(chosen) do
  if not steps[name] then
    io.stderr:write("usage: demo.lua [" .. table.concat(order, " ") .. "]...\n")
    os.exit(2)
  end
end
local ok, err = pcall(function()
  for _, name in ipairs(chosen) do steps[name]() end
end)
cleanup()
check(ok, tostring(err))
print()
if failures == 0 then
  print(("demo: done in %.1f s, all replies matched"):format(socket.gettime() - t0))
else
  print(("demo: FAILED (%d checks)"):format(failures))
end
os.exit(failures == 0 and 0 or 1)
