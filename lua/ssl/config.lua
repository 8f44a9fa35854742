-- netsocket: LuaSec's require("ssl.config"): what this build supports
-- (protocols, options, algorithms, curves, capabilities), as ssl.config.
local compat = require("ssl.compat")
if not compat.ours() then return compat.luasec("ssl.config") end

return require("socket.ssl").config
