-- POST /api/auth/oauth2/token with a single-use credential per request, taken from the pool
-- file BENCH_POOL (one per line, pre-minted by bench/oauth_mint.mjs), split between the
-- BENCH_THREADS wrk threads. BENCH_GRANT: refresh_token or authorization_code (with
-- BENCH_REDIRECT and the PKCE BENCH_VERIFIER). Client authentication: BENCH_AUTH (Basic ...).
-- A thread whose share runs out stops, and done() prints "pool exhausted": wrk still divides
-- by the whole duration, so that row's req/s is then a lower bound (make the pool larger).
local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

local pool = {}
local used = 0
exhausted = false
function init(args)
  local n = tonumber(os.getenv("BENCH_THREADS") or "1")
  local i = 0
  for line in io.lines(os.getenv("BENCH_POOL")) do
    if line ~= "" then
      if i % n == tid - 1 then table.insert(pool, line) end
      i = i + 1
    end
  end
end

local grant = os.getenv("BENCH_GRANT")
local headers = { ["Content-Type"] = "application/x-www-form-urlencoded", ["Authorization"] = os.getenv("BENCH_AUTH") }
local tail = ""
if grant == "authorization_code" then
  tail = "&redirect_uri=" .. os.getenv("BENCH_REDIRECT"):gsub("[^%w%-%._~]", function(c)
    return string.format("%%%02X", string.byte(c)) end) .. "&code_verifier=" .. os.getenv("BENCH_VERIFIER")
end

function request()
  used = used + 1
  local v = pool[used]
  if not v then
    exhausted = true
    wrk.thread:stop()
    return wrk.format("GET", "/api/auth/ok")
  end
  local field = grant == "refresh_token" and "refresh_token" or "code"
  return wrk.format("POST", "/api/auth/oauth2/token", headers, "grant_type=" .. grant .. "&" .. field .. "=" .. v .. tail)
end

function done(summary, latency, requests)
  for _, t in ipairs(threads) do
    if t:get("exhausted") then io.write("pool exhausted in thread ", t:get("tid"), "\n") end
  end
end
