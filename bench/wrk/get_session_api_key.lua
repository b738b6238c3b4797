-- GET /api/auth/get-session authenticated by an API key (BENCH_API_KEY in x-api-key, no cookie).
wrk.method = "GET"
wrk.headers["x-api-key"] = os.getenv("BENCH_API_KEY")
wrk.path = "/api/auth/get-session"
