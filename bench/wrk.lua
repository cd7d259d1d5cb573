-- wrk script for weft: each request picks a scenario and a random logged-in user.
-- Set by bench/http.sh through environment variables:
--   WEFT_SCENARIO  home | home2k | public | profile | thread | post | like | mixed
--                  | search (logged out) | search_user (logged in: visibility of followed accounts)
--                  | explore (trends)
--   WEFT_FIXTURES  a Lua file defining `sessions` ({cookie, csrf} pairs), `posts` (paths), `users`
--                  and `queries` (URL-encoded search queries of one to three words)
--   WEFT_DELAY_MS  pause between a connection's requests (0 = as fast as possible)
local scenario = os.getenv("WEFT_SCENARIO") or "home"
local delay_ms = tonumber(os.getenv("WEFT_DELAY_MS") or "0")
dofile(os.getenv("WEFT_FIXTURES"))

local counter = 0
local thread_errors = 0

function setup(thread)
  thread:set("id", math.random(1, 1e9))
end

function init(args)
  math.randomseed(id or os.time())
end

local function pick(t) return t[math.random(1, #t)] end

local function get(path, s)
  local h = {}
  if s then h["Cookie"] = s[1] end
  return wrk.format("GET", path, h)
end

local function post(path, s, body)
  return wrk.format("POST", path, {
    ["Cookie"] = s[1],
    ["X-CSRF-Token"] = s[2],
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }, body)
end

local kinds = {}
kinds.home = function() return get("/", pick(sessions)) end
-- Accounts that follow about 2,000 others each (`weft bench seed --heavy-users`).
kinds.home2k = function() return get("/", pick(heavy_sessions)) end
kinds.public = function() return get("/public", nil) end
kinds.profile = function() return get("/@" .. pick(users), nil) end
kinds.thread = function() return get(pick(posts), nil) end
kinds.post = function()
  counter = counter + 1
  return post("/posts", pick(sessions), "body=bench+post+" .. counter .. "+%23bench&visibility=public")
end
kinds.like = function()
  local p = pick(posts)
  local id = string.match(p, "/(%d+)$")
  return post("/posts/" .. id .. "/like", pick(sessions), "on=1")
end
kinds.search = function() return get("/search?q=" .. pick(queries), nil) end
kinds.explore = function() return get("/explore", nil) end
kinds.search_user = function() return get("/search?q=" .. pick(queries), pick(sessions)) end
kinds.mixed = function()
  local r = math.random(1, 100)
  if r <= 2 then return kinds.post()
  elseif r <= 10 then return kinds.like()
  elseif r <= 55 then return kinds.home()
  elseif r <= 70 then return kinds.thread()
  elseif r <= 85 then return kinds.profile()
  else return kinds.public() end
end

function request()
  return kinds[scenario]()
end

function delay()
  return delay_ms
end

function done(summary, latency, requests)
  local errors = summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout
  io.write(string.format(
    "RESULT scenario=%s requests=%d rps=%.0f p50_ms=%.2f p99_ms=%.2f p999_ms=%.2f errors=%d\n",
    scenario, summary.requests, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency:percentile(99.9) / 1000,
    errors))
end
