-- netsocket: LuaSec's module name "ssl" over socket.ssl (doc/migration.md).
-- require("ssl") gives the very table require("socket.ssl") gives: newcontext,
-- wrap, loadcertificate, config, _VERSION as LuaSec has them, and
-- netsocket's own additions (connect, starttls, ...). The first line above
-- marks this file for lua/ssl/compat.lua.
return require("socket.ssl")
