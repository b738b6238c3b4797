-- POST /api/auth/sign-up/email with a unique email per request.
local counter = 0
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
function request()
  counter = counter + 1
  local body = string.format('{"email":"b%s_%d_%d@bench.example.com","password":"bench-password-1","name":"Bench"}',
                             os.getenv("BENCH_RUN"), tid or 0, counter)
  return wrk.format("POST", "/api/auth/sign-up/email",
                    { ["Content-Type"] = "application/json", ["Origin"] = os.getenv("BENCH_ORIGIN") }, body)
end
