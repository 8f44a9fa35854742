-- samples/get.lua: a URL to stdout byte for byte, a progress line on stderr
-- for large bodies, exit status and message on failure.
local socket = require("socket")
local co = require("socket.co")
local H = require("helper")
local S = require("ssl_helper")
local HH = require("http_helper")

local root = os.getenv("NETSOCKET_BUILD"):match("^(.*)/[^/]+$")
local MiB = 1024 * 1024

local read = H.readfile

-- Runs get.lua in the background while this process's socket.co servers
-- serve; returns stdout, stderr and the exit status.
local function get(...)
  local args = {}
  for i, a in ipairs({ ... }) do args[i] = S.q(a) end
  local base = os.tmpname()
  local cmd = ("timeout 60 %s %s %s >%s.out 2>%s.err; echo $? >%s.rc.tmp; mv %s.rc.tmp %s.rc")
    :format(H.LUA, S.q(root .. "/samples/get.lua"), table.concat(args, " "), base, base, base, base, base)
  assert(os.execute("(" .. cmd .. ") </dev/null >/dev/null 2>&1 &"))
  local deadline = socket.gettime() + 60
  while not read(base .. ".rc") and socket.gettime() < deadline do co.step(0.05) end
  local out, err, rc = read(base .. ".out"), read(base .. ".err"), read(base .. ".rc")
  for _, ext in ipairs({ "", ".out", ".err", ".rc" }) do os.remove(base .. ext) end
  assert(rc, "get.lua did not finish within 60 s")
  return out, err, tonumber(rc)
end

-- The progress updates in stderr (each starts with "\r"; a "\n" ends them).
local function updates(err)
  local list = {}
  for line in err:gmatch("[^\r\n]+") do list[#list + 1] = line end
  return list
end

describe("samples/get.lua #linux #shell", function()
  after_each(HH.cleanup)

  it("writes a multi-MB body with a Content-Length to stdout, with progress 'got / total' on stderr", function()
    local data = S.data(4 * MiB, 11)
    local srv = HH.server(function(_, c)
      c:send("HTTP/1.1 200 OK\r\nContent-Length: " .. #data .. "\r\n\r\n")
      for i = 0, 15 do                                 -- 16 pieces, 0.05 s apart
        c:send(data, i * 262144 + 1, (i + 1) * 262144)
        socket.sleep(0.05)
      end
    end)
    local out, err, rc = get(srv.url("/big"))
    assert.equal(0, rc, err)
    assert.equal(#data, #out)
    assert.is_true(out == data)
    assert.equal("\n", err:sub(-1))
    local list = updates(err)
    assert.is_true(#list >= 2, "progress updates: " .. err)
    local prev = -1
    for _, line in ipairs(list) do
      local n, pct = line:match("^(%d+) / 4194304 bytes %((%d+)%%%)$")
      assert.is_truthy(n, "not a progress line: " .. line)
      n = tonumber(n)
      assert.is_true(n >= prev)
      assert.equal(math.floor(n * 100 / #data), tonumber(pct))
      prev = n
    end
    assert.equal("4194304 / 4194304 bytes (100%)", list[#list])
  end)

  it("counts bytes alone when the size is unknown (chunked)", function()
    local data = S.data(3 * MiB, 12)
    local srv = HH.server(function(_, c)
      c:send("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
      for i = 0, 11 do
        c:send(HH.chunked({ data:sub(i * 262144 + 1, (i + 1) * 262144) }):sub(1, -6))   -- without "0\r\n\r\n"
        socket.sleep(0.03)
      end
      c:send("0\r\n\r\n")
    end)
    local out, err, rc = get(srv.url("/chunked"))
    assert.equal(0, rc, err)
    assert.is_true(out == data)
    local list = updates(err)
    for _, line in ipairs(list) do assert.matches("^%d+ bytes$", line) end
    assert.equal("3145728 bytes", list[#list])
  end)

  it("is silent for a small body, and with -q", function()
    local srv = HH.server(function(req)
      if req.target == "/big" then return HH.response("200 OK", {}, string.rep("b", 2 * MiB)) end
      return HH.response("200 OK", {}, "small\n")
    end)
    assert.same({ "small\n", "", 0 }, { get(srv.url("/small")) })
    local out, err, rc = get("-q", srv.url("/big"))
    assert.same({ 2 * MiB, "", 0 }, { #out, err, rc })
  end)

  it("fetches from python3 -m http.server", function()
    local data = S.data(MiB + 5, 13)
    local dir, rmdir = HH.tempdir({ ["f.bin"] = data })
    local py = HH.python(dir)
    local out, err, rc = get(py.url("/f.bin"))
    py.stop()
    rmdir()
    assert.equal(0, rc, err)
    assert.is_true(out == data)
    local list = updates(err)
    assert.equal("1048581 / 1048581 bytes (100%)", list[#list])
  end)

  it("exits 1 with the error on stderr when the request fails", function()
    local port = HH.freeport()
    assert.same({ "", "get.lua: connection refused\n", 1 }, { get("http://127.0.0.1:" .. port .. "/") })
  end)

  it("exits 1 with the status line when the server answers 404, after writing the body", function()
    local srv = HH.server(function() return HH.response("404 Not Found", {}, "nope\n") end)
    assert.same({ "nope\n", "get.lua: HTTP/1.1 404 Not Found\n", 1 }, { get(srv.url("/missing")) })
  end)

  it("exits 2 with a usage line on bad arguments", function()
    local usage = "usage: get.lua [-q] [--cafile FILE] [--insecure] URL\n"
    assert.same({ "", usage, 2 }, { get() })
    assert.same({ "", usage, 2 }, { get("--bogus", "http://127.0.0.1/") })
  end)
end)
