-- An OAuth resource call: GET BENCH_PATH with "Authorization: Bearer BENCH_TOKEN" (userinfo),
-- or, with BENCH_BODY set, POST it as a form with "Authorization: BENCH_AUTH" (introspection
-- with client_secret_basic).
local body = os.getenv("BENCH_BODY")
wrk.path = os.getenv("BENCH_PATH")
if body and body ~= "" then
  wrk.method = "POST"
  wrk.body = body
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  wrk.headers["Authorization"] = os.getenv("BENCH_AUTH")
else
  wrk.method = "GET"
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
end
