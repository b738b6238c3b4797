#!/usr/bin/env bash
# get-session for a user with two-factor on vs one without, same server, same run,
# interleaved rounds (issue 16: "costs the same"). Needs a running cluster (PGHOST/PGPORT/PGUSER,
# e.g. `. .run/<name>.env`) with the extension installed, and build/cmake/pgauth-http.
#   bench/two_factor.sh            BENCH_ROUNDS=3 rounds of BENCH_SECONDS=5 s per case, 32 connections
#   bench/two_factor.sh --smoke    one round of 1 s, 4 connections (checks the harness)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
rounds=${BENCH_ROUNDS:-3}; secs=${BENCH_SECONDS:-5}; conns=32
[ "${1:-}" = "--smoke" ] && { rounds=1; secs=1; conns=4; }
: "${PGPORT:?source a cluster env first}"
db=pgauth_bench_2fa
bash scripts/test-db.sh "$db" pgauth_bench_2fa pgauth_service >/dev/null
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
PGAUTH_DATABASE_URL="postgresql://pgauth_bench_2fa@127.0.0.1:$PGPORT/$db" PGAUTH_SECRET="bench-secret-0123456789abcdef0123456789" \
  PGAUTH_LISTEN="127.0.0.1:$port" PGAUTH_RATE_LIMIT=off "$root/build/cmake/pgauth-http" >/dev/null 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait 2>/dev/null || true' EXIT
base="http://127.0.0.1:$port/api/auth"
for _ in $(seq 1 200); do curl -sf "$base/ok" >/dev/null 2>&1 && break; sleep 0.05; done

# Two users with a live session each; then two-factor is switched on for the second (the
# session already exists, so get-session is what is measured: the same row read either way).
cookie_of() {
  curl -s -i -X POST "$base/sign-up/email" -H 'content-type: application/json' -H "origin: http://127.0.0.1:$port" \
    -d "{\"email\":\"$1\",\"password\":\"bench-password-123\",\"name\":\"Bench\"}" |
    tr -d '\r' | sed -n 's/^Set-Cookie: \(better-auth\.session_token=[^;]*\).*/\1/ip' | head -1
}
plain=$(cookie_of "plain.$$@example.com")
second=$(cookie_of "twofactor.$$@example.com")
psql -qd "$db" -c "UPDATE auth.users SET two_factor_enabled = true WHERE email = 'twofactor.$$@example.com'" >/dev/null
[ "$(curl -s -H "Cookie: $second" "$base/get-session" | head -c 4)" != "null" ] || { echo "no session for the 2FA user" >&2; exit 1; }

declare -A sum
for r in $(seq 1 "$rounds"); do
  for case in plain twofactor; do
    c=$plain; [ $case = twofactor ] && c=$second
    rps=$(BENCH_COOKIE="$c" wrk -t2 -c"$conns" -d"${secs}s" -s bench/wrk/get_session.lua "http://127.0.0.1:$port" |
      awk '/Requests\/sec/ {print $2}')
    echo "round $r  $case  ${rps} req/s"
    sum[$case]=$(/usr/bin/python3 -c "print(${sum[$case]:-0} + ${rps:-0})")
  done
done
/usr/bin/python3 - "${sum[plain]}" "${sum[twofactor]}" "$rounds" <<'PY'
import sys
plain, two, n = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
print(f"mean: without 2FA {plain/n:.0f} req/s, with 2FA {two/n:.0f} req/s, ratio {two/plain if plain else 0:.3f}")
PY
