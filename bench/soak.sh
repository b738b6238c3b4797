#!/usr/bin/env bash
# `make soak` (not part of make test): pgauth-http under wrk at 256 connections
# for SOAK_SECONDS (default 600) on get-session, sign-in and token at once, with
# a PostgreSQL restart in the middle. Reports throughput and errors per route,
# the requests the restart failed and how long until answers were 200 again,
# and pgauth-http's RSS at the start and the end.
#   bench/soak.sh                  10 minutes, on its own cluster `soak`
#   SOAK_SECONDS=60 bench/soak.sh  a shortened run
# With PGHOST/PGPORT/PGDATA of a running cluster in the environment it uses (and
# restarts) that cluster instead. PGAUTH_HTTP_BIN picks the binary (default: build/cmake).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
secs=${SOAK_SECONDS:-600}
bin=${PGAUTH_HTTP_BIN:-$root/build/cmake/pgauth-http}
out=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  [ "${own_cluster:-0}" = 1 ] && bash scripts/cluster.sh stop soak >/dev/null 2>&1
  rm -rf "$out"
}
trap cleanup EXIT
[ -x "$bin" ] || { echo "soak: build pgauth-http first ($bin)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "soak: wrk missing (scripts/install-deps.sh)" >&2; exit 1; }

own_cluster=0
if [ -z "${PGPORT:-}" ] || [ -z "${PGDATA:-}" ]; then
  bash scripts/cluster.sh start soak >/dev/null; own_cluster=1
  # shellcheck disable=SC1091
  . .run/soak.env
fi
bindir=$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)
[ -x "$bindir/pg_ctl" ] || bindir=/usr/lib/postgresql/15/bin
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
now_ms() { date +%s%3N; }

db=pgauth_soak
dropdb --if-exists "$db" >/dev/null 2>&1; createdb "$db"
psql -qd "$db" -v ON_ERROR_STOP=1 >/dev/null 2>&1 <<'SQL'
SET client_min_messages = error;
CREATE EXTENSION pgauth;
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pgauth_bench') THEN CREATE ROLE pgauth_bench LOGIN IN ROLE pgauth_service; END IF;
END $$;
SQL
port=$(free_port); base="http://127.0.0.1:$port"
psql -qd "$db" -c "ALTER DATABASE $db SET pgauth.base_url = '$base'" >/dev/null
PGAUTH_DATABASE_URL="postgresql://pgauth_bench@127.0.0.1:$PGPORT/$db" PGAUTH_SECRET="soak-secret-0123456789abcdef0123456789" \
  PGAUTH_LISTEN="127.0.0.1:$port" PGAUTH_RATE_LIMIT=off PGAUTH_MAX_CONNECTIONS_PER_IP=1024 \
  PGAUTH_DB_QUEUE=2048 PGAUTH_POOL_WAIT_MS=10000 \
  "$bin" >"$out/requests.log" 2>"$out/server.log" &
pids+=($!); server=$!
for _ in $(seq 200); do curl -sf "$base/api/auth/ok" >/dev/null 2>&1 && break; sleep 0.05; done

email="soak-$RANDOM$RANDOM@example.com"; password="soak-password-1"
curl -sf -o /dev/null "$base/api/auth/sign-up/email" -H 'content-type: application/json' -H "origin: $base" \
  -d "{\"email\":\"$email\",\"password\":\"$password\",\"name\":\"Soak\"}"
cookie=$(curl -s -D - -o /dev/null "$base/api/auth/sign-in/email" -H 'content-type: application/json' -H "origin: $base" \
  -d "{\"email\":\"$email\",\"password\":\"$password\"}" | grep -i '^set-cookie: better-auth.session_token=' | head -1 |
  sed 's/^[Ss]et-[Cc]ookie: //; s/;.*//' | tr -d '\r')
[ -n "$cookie" ] || { echo "soak: no session cookie" >&2; cat "$out/server.log" >&2; exit 1; }
curl -sf -o /dev/null -H "cookie: $cookie" "$base/api/auth/token" || { echo "soak: /token fails (pgauth.key_file?)" >&2; exit 1; }
rss_start=$(rss_kb "$server")

# Requests queue (PGAUTH_DB_QUEUE, PGAUTH_POOL_WAIT_MS raised) instead of being shed as
# "busy", so the failures counted are the restart's.
echo "soak: ${secs}s, 256 connections (get-session 160, sign-in 32, token 64), PostgreSQL restart at $((secs / 2))s"
BENCH_COOKIE="$cookie" wrk -t2 -c160 -d"${secs}s" --latency -s bench/wrk/get_session.lua "$base" >"$out/get-session.txt" 2>&1 &
pids+=($!); w1=$!
BENCH_EMAIL="$email" BENCH_PASSWORD="$password" BENCH_ORIGIN="$base" \
  wrk -t1 -c32 -d"${secs}s" --latency -s bench/wrk/sign_in.lua "$base" >"$out/sign-in.txt" 2>&1 &
pids+=($!); w2=$!
BENCH_COOKIE="$cookie" BENCH_PATH=/api/auth/token wrk -t1 -c64 -d"${secs}s" --latency -s bench/wrk/get.lua "$base" >"$out/token.txt" 2>&1 &
pids+=($!); w3=$!

sleep $((secs / 2))
rss_mid=$(rss_kb "$server")
restart_start=$(now_ms)
as_pg "$bindir/pg_ctl" -D "$PGDATA" -m fast -w restart -l "$PGDATA/../restart.log" >/dev/null
restart_done=$(now_ms)
# Recovery: the first get-session answered 200 after the restart began.
recovered=""
for _ in $(seq 600); do
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "cookie: $cookie" --max-time 2 "$base/api/auth/get-session" || true)
  if [ "$code" = 200 ]; then recovered=$(now_ms); break; fi
  sleep 0.05
done
wait "$w1" "$w2" "$w3" || true
rss_end=$(rss_kb "$server")
alive=yes; kill -0 "$server" 2>/dev/null || alive=no

summary() {  # file -> "requests req/s p99 errors"
  /usr/bin/python3 - "$1" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
req = re.search(r"(\d+) requests in", t); rps = re.search(r"Requests/sec:\s+([\d.]+)", t)
p99 = re.search(r"99%\s+([\d.]+\w+)", t); non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", t)
errs = sum(map(int, sock.groups())) if sock else 0
print(f"{req.group(1) if req else '?'} | {rps.group(1) if rps else '?'} | {p99.group(1) if p99 else '?'} | "
      f"{non2xx.group(1) if non2xx else 0} | {errs}")
PY
}
# Failed answers in the server's log, and when they happened relative to the restart.
failures=$(/usr/bin/python3 - "$out/requests.log" "$restart_start" <<'PY'
import json, sys, datetime, collections
start = int(sys.argv[2]) / 1000
by = collections.Counter(); first = last = None
for line in open(sys.argv[1]):
    try: l = json.loads(line)
    except ValueError: continue
    if l.get("status", 0) < 500: continue
    ts = datetime.datetime.strptime(l["ts"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc).timestamp()
    by[f'{l["route"]} {l["status"]} {l.get("error", "")}'.strip()] += 1
    first = ts if first is None else min(first, ts); last = ts if last is None else max(last, ts)
if not by: print("none"); sys.exit()
print(f"{sum(by.values())} answers >= 500, from {first - start:+.3f}s to {last - start:+.3f}s after the restart began "
      f"(recovered {last - start:.3f}s after it began): " + "; ".join(f"{k}: {v}" for k, v in by.most_common()))
PY
)

echo
echo "| route | requests | req/s | p99 | non-2xx | socket errors |"
echo "|---|---:|---:|---:|---:|---:|"
for r in get-session sign-in token; do echo "| $r | $(summary "$out/$r.txt") |"; done
echo
echo "- PostgreSQL restart (pg_ctl -m fast -w): $((restart_done - restart_start)) ms"
if [ -n "$recovered" ]; then echo "- recovery: get-session answered 200 again $((recovered - restart_start)) ms after the restart began"
else echo "- recovery: get-session did not answer 200 within 30 s"; fi
echo "- failed answers in pgauth-http's log: $failures"
echo "- pgauth-http RSS: ${rss_start} kB at start, ${rss_mid} kB before the restart, ${rss_end} kB at the end; still running: $alive"
[ "$alive" = yes ] && [ -n "$recovered" ]
