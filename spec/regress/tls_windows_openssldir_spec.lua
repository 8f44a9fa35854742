-- Regression (issue 16, Windows): the OpenSSL linked into socket.ssl.core
-- was configured with mingw's default directories (OPENSSLDIR /usr/local/ssl,
-- modules under /usr/local/lib64). A Windows program reads those as
-- \usr\local\... on the current drive, where any user may create them
-- (CVE-2019-1552): an openssl.cnf there is loaded when OpenSSL starts and
-- may load modules, and its cert.pem is a default trust anchor. The build
-- now gives OpenSSL directories under C:\Program Files\OpenSSL (writable by
-- administrators only). Wine maps a rooted path to the Linux file of that
-- name, so the directories are checked in the module itself.
local H = require("helper")
if not H.WINDOWS then   -- make test-windows runs these, under Wine
  pending("Windows only: make test-windows")
  return
end

describe("regress: the OpenSSL directories of socket.ssl.core on Windows", function()
  it("are under C:/Program Files/OpenSSL, none under /usr/local", function()
    local path = assert(package.searchpath("socket.ssl.core", package.cpath))
    local bytes = assert(H.readfile(path))
    assert.is_nil(bytes:find("/usr/local/", 1, true), "a /usr/local directory in " .. path)
    assert.truthy(bytes:find("C:/Program Files/OpenSSL/SSL/cert.pem", 1, true))
  end)
end)
