-- POST /api/auth/sign-in/email for one existing user, each request from a new
-- client address (X-Forwarded-For; the server trusts 127.0.0.1 as its proxy), so
-- the strict sign-in limit (3 per 10 s per address) never refuses one and the
-- rate-limit store's own cost is what differs between two servers.
local counter = 0
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end
wrk.method = "POST"
wrk.path = "/api/auth/sign-in/email"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Origin"] = os.getenv("BENCH_ORIGIN")
wrk.body = string.format('{"email":"%s","password":"%s"}', os.getenv("BENCH_EMAIL"), os.getenv("BENCH_PASSWORD"))
function request()
  counter = counter + 1
  local run = tonumber(os.getenv("BENCH_RUN")) or 0
  local n = (run % 200) * 65536 + counter
  wrk.headers["X-Forwarded-For"] = string.format("10.%d.%d.%d", id or 0, math.floor(n / 256) % 256, n % 256)
  return wrk.format()
end
