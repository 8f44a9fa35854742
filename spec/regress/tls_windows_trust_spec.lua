-- Regression (issue 16, Windows): where socket.ssl looks for trust anchors.
-- socket.ssl searched the POSIX bundle paths (/etc/ssl/certs/..., /etc/ssl/
-- cert.pem, ...) on Windows too. A Windows program reads a rooted path as
-- \etc\ssl\... on the current drive, where any user may create it: the file
-- found there became every client's only trust store. On Windows the system
-- store is the ROOT store (doc/windows.md, "TLS trust"): no file is looked
-- for, and getcafile/getcapath say nil until setcafile/setcapath.
-- (Wine maps a rooted path to the Linux file of that name, so the host's
-- /etc/ssl/certs/ca-certificates.crt opens here, and was taken.)
local H = require("helper")
if not H.WINDOWS then   -- make test-windows runs these, under Wine
  pending("Windows only: make test-windows")
  return
end
local ssl = require("socket.ssl")

describe("regress: socket.ssl's trust anchors on Windows", function()
  it("looks for no CA file or directory at POSIX paths", function()
    assert.is_nil(ssl.getcafile())
    assert.is_nil(ssl.getcapath())
  end)
end)
