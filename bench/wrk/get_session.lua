-- GET /api/auth/get-session with a valid session cookie (BENCH_COOKIE).
wrk.method = "GET"
wrk.headers["Cookie"] = os.getenv("BENCH_COOKIE")
wrk.path = "/api/auth/get-session"
