-- GET BENCH_PATH, with the session cookie when BENCH_COOKIE is set (e.g. /api/auth/token, /api/auth/jwks).
wrk.method = "GET"
wrk.path = os.getenv("BENCH_PATH")
local cookie = os.getenv("BENCH_COOKIE")
if cookie and cookie ~= "" then wrk.headers["Cookie"] = cookie end
