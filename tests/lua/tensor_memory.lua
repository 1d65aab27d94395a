-- tensor_memory.lua: tensors are freed. Lua's collector does not see tensor
-- bytes, so the library must step it in proportion to what it allocates
-- (DESIGN.md "Tensors and memory"); __close frees at once; views copy nothing.
--
-- Measured with attn.memory() (live tensor bytes, where the library has it),
-- VmRSS from /proc/self/status (skipped where that file does not exist, and
-- under sanitizers) and collectgarbage("count"). Each loop below allocates far more than
-- its bound: 2000 x randn(256,256) is 2000 x 256 KiB = 500 MiB in total, so a
-- library that never frees would exceed the bound of 200 MiB of growth.

local T = dofile((os.getenv("ATTNLAB_PATH") or ".") .. "/tests/lua/tap.lua")
local attn = attn or require "attn"

local MiB = 1024 * 1024

-- Under AddressSanitizer (freed blocks wait in a 256 MiB quarantine) or
-- valgrind, resident memory says little about freeing: skip RSS there.
-- ASan is found as a shared libasan in the process's maps or, linked
-- statically, by its name inside the executable.
local function slurp(path)
  local f = io.open(path, "rb")
  if not f then return "" end
  local s = f:read("a") or ""
  f:close()
  return s
end
local function rss_meaningless()
  local maps = slurp("/proc/self/maps")
  if maps:find("vgpreload", 1, true) then return "valgrind changes resident memory" end
  if maps:find("libasan", 1, true) or slurp("/proc/self/exe"):find("AddressSanitizer", 1, true) then
    return "AddressSanitizer keeps freed memory"
  end
  return nil
end
local RSS_SKIP = rss_meaningless()

-- resident set size in bytes, or nil
local function rss()
  local f = io.open("/proc/self/status", "r")
  if not f then return nil end
  local text = f:read("a")
  f:close()
  local kb = text:match("VmRSS:%s*(%d+)%s*kB")
  return kb and tonumber(kb) * 1024 or nil
end

-- bytes of tensor data alive, where the library reports it (attn.memory is
-- not in API.md, so it is optional here)
local function live()
  if type(attn.memory) ~= "function" then return nil end
  local okc, b = pcall(attn.memory)
  return okc and type(b) == "number" and b or nil
end

local function snapshot()
  return {rss = rss(), live = live()}
end

-- two views of one bound: live tensor bytes (allocator-independent) and the
-- resident set of the process
local function check_growth(before, bound, name)
  local after = snapshot()
  if before.live and after.live then
    T.ok(after.live - before.live < bound, name .. " (live tensor bytes)",
         ("live tensor bytes grew by %.1f MiB (bound %.0f MiB)"):format(
           (after.live - before.live) / MiB, bound / MiB))
  else
    T.skip(name .. " (live tensor bytes)", "no attn.memory()")
  end
  if RSS_SKIP then
    T.skip(name .. " (resident memory)", RSS_SKIP)
  elseif before.rss and after.rss then
    T.ok(after.rss - before.rss < bound, name .. " (resident memory)",
         ("resident memory grew by %.1f MiB (bound %.0f MiB)"):format(
           (after.rss - before.rss) / MiB, bound / MiB))
  else
    T.skip(name .. " (resident memory)", "no /proc/self/status VmRSS")
  end
end

T.section("temporaries in a loop are collected", function()
  collectgarbage()
  local before = snapshot()
  local lua_before = collectgarbage("count")
  for _ = 1, 2000 do
    local t = attn.randn(256, 256)
    t = nil
  end
  -- no explicit collectgarbage here: the library has to step the collector
  check_growth(before, 200 * MiB, "2000 x randn(256,256) (500 MiB in all) stays bounded")
  local lua_after = collectgarbage("count")
  T.ok(lua_after - lua_before < 32 * 1024, "the Lua heap stays modest",
       ("Lua heap grew by %.0f KiB"):format(lua_after - lua_before))
end)

T.section("temporaries of ops are collected", function()
  collectgarbage()
  local before = snapshot()
  local x = attn.randn(256, 256)
  for _ = 1, 300 do
    local y = ((x * 2 + 1):exp() - x):relu():softmax(2):matmul(x)
    y = nil
  end
  -- each iteration makes 7 temporaries of 256 KiB: 525 MiB in all
  check_growth(before, 200 * MiB, "300 iterations of a 7-op expression stay bounded")
end)

T.section("__close frees at once", function()
  T.ok(getmetatable(attn.ones(1)).__close ~= nil, "tensors have a __close metamethod")
  collectgarbage()
  local before = snapshot()
  collectgarbage("stop") -- only __close can free now
  local okc, err = pcall(function()
    for _ = 1, 1000 do
      local t <close> = attn.randn(256, 256)
    end
  end)
  collectgarbage("restart")
  T.ok(okc, "a <close> tensor in a loop runs", tostring(err))
  check_growth(before, 100 * MiB, "1000 x <close> randn(256,256) with the collector stopped")
  -- closing then collecting the same tensor is harmless (idempotent release)
  local kept
  do
    local t <close> = attn.ones(2)
    kept = t
  end
  T.lives(function() kept = nil; collectgarbage(); collectgarbage() end,
          "collecting a closed tensor is harmless")
  -- an explicit close inside a <close> block: the block's own close must not fail
  T.lives(function()
    do
      local t <close> = attn.ones(3)
      t:close()
    end
  end, "t:close() inside a <close> block, then the block's close")
  -- a closed tensor is an error to use, not a crash
  local c = attn.ones(2)
  c:close()
  T.raises(function() return c:sum() end, "closed", "using a closed tensor is an error")
  T.raises(function() return c + 1 end, "closed", "arithmetic on a closed tensor is an error")
end)

T.section("views copy nothing", function()
  local big = attn.zeros(1024, 1024) -- 4 MiB
  collectgarbage()
  local before = snapshot()
  local views = {}
  for i = 1, 2000 do -- 2000 live views; copies would be 8 GiB
    views[i] = big:T():narrow(1, 1 + i % 100, 512):select(2, 1 + i % 7)
  end
  check_growth(before, 50 * MiB, "2000 live views of a 4 MiB tensor stay small")
  -- views keep their storage alive after the base is dropped
  local v = big:narrow(1, 1, 2)
  big = nil
  views = nil
  collectgarbage()
  collectgarbage()
  T.is(v:shape(), {2, 1024}, "a view outlives its base")
  T.is(v:get(2, 1024), 0, "and still reads its data")
end)

if attn.memory then
  T.section("attn.memory", function()
    -- a fresh 1 MiB tensor adds exactly 1 MiB of live data; closing it takes
    -- it away again
    collectgarbage()
    collectgarbage() -- nothing left for the allocation's collector step to free
    local b0 = attn.memory()
    local t <close> = attn.zeros(256, 1024)
    T.is(attn.memory() - b0, MiB, "attn.memory() counts a new [256,1024] as 1 MiB")
    t:close()
    T.is(attn.memory() - b0, 0, "attn.memory() drops it again after close()")
  end)
end

T.section("big tensors are reused, cleanly", function()
  -- Tensors over 32 MiB are kept for reuse when freed: a new one of the same
  -- size gets the old memory back, and must still hold what it is made of.
  local n = 9 * MiB // 4 * 4           -- 36 MiB of floats
  for round = 1, 3 do
    local a <close> = attn.full({n}, round)
    T.is(a:sum():item(), round * n, ("round %d: a full tensor sums to n * value"):format(round))
    a:close()
    local z <close> = attn.zeros(n)
    T.is(z:max():item(), 0, ("round %d: zeros after a freed full tensor of the same size"):format(round))
  end
  T.is(attn.memory() >= 0, true, "live memory stays counted")
end)

T.done_testing()
