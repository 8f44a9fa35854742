-- Regression (issue 16, Windows named pipes): socket.pipe's names. On
-- Windows a name became \\.\pipe\<name> as it was, and Windows resolves "."
-- and ".." in such a path before it opens it: pipe.connect("../C:/x") opened
-- the file C:\x and read it over and over (the bridge's reads start at
-- offset 0), a full "\\.\pipe\..\C:\x" likewise. Too long a name raised
-- (Linux: nil, "path too long"), and a zero byte raised naming the internal
-- 'listen' in place of 'bind'. The same calls on Linux give the results
-- asserted here.
local H = require("helper")
local pipe = require("socket.pipe")

-- A file with known bytes, and its path with forward slashes.
local function afile()
  local path = H.tmpname()
  local f = assert(io.open(path, "wb"))
  f:write("SECRET FILE CONTENTS\n")
  f:close()
  return path, (path:gsub("\\", "/"))
end

local function fresh()
  local n = H.tmpname()
  os.remove(n)
  return n
end

describe("regress: socket.pipe names", function()
  it("a name that climbs out with '..' opens no file: nil, err", function()
    local path, fwd = afile()
    local names = {
      "../" .. fwd,
      "../../../" .. fwd,
      "..\\" .. path,
      "a/../../" .. fwd,
      "\\\\.\\pipe\\..\\" .. path,
      "\\\\.\\pipe\\../" .. fwd,
    }
    for _, n in ipairs(names) do
      local c, err = pipe.connect(n, 0.5)
      local got
      if c then
        c:settimeout(0.5)
        got = c:receive(5)
        c:close()
      end
      assert.is_nil(got, n)
      assert.is_nil(c, n)
      -- (Linux: "connection refused" where the path reaches the file itself)
      if H.WINDOWS then assert.equal("No such file or directory", err, n) end
    end
    os.remove(path)
  end)

  it("too long a name gives nil, 'path too long' for bind and connect", function()
    local long = string.rep("n", 300)
    assert.same({ nil, "path too long" }, { pipe.bind(long) })
    assert.same({ nil, "path too long" }, { pipe.connect(long, 0.2) })
  end)

  it("a zero byte raises naming bind or connect", function()
    H.raises(pipe.bind, { "a\0b" }, "bad argument #1 to 'bind' (path contains a zero byte)")
    H.raises(pipe.connect, { "a\0b", 1 }, "bad argument #1 to 'connect' (path contains a zero byte)")
  end)

  it("a name with '.' parts names the pipe it resolves to (on Windows '..' that stays inside too)", function()
    local n = fresh()
    local dir, base = n:match("^(.*)[/\\]([^/\\]+)$")
    local srv = assert(pipe.bind(n))
    srv:settimeout(5)
    local c = assert(pipe.connect(dir .. (H.WINDOWS and "/./x/../" or "/./") .. base, 5))
    local a = assert(srv:accept())
    c:settimeout(5)
    a:send("hi\n")
    assert.equal("hi", c:receive())
    c:close()
    a:close()
    srv:close()
  end)

  if H.WINDOWS then
    it("Windows: the \\\\.\\pipe\\ prefix in any case and with either slash is the pipe's path", function()
      local n = "netsocket-names-" .. H.pid()
      local srv = assert(pipe.bind("@" .. n))
      srv:settimeout(5)
      for _, full in ipairs({ "\\\\.\\PIPE\\" .. n, "//./pipe/" .. n, "\\\\.\\Pipe/" .. n }) do
        local c = assert(pipe.connect(full, 5))
        local a = assert(srv:accept())
        a:send("x\n")
        c:settimeout(5)
        assert.equal("x", c:receive(), full)
        c:close()
        a:close()
      end
      srv:close()
    end)

    it("Windows: an empty name, or a part of dots and spaces only, gives nil, 'Invalid argument'", function()
      for _, n in ipairs({ "", "@", "\\\\.\\pipe\\", "..", "a/...", "x/. ./y", ".. /C:/x" }) do
        assert.same({ nil, "Invalid argument" }, { pipe.bind(n) }, n)
        assert.same({ nil, "Invalid argument" }, { pipe.connect(n, 0.2) }, n)
      end
    end)
  end
end)
