-- LTN12: filters, sources, sinks and pumps, with LuaSocket 3.x's API and
-- return conventions (doc/ltn12.md). Standalone: needs no socket module.
--
-- A source returns the next chunk, nil at the end, or nil, err.
-- A sink takes (chunk, err); a nil chunk means the end; it returns 1 or nil, err.
-- A filter maps a chunk to a chunk; "" in means "more output?", nil in means
-- "input ended"; it answers "" when it has nothing more for now.
local ltn12 = {
  filter = {}, source = {}, sink = {}, pump = {},
  BLOCKSIZE = 2048,
  _VERSION = "LTN12 1.0.3",
}
local filter, source, sink, pump = ltn12.filter, ltn12.source, ltn12.sink, ltn12.pump

local error, getmetatable, select, type = error, getmetatable, select, type
local sub = string.sub
local unpack = table.unpack or _G.unpack   -- Lua 5.1 and LuaJIT have only the global

-- Misuse raises naming the caller's argument (level 3: the caller's caller).
local function callable(v, n, fname)
  local t = type(v)
  if t == "function" then return v end
  if t == "table" or t == "userdata" then
    local mt = getmetatable(v)
    if mt ~= nil and (type(mt) ~= "table" or mt.__call ~= nil) then return v end
  end
  error(("bad argument #%d to '%s' (function expected, got %s)"):format(n, fname,
    v == nil and "no value" or t), 3)
end

-- Checks arguments first..n of a vararg call; returns them packed.
local function callables(fname, first, ...)
  local fs = { n = select("#", ...), ... }
  for i = 1, fs.n do callable(fs[i], first + i - 1, fname) end
  return fs
end

------------------------------------------------------------------------------
-- Filters

-- cycle(low, ctx, extra): a filter from low(ctx, chunk, extra) -> out, newctx.
function filter.cycle(low, ctx, extra)
  callable(low, 1, "filter.cycle")
  return function(chunk)
    local out
    out, ctx = low(ctx, chunk, extra)
    return out
  end
end

-- chain(f1, ..., fn): one filter doing f1 then f2 ... then fn.
-- `live` is the first filter that has not seen the end of its input yet;
-- `at` is the filter about to run. A filter after `live` that answers ""
-- needs more input, so we step back one filter and ask it again with
-- `again` ("" while data flows, nil once the input ended).
function filter.chain(...)
  local fs = callables("filter.chain", 1, ...)
  local n = fs.n
  if n == 0 then error("bad argument #1 to 'filter.chain' (function expected, got no value)", 2) end
  local live, at, again = 1, 1, ""
  return function(chunk)
    if chunk == nil then again = nil end
    while true do
      if at == live then
        chunk = fs[at](chunk)
        if chunk == "" or live == n then return chunk end
        if chunk == nil then             -- this filter is done: the next one gets the end
          live = live + 1
          at = live
        else
          at = at + 1
        end
      else
        chunk = fs[at](chunk or "")
        if chunk == "" then
          at = at - 1
          chunk = again
        elseif chunk == nil then
          error("filter returned inappropriate nil")
        elseif at == n then
          return chunk
        else
          at = at + 1
        end
      end
    end
  end
end

------------------------------------------------------------------------------
-- Sources

local function nothing() return nil end

function source.empty()
  return nothing
end

function source.error(err)
  return function() return nil, err end
end

-- file(handle, io_err): reads BLOCKSIZE at a time and closes the file at the
-- end; a nil handle (io.open failed) gives an error source.
function source.file(handle, io_err)
  if not handle then return source.error(io_err or "unable to open file") end
  local open = true
  return function()
    if not open then return nil end
    local chunk, err = handle:read(ltn12.BLOCKSIZE)
    if chunk == nil then
      open = false
      handle:close()
      if err then return nil, err end
    end
    return chunk
  end
end

-- simplify(src): a fancy source may return chunk, newsource to hand over.
function source.simplify(src)
  callable(src, 1, "source.simplify")
  return function()
    local chunk, other = src()
    if chunk == nil then return nil, other end
    if other then src = other end
    return chunk
  end
end

function source.string(s)
  if not s then return nothing end
  if type(s) ~= "string" and type(s) ~= "number" then
    error("bad argument #1 to 'source.string' (string expected, got " .. type(s) .. ")", 2)
  end
  local pos = 1
  return function()
    local size = ltn12.BLOCKSIZE
    local chunk = sub(s, pos, pos + size - 1)
    pos = pos + size
    if chunk == "" then return nil end
    return chunk
  end
end

-- table(t): t[1], t[2], ... then nil.
function source.table(t)
  if type(t) ~= "table" then
    error("bad argument #1 to 'source.table' (table expected, got " ..
      (t == nil and "no value" or type(t)) .. ")", 2)
  end
  local i = 0
  return function()
    i = i + 1
    return t[i]
  end
end

-- rewind(src): called with a chunk, pushes it back; called with nothing,
-- returns the last chunk pushed back, or src's next one.
function source.rewind(src)
  callable(src, 1, "source.rewind")
  local stack, top = {}, 0
  return function(chunk)
    if chunk ~= nil then
      top = top + 1
      stack[top] = chunk
      return
    end
    if top == 0 then return src() end
    chunk, stack[top] = stack[top], nil
    top = top - 1
    return chunk
  end
end

-- chain(src, f, ...): src's data passed through the filter(s). "feeding"
-- pulls a chunk and filters it; "eating" asks the filter for the rest of
-- its output with "" until it answers "". After the end, another call is
-- misuse.
function source.chain(src, f, ...)
  callable(src, 1, "source.chain")
  callable(f, 2, "source.chain")
  if select("#", ...) > 0 and (...) ~= nil then  -- as 3.x: a nil third argument ends the list
    callables("source.chain", 3, ...)
    f = filter.chain(f, ...)
  end
  local input, output, eating = "", "", false
  return function()
    if output == nil then error("source is empty!", 2) end
    while true do
      if eating then
        output = f(input)
        if output == "" then
          if input ~= "" then error('filter returned ""') end
          eating = false
        elseif output ~= nil then
          return output
        elseif input ~= nil then
          error("filter returned inappropriate nil")
        else
          return nil
        end
      else
        local err
        input, err = src()
        if err then return nil, err end
        output = f(input)
        if output == nil then
          if input ~= nil then error("filter returned inappropriate nil") end
          return nil
        end
        if output ~= "" then
          eating = true
          if input ~= nil then input = "" end
          return output
        end
      end
    end
  end
end

-- cat(s1, s2, ...): each source in turn until it ends; an error stops it.
function source.cat(...)
  local srcs = callables("source.cat", 1, ...)
  local i = 1
  return function()
    while i <= srcs.n do
      local chunk, err = srcs[i]()
      if chunk ~= nil then return chunk end
      if err then return nil, err end
      i = i + 1
    end
  end
end

------------------------------------------------------------------------------
-- Sinks

-- table(t): appends every chunk to t (a new table if nil); returns sink, t.
function sink.table(t)
  if t == nil then
    t = {}
  elseif type(t) ~= "table" then
    error("bad argument #1 to 'sink.table' (table expected, got " .. type(t) .. ")", 2)
  end
  return function(chunk)
    if chunk then t[#t + 1] = chunk end
    return 1
  end, t
end

-- simplify(snk): a fancy sink may return 1, newsink to hand over.
function sink.simplify(snk)
  callable(snk, 1, "sink.simplify")
  return function(chunk, err)
    local ok, other = snk(chunk, err)
    if not ok then return nil, other end
    if other then snk = other end
    return 1
  end
end

-- file(handle, io_err): writes each chunk, closes the file at the end; a nil
-- handle (io.open failed) gives an error sink.
function sink.file(handle, io_err)
  if not handle then return sink.error(io_err or "unable to open file") end
  local open = true
  return function(chunk)
    if chunk ~= nil then return handle:write(chunk) end
    if open then
      open = false
      handle:close()
    end
    return 1
  end
end

local function discard() return 1 end

function sink.null()
  return discard
end

function sink.error(err)
  return function() return nil, err end
end

-- chain(f, ..., snk): the filter(s) applied before snk. Each chunk is
-- filtered, then the filter is drained with "" (or nil at the end) until
-- it answers the same; every output, the last included, goes to snk.
function sink.chain(f, snk, ...)
  local n = select("#", ...)
  if n > 0 and (...) ~= nil then                 -- as 3.x: a nil third argument ends the list
    local fs = callables("sink.chain", 1, f, snk, ...)
    snk = fs[n + 2]
    f = filter.chain((table.unpack or unpack)(fs, 1, n + 1))   -- luacheck: ignore 113 (5.1: unpack)
  else
    callable(f, 1, "sink.chain")
    callable(snk, 2, "sink.chain")
  end
  return function(chunk, err)
    if chunk == "" then return 1 end
    local drain = chunk and ""
    local out = f(chunk)
    while true do
      local ok, serr = snk(out, err)
      if not ok then return nil, serr end
      if out == drain then return 1 end
      out = f(drain)
    end
  end
end

------------------------------------------------------------------------------
-- Pumps

-- step(src, snk): moves one chunk; 1 while data flows, else nil[, err].
function pump.step(src, snk)
  callable(src, 1, "pump.step")
  callable(snk, 2, "pump.step")
  local chunk, serr = src()
  local ok, kerr = snk(chunk, serr)
  if chunk ~= nil and ok then return 1 end
  return nil, serr or kerr
end

-- all(src, snk, step): steps until the end (1) or an error (nil, err).
function pump.all(src, snk, step)
  callable(src, 1, "pump.all")
  callable(snk, 2, "pump.all")
  if step == nil then
    step = pump.step
  else
    callable(step, 3, "pump.all")
  end
  while true do
    local ok, err = step(src, snk)
    if not ok then
      if err then return nil, err end
      return 1
    end
  end
end

return ltn12
