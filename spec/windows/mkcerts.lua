-- make test-windows: makes the TLS specs' certificates on the Linux side
-- (spec/ssl_helper.lua's own recipe; no openssl tool under Wine) and copies
-- them into the directory given as arg[1] (NETSOCKET_CERTS for the run).
local c = require("ssl_helper").certs()
local ok = os.execute("cp -r " .. c.dir .. "/. " .. arg[1] .. "/")
c.cleanup()
assert(ok, "could not copy the certificates")
