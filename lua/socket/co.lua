-- socket.co: blocking-style socket code, run concurrently (API.md §12.2).
-- Inside a task, a method that would block yields here (wait.c) with what
-- it waits for: an fd and "r"/"w" bits (or a set, from select), and a
-- monotonic deadline. This loop waits with socket.poller() (epoll) and a
-- timer heap, then resumes the tasks whose fd is ready or whose deadline
-- passed; the method restarts and returns exactly what it would outside.
local socket = require("socket")

local create, resume, cstatus, crunning = coroutine.create, coroutine.resume,
  coroutine.status, coroutine.running
local unpack = table.unpack or _G.unpack
local pack = table.pack or function(...) return { n = select("#", ...), ... } end
local floor, huge = math.floor, math.huge
local pcall, error = pcall, error
local now = socket._now

local co = {}

-- A timeout argument: nil, or a number (NaN counts as 0, as in settimeout;
-- math.huge as nil: a time that never comes).
local function timeoutarg(t, fname)
  if t ~= nil and type(t) ~= "number" then
    error(("bad argument #1 to '%s' (number expected, got %s)"):format(fname, type(t)), 3)
  end
  if t ~= t then return 0 end
  if t == math.huge then return nil end
  return t
end

local tasks = setmetatable({}, { __mode = "k" })   -- thread -> its number: what wait.c asks
local serial = 0                                    -- (call.c tells a task from a later one at its address)
local live = {}                                     -- thread -> task record
local nlive = 0
local ready = {}                                    -- records to resume next
local spare = {}                                    -- the other one of the two ready lists
local heap = {}                                     -- timers: {at, rec}, one per task at most
local nstale = 0                                    -- heap entries {at, false}: their task moved on
local stepping = false                              -- a step is running (no nested step or run)
local poller = assert(socket.poller())
local padd, premove, pcollect, ptake = poller._add, poller._remove, poller._collect, poller._take
local out = {}
local WAIT                                          -- what wait.c yields first (set below)

-- Timers: a binary heap of entries {at, rec}. A task owns at most one
-- entry (rec.timer, with entry[2] == rec); an entry its task no longer owns
-- (superseded, or the task finished) is {at, false}, holds nothing, and is
-- dropped when it comes to the top. Once such entries are most of the heap,
-- it is rebuilt without them, so finished tasks cost nothing after a while
-- even under deadlines that never come (settimeout(math.huge)).
local function siftdown(i, n)
  local e = heap[i]
  local at = e[1]
  while true do
    local m = 2 * i
    if m > n then break end
    if m < n and heap[m + 1][1] < heap[m][1] then m = m + 1 end
    if heap[m][1] >= at then break end
    heap[i] = heap[m]
    i = m
  end
  heap[i] = e
end

local function heappush(e)
  local i = #heap + 1
  heap[i] = e
  while i > 1 do
    local p = floor(i / 2)
    if heap[p][1] <= e[1] then break end
    heap[i], heap[p] = heap[p], e
    i = p
  end
end

local function heappop()
  local n = #heap
  local top = heap[1]
  heap[1] = heap[n]
  heap[n] = nil
  if n > 2 then siftdown(1, n - 1) end
  return top
end

local function compact()
  local h, n = {}, 0
  for i = 1, #heap do
    local e = heap[i]
    if e[2] then
      n = n + 1
      h[n] = e
    end
  end
  heap, nstale = h, 0
  for i = floor(n / 2), 1, -1 do siftdown(i, n) end
end

-- rec gives up its timer entry.
local function droptimer(rec)
  local e = rec.timer
  if e then
    rec.timer, e[2] = nil, false
    nstale = nstale + 1
    if nstale > 64 and nstale * 2 > #heap then compact() end
  end
end

-- Who waits on which fd lives in the poller (poller.c, "Waiters"): _add
-- registers a task record, _collect waits and hands back the records whose
-- fd is ready (already taken off that fd), _remove and _take drop them.
-- A read interest outlives its wait there, and a wait that repeats the last
-- registration of the same descriptor (the token from wait.c) costs no
-- system call.
local function unregister(rec)
  local fd = rec.fd
  if fd then                                        -- one fd (the usual case)
    premove(poller, fd, rec.bits, rec)
    rec.fd = false                                  -- (false, not nil: the key stays, no rehash)
  else
    local fds = rec.fds
    if fds then                                     -- a set, from select
      for i = 1, #fds, 2 do premove(poller, fds[i], fds[i + 1], rec) end
      rec.fds = nil
    end
  end
  rec.deadline = -1                                 -- its timer entry is stale now
end

local function wake(rec)
  if not rec.waiting then return end
  rec.waiting = false
  unregister(rec)
  ready[#ready + 1] = rec
end

-- What a task yielded: fd (or {fd, bits, ...}), bits, deadline, token.
-- A task keeps one timer entry while its deadlines only move later (a
-- socket timeout renewed at every wait): the entry is pushed back with the
-- current deadline when it comes due, instead of a new entry per wait.
local function register(rec, fd, bits, deadline, token)
  rec.waiting = true
  if bits ~= 0 then                                 -- one fd (wait.c): the usual case
    rec.fd, rec.bits = fd, bits
    if not padd(poller, fd, bits, token, rec) then wake(rec) return end   -- look again now
  elseif type(fd) == "table" then                   -- a set, from select
    rec.fds = fd
    for i = 1, #fd, 2 do
      if not padd(poller, fd[i], fd[i + 1], nil, rec) then wake(rec) return end
    end
  end                                               -- else only a deadline (sleep, backoff)
  rec.deadline = deadline
  if deadline >= 0 then
    local e = rec.timer
    if not e or e[1] > deadline then
      droptimer(rec)
      e = { deadline, rec }
      rec.timer = e
      heappush(e)
    end
  end
end

local function finish(rec)
  unregister(rec)
  droptimer(rec)                                    -- the entry must not keep the task alive
  live[rec.co], tasks[rec.co] = nil, nil
  nlive = nlive - 1
end

-- Lua 5.1 and LuaJIT (compat.c): a method cannot go on after a yield, so
-- its yield leaves a record of how to go on in K51.pending[thread]. On
-- wake-up a fresh helper coroutine runs the record (K51.run) on behalf of
-- the task, which stays parked in the method's call; when the method is
-- done its results resume the task. A record that waits again is kept.
local K51 = socket._k51
local k51run, k51pending, k51self = nil, nil, nil
local function k51body(...) return k51run(...) end
if K51 then k51run, k51pending, k51self = K51.run, K51.pending, K51.self end

-- A task parked in co.pcall (PUC 5.1) whose method raised after a wait:
-- the error goes to that co.pcall (as RAISED, err), not out of the task.
local k51parked = setmetatable({}, { __mode = "k" })
local RAISED = {}

-- Runs what rec's last record goes on with; then as resume(rec.co, ...).
local function k51resume(rec, r, args)
  rec.k51 = nil
  local h = create(k51body)
  tasks[h], k51self[h] = true, rec.co
  local res
  if args then
    res = pack(resume(h, r, unpack(args, 1, args.n)))
  else
    res = pack(resume(h, r))
  end
  tasks[h], k51self[h] = nil, nil
  if not res[1] then                                -- the method raised: the task's error,
    if k51parked[rec.co] then return resume(rec.co, RAISED, res[2]) end   -- or its co.pcall's
    return false, res[2]
  end
  if cstatus(h) == "dead" then                       -- done: its results go to the task
    return resume(rec.co, unpack(res, 2, res.n))
  end
  rec.k51, k51pending[h] = k51pending[h], nil        -- it waits again
  return true, res[2], res[3], res[4], res[5], res[6]
end

-- Resumes one task; returns false, err when it raised and nobody took it.
local DEAD = "cannot resume dead coroutine"

local function run(rec)
  if rec.dropped then return true end               -- co._drop: never resumed again
  local args = rec.args
  local ok, a, b, c, d, e
  if args then rec.args = nil end
  local r = rec.k51
  if r then
    ok, a, b, c, d, e = k51resume(rec, r, args)
  elseif args then
    ok, a, b, c, d, e = resume(rec.co, unpack(args, 1, args.n))
  else
    ok, a, b, c, d, e = resume(rec.co)
  end
  if K51 and ok then                                -- a yield out of a method: how to go on
    r = k51pending[rec.co]
    if r then rec.k51, k51pending[rec.co] = r, nil end
  end
  if not ok then
    finish(rec)
    -- Closed from outside (coroutine.close) while it waited: nothing ran.
    -- Asking first would cost a coroutine.status call on every resume.
    if a == DEAD and cstatus(rec.co) == "dead" then return true end
    local onerror = co.onerror
    if onerror then                                 -- if it raises, that error leaves the step
      local hok, herr = pcall(onerror, rec.co, a)
      if hok then return true end
      return false, herr
    end
    return false, a
  end
  if a == WAIT then                                 -- a wait (a finished task returns nothing)
    register(rec, b, c, d, e)
  elseif cstatus(rec.co) == "dead" then
    finish(rec)
  else
    ready[#ready + 1] = rec                         -- a plain coroutine.yield: go on later
  end
  return true
end

function co.spawn(fn, ...)
  assert(type(fn) == "function", "bad argument #1 to 'spawn' (function expected)")
  local t = create(function(...) fn(...) end)      -- returns nothing: never taken for a wait
  local rec = { co = t, args = pack(...), waiting = false, deadline = -1, fd = false, bits = 0 }
  serial = serial + 1
  live[t], tasks[t] = rec, serial
  nlive = nlive + 1
  ready[#ready + 1] = rec
  return t
end
co.event = co.spawn

-- One iteration: wait (at most `timeout` seconds; nil: until something
-- happens) for the earliest deadline or a ready fd, resume what is ready.
-- Returns the number of live tasks, and true when nothing can ever happen:
-- no task is ready, none waits on an fd or a deadline, and no timeout was
-- given (the step then returns at once instead of waiting forever).
local function step(timeout)
  stepping = true
  local limit = #ready > 0 and 0 or (timeout or -1)
  local top = heap[1]
  while top and not top[2] do                       -- a stale entry: nothing to wait for
    heappop()
    nstale = nstale - 1
    top = heap[1]
  end
  if top and top[1] < huge then                     -- a deadline at +inf never comes
    local d = top[1] - now()
    if d < 0 then d = 0 end
    if limit < 0 or d < limit then limit = d end
  end
  local n = pcollect(poller, limit, out)            -- -1: waits on nothing, and no limit
  for i = 1, n do
    local rec = out[i]
    out[i] = nil                                    -- holds no finished task alive
    if rec.waiting then                             -- else already woken (a select set)
      rec.waiting = false
      if rec.fds then unregister(rec) end           -- the rest of a select set (one fd: taken off)
      rec.fd, rec.deadline = false, -1
      ready[#ready + 1] = rec
    end
  end
  local t = now()
  while heap[1] and heap[1][1] <= t do
    local e = heappop()
    local rec = e[2]
    if not rec then                                 -- its task moved on
      nstale = nstale - 1
    else
      local d = rec.deadline
      if not rec.waiting or d < 0 then
        rec.timer = nil
      elseif d <= t then
        rec.timer = nil
        wake(rec)
      else                                          -- the deadline moved on: due later
        e[1] = d
        heappush(e)
      end
    end
  end
  local batch = ready
  ready, spare = spare, batch
  local count = #batch                              -- before the loop empties it from the front
  for i = 1, count do
    local rec = batch[i]
    batch[i] = nil
    local ok, err = run(rec)
    if not ok then                                  -- the others stay queued
      for j = i + 1, count do
        ready[#ready + 1] = batch[j]
        batch[j] = nil
      end
      stepping = false
      error(err, 0)
    end
  end
  stepping = false
  return nlive, n < 0
end

-- A task (or co.onerror) calling co.run or co.step would resume tasks from
-- inside the step that resumed it.
local function notnested(fname)
  if stepping then
    error(("cannot call '%s' from a task or from co.onerror (the scheduler is already running)")
      :format(fname), 3)
  end
end

function co.step(timeout)
  timeout = timeoutarg(timeout, "step")
  notnested("step")
  return (step(timeout))
end

-- Returns true when no task is left, nil, "timeout" when the time ran out,
-- and nil, "deadlock" (no timeout given) when tasks are left but none can
-- ever be woken: each waits on nothing, with no deadline.
function co.run(timeout)
  timeout = timeoutarg(timeout, "run")
  notnested("run")
  local deadline = timeout and now() + timeout
  while nlive > 0 do
    local left
    if deadline then
      left = deadline - now()
      if left <= 0 then return nil, "timeout" end
    end
    local _, stuck = step(left)
    if stuck then return nil, "deadlock" end
  end
  return true
end

co.sleep = socket.sleep

-- co._drop(thread): the task ends where it is parked and is never resumed
-- (socket.httpd ends the handlers still running at its stop deadline: a
-- handler that never returns must not keep co.run going). Where
-- coroutine.close exists (5.4) the coroutine is closed, so its pending
-- to-be-closed variables run. Returns true when thread was a task, other
-- than the running one, and now is not.
function co._drop(t)
  local rec = live[t]
  if not rec or t == co.running() then return false end
  rec.dropped = true
  finish(rec)
  if K51 then k51pending[t] = nil end
  local close = coroutine.close
  if close and cstatus(t) == "suspended" then pcall(close, t) end
  return true
end

-- co.pcall(f, ...): pcall, except that on PUC Lua 5.1 and LuaJIT (no C
-- continuations) f runs in a coroutine of its own whose yields (and the
-- record of how its wait goes on, compat.c) pass through this task: on
-- PUC 5.1 a wait under pcall cannot yield, and on both an error raised
-- after a wait in Lua code that C called (socket.protect) comes back here
-- instead of leaving the task.
local cyield = coroutine.yield
local k51yieldable = K51 and K51.yieldable
function co.pcall(f, ...)
  local me = crunning()
  -- (under a C boundary, e.g. a plain pcall, the task cannot yield here: f's waits block)
  if not (K51 and me and tasks[me] and k51yieldable()) then return pcall(f, ...) end
  local t = create(function(...) return f(...) end)   -- (5.1's create takes no C function)
  tasks[t], k51self[t] = true, k51self[me] or me
  local r = pack(resume(t, ...))
  while r[1] and cstatus(t) ~= "dead" do
    k51pending[me], k51pending[t] = k51pending[t], nil
    k51parked[me] = true
    local back = pack(cyield(unpack(r, 2, r.n)))
    k51parked[me] = nil
    if back[1] == RAISED and not k51parked[t] then   -- (else it is for a co.pcall inside t)
      r = { false, back[2], n = 2 }
      break
    end
    r = pack(resume(t, unpack(back, 1, back.n)))
  end
  tasks[t], k51self[t] = nil, nil
  return unpack(r, 1, r.n)
end
if not K51 then co.pcall = pcall end                 -- elsewhere it is pcall itself: no extra call

function co.running()
  local t = crunning()
  if K51 and t and not live[t] then t = k51self[t] end   -- a helper thread (5.1, LuaJIT)
  return live[t] and t or nil
end

-- server:foreachaccept in a task: one task per client (stream.c). A handler
-- that returns false stops the loop by closing the server.
local stopped = setmetatable({}, { __mode = "k" })
-- On a setssl server the TLS handshake runs here, in the client's own task
-- (tlsaccept from stream.c): a client that stalls it holds up only itself.
-- A client whose handshake fails is skipped, as in the blocking loop.
local k51entry = K51 and K51.entry
local function spawnclient(handler, client, server, tlsaccept)
  if k51entry and tlsaccept then tlsaccept = k51entry(tlsaccept) end   -- may yield (5.1, LuaJIT)
  co.spawn(function()
    if tlsaccept then
      client = tlsaccept(server, client)
      if not client then return end
    end
    if handler(client) == false then
      stopped[server] = true
      server:close()
    end
  end)
end

-- A socket is being closed: whoever waits on its fd wakes and finds it so.
local closing = {}
local function onclose(fd)
  for i = 1, ptake(poller, fd, closing) do
    local rec = closing[i]
    closing[i] = nil                                -- holds no finished task alive
    wake(rec)
  end
end

WAIT = socket._cosetup(tasks, spawnclient, stopped, onclose)
co._WAIT = WAIT

return co
