-- luacheck configuration for `make lint` (luacheck lua spec samples).
-- Strict by default: no globals (reading or writing), no unused variables,
-- arguments or values, no shadowing, no unreachable code; no function more
-- complex than 40 branches.
std = "lua54"
max_line_length = 120
max_cyclomatic_complexity = 40

-- busted's globals (describe, it, assert, spy, ...) exist in the specs only.
-- Spec descriptions are sentences, so spec lines may run a little longer; a
-- spec file is one long main chunk of describe/it calls, so no complexity
-- limit there.
files["spec"] = {
  std = "+busted",
  max_line_length = 150,
  max_cyclomatic_complexity = false,
}

-- Known findings in specs owned by other work (reported in issue 8; remove a
-- line once its file is fixed). Each ignore names the warning code and the
-- variable, so any new finding in these files still fails.
--   211 unused variable, 311 value assigned is unused,
--   432 shadowing an upvalue argument.
files["spec/helper.lua"].ignore = { "432/code" }          -- H.child's wait(): `code` shadows the argument
files["spec/tcp_spec.lua"].ignore = { "211/p" }           -- __tostring test: the peer `p` is never used
files["spec/pipe_spec.lua"].ignore = { "211/srv" }        -- GC tests: servers kept only by a (<close>) local
files["spec/udp_spec.lua"].ignore = { "311/held" }        -- GC test: `held = nil` drops the references
files["spec/unix_spec.lua"].ignore = {
  "311/s", "311/d",                                       -- GC test: `s, d = nil, nil`
  "311/r", "311/w",                                       -- select results assigned and never read
}
