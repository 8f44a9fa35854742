-- Regression (issue 14, attacked): ssl.https.request (LuaSec's https,
-- which never leaves TLS: its redirects go through its TLS `create`)
-- followed a redirect to an http:// URL through socket.http: the next
-- request went out in the clear and its answer, which anyone on the path
-- can forge, came back as the result of an https request (1, 200). Now
-- ssl.https follows redirects to https URLs only; any other redirect is
-- the answer.
local S = require("ssl_helper")

-- An HTTPS server child: each request gets a redirect to the next
-- Location in arg[3] (";"-separated; "PLAIN" is the child's own plain
-- HTTP port, "SELF" its https port), then "final" with a body. A plain
-- listener on the side reports any request it gets.
local SERVER = [[
local plain = assert(socket.bind("127.0.0.1", 0))
local _, pport = plain:getsockname()
local srv = assert(socket.bind("127.0.0.1", 0))
local _, port = srv:getsockname()
print(port)
srv:settimeout(1.5)
plain:settimeout(0)
local ctx = assert(ssl.newcontext({ mode = "server", certificate = arg[1], key = arg[2] }))
local hops = {}
for l in arg[3]:gmatch("[^;]+") do hops[#hops + 1] = l end
for i = 1, #hops + 1 do
  local c = srv:accept()
  if not c then break end
  local t = ssl.wrap(c, ctx)
  t:settimeout(3)
  if t:dohandshake() then
    local first = t:receive("*l")
    local auth = "none"
    repeat
      local l = t:receive("*l")
      if l and l:lower():match("^authorization:") then auth = "yes" end
    until l == "" or not l
    print("TLS " .. tostring(first) .. " auth=" .. auth)
    if hops[i] then
      local loc = hops[i]:gsub("PLAIN", "http://127.0.0.1:" .. pport):gsub("SELF", "https://localhost:" .. port)
      t:send("HTTP/1.1 302 Found\r\nLocation: " .. loc .. "\r\nContent-Length: 5\r\n\r\nmoved")
    else
      t:send("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal")
    end
  end
  t:close()
  if not hops[i] then break end
  if hops[i]:find("PLAIN") then break end
end
plain:settimeout(0.5)
local pc = plain:accept()
if pc then
  pc:settimeout(1)
  print("PLAIN " .. tostring(pc:receive("*l")))
  pc:send("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nforged")
  pc:close()
end
]]

describe("regress: ssl.https never leaves TLS on a redirect", function()
  local C
  setup(function() C = S.certs() end)
  teardown(function() if C then C.cleanup() end end)

  local function get(hops, reqt)
    local h = S.spawnlua(SERVER, C.server, C.serverkey, hops)
    local port = assert(tonumber(h.line()))
    local https = require("ssl.https")
    local r
    if reqt then
      reqt.url = "https://localhost:" .. port .. "/start"
      reqt.cafile = C.ca
      r = { https.request(reqt) }
    else
      -- the string form: params cannot be passed, so trust goes by ssl's default CA file
      local ssl = require("socket.ssl")
      local old = ssl.getcafile()
      ssl.setcafile(C.ca)
      r = { https.request("https://localhost:" .. port .. "/start") }
      ssl.setcafile(old)
    end
    return r, h.rest()
  end

  it("a redirect to http:// is the answer, and nothing goes out in the clear", function()
    local body = {}
    local r, log = get("PLAIN/x", { sink = require("ltn12").sink.table(body) })
    assert.are.equal(1, r[1])
    assert.are.equal(302, r[2])
    assert.is_nil(log:find("PLAIN", 1, true), log)
    assert.are.equal("moved", table.concat(body))
    r, log = get("PLAIN/x")
    assert.are.equal("moved", r[1])
    assert.are.equal(302, r[2])
    assert.is_nil(log:find("PLAIN", 1, true), log)
  end)

  it("redirects to https are followed; only the final body reaches the sink", function()
    local body = {}
    local r, log = get("SELF/a;SELF/b", { sink = require("ltn12").sink.table(body),
      headers = { authorization = "Bearer x" } })
    assert.are.same({ 1, 200 }, { r[1], r[2] })
    assert.are.equal("final", table.concat(body))
    assert.truthy(log:find("TLS GET /b HTTP/1.1 auth=yes", 1, true), log)
  end)

  it("redirect = false and the redirect limit hold", function()
    local r = get("SELF/a", { redirect = false })
    assert.are.equal(302, r[2])
    r = get("SELF/a;SELF/b", { maxredirects = 1 })
    assert.are.equal(302, r[2])
  end)
end)
