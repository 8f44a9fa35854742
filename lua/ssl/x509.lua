-- netsocket: LuaSec's require("ssl.x509"): load(pem) gives a certificate
-- object (socket.ssl's X509 class), or nil.
local compat = require("ssl.compat")
if not compat.ours() then return compat.luasec("ssl.x509") end

return { load = require("socket.ssl").loadcertificate }
