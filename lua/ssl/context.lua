-- netsocket: LuaSec's require("ssl.context") over socket.ssl: the
-- module-level functions programs call on a context made by ssl.newcontext
-- (Prosody: ssl.context.setcipher(ctx, list)). They answer as LuaSec's do:
-- true, or false and the message. doc/migration.md lists what LuaSec has
-- and this has not.
local compat = require("ssl.compat")
if not compat.ours() then return compat.luasec("ssl.context") end

local ssl = require("socket.ssl")
local core = require("socket.ssl.core")

local context = {}
for name, f in pairs(core.luasec) do context[name] = f end

-- create(protocol): a client context for `protocol` that verifies nothing
-- yet, as LuaSec's create; setverify, locations, loadcert ... complete it.
-- The mode is fixed here (setmode("server") is refused): make a server
-- context with ssl.newcontext{mode = "server", ...}.
function context.create(protocol)
  if type(protocol) ~= "string" then
    error("bad argument #1 to 'create' (string expected, got "
      .. (protocol == nil and "no value" or type(protocol)) .. ")", 2)
  end
  local min = (protocol == "any" or protocol == "sslv23") and "tlsv1_2" or protocol
  return ssl.newcontext({ mode = "client", protocol = protocol, minprotocol = min, verify = "none",
    options = {} })
end

return context
