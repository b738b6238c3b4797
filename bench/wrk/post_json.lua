-- POST BENCH_PATH with the JSON body BENCH_BODY, the session cookie and the page's Origin
-- (e.g. /api/auth/organization/has-permission).
wrk.method = "POST"
wrk.path = os.getenv("BENCH_PATH")
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Origin"] = os.getenv("BENCH_ORIGIN")
local cookie = os.getenv("BENCH_COOKIE")
if cookie and cookie ~= "" then wrk.headers["Cookie"] = cookie end
wrk.body = os.getenv("BENCH_BODY")
