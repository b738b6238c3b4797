#!/usr/bin/env bash
# Mail benchmarks (issue 14), each against its peer in the same run:
#   sign-up with pgauth.email_send_on_sign_up on  vs  off   (target: at most 5% slower)
#     auth.sign_up_response through pgbench, the rounds interleaved
#   outbox throughput: N mails queued in one transaction, delivered by two pgauth-http
#     copies (2 delivery threads each) to a local SMTP server (bench/mail_sink.py, aiosmtpd)
#     (target: >= 500 mails/s from the commit to the last one marked sent)
# Uses the cluster in $PGHOST/$PGPORT if set, else starts its own ('bench').
# usage: bench/email.sh [--smoke]   (smoke: 1 round of 1 s and 50 mails, for make test)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
smoke=0; [ "${1:-}" = "--smoke" ] && smoke=1
rounds=${BENCH_ROUNDS:-3}; secs=${BENCH_SECONDS:-10}; clients=${BENCH_CLIENTS:-4}; mails=${BENCH_MAILS:-5000}
[ $smoke = 1 ] && { rounds=1; secs=1; mails=50; }
bin=${PGAUTH_HTTP_BIN:-$root/build/cmake/pgauth-http}
own=0
if [ -z "${PGPORT:-}" ]; then
  bash scripts/cluster.sh start bench >/dev/null; own=1
  # shellcheck disable=SC1091
  . .run/bench.env
fi
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
  [ $own = 1 ] && bash scripts/cluster.sh stop bench >/dev/null 2>&1 || true
}
trap cleanup EXIT
db=pgauth_bench_mail
bash scripts/test-db.sh "$db" pgauth_bench_mail pgauth_service
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# ---- sign-up with and without the verification mail
psql -qd "$db" -c "CREATE SEQUENCE IF NOT EXISTS bench_signup_seq" >/dev/null
cat >"$work/signup.sql" <<'SQL'
SELECT body FROM auth.sign_up_response('su' || nextval('bench_signup_seq') || '@example.com', 'bench-password-1', 'Bench', NULL, NULL, NULL);
SQL
tps() { pgbench -n -M prepared -c "$clients" -j "$clients" -T "$secs" -f "$work/signup.sql" "$db" 2>&1 | awk '/^tps = /{print $3}'; }
: >"$work/off"; : >"$work/on"
for _ in $(seq 1 "$rounds"); do
  PGOPTIONS="-c pgauth.email_send_on_sign_up=off" tps >>"$work/off"
  PGOPTIONS="-c pgauth.email_send_on_sign_up=on" tps >>"$work/on"
done
off=$(median <"$work/off"); on=$(median <"$work/on")
queued=$(psql -qAtd "$db" -c "SELECT count(*) FROM auth.outbox WHERE template = 'verify-email'")
[ "$queued" -gt 0 ] || { echo "sendOnSignUp queued no mail: the comparison measures nothing" >&2; exit 1; }
psql -qd "$db" -c "DELETE FROM auth.outbox" >/dev/null

# ---- outbox throughput: two copies, a local SMTP sink
sink_port=$(free_port)
/usr/bin/python3 bench/mail_sink.py "$sink_port" >"$work/sink.out" 2>&1 &
sink_pid=$!
pids+=($sink_pid)
for _ in $(seq 1 200); do (exec 3<>"/dev/tcp/127.0.0.1/$sink_port") 2>/dev/null && break; sleep 0.05; done
for i in 1 2; do
  port=$(free_port)
  PGAUTH_DATABASE_URL="postgresql://pgauth_bench_mail@127.0.0.1:$PGPORT/$db" PGAUTH_SECRET="bench-secret-0123456789abcdef0123456789" \
    PGAUTH_LISTEN="127.0.0.1:$port" PGAUTH_RATE_LIMIT=off PGAUTH_SMTP_URL="smtp://127.0.0.1:$sink_port" \
    PGAUTH_EMAIL_WORKERS=2 PGAUTH_OUTBOX_BATCH=50 "$bin" >/dev/null 2>"$work/pgauth-$i.err" &
  pids+=($!)
  for _ in $(seq 1 200); do curl -sf "http://127.0.0.1:$port/api/auth/ok" >/dev/null 2>&1 && break; sleep 0.05; done
done
sleep 0.5
run=$RANDOM$RANDOM
start=$(date +%s.%N)
psql -qd "$db" -v ON_ERROR_STOP=1 -c \
  "SELECT count(auth.magic_link_request('m' || g || '.$run@example.com', NULL, NULL, NULL, NULL)) FROM generate_series(1, $mails) g" >/dev/null
committed=$(date +%s.%N)
for _ in $(seq 1 1200); do
  left=$(psql -qAtd "$db" -c "SELECT count(*) FROM auth.outbox WHERE status <> 'sent'")
  [ "$left" = 0 ] && break
  sleep 0.1
done
end=$(date +%s.%N)
[ "$left" = 0 ] || { echo "outbox not drained: $left left" >&2; tail -5 "$work"/pgauth-*.err >&2; exit 1; }
rate=$(awk -v n="$mails" -v s="$committed" -v e="$end" 'BEGIN {printf "%.0f", n / (e - s)}')
queue_rate=$(awk -v n="$mails" -v s="$start" -v e="$committed" 'BEGIN {printf "%.0f", n / (e - s)}')
retries=$(psql -qAtd "$db" -c "SELECT coalesce(sum(attempts - 1), 0) FROM auth.outbox")
kill "$sink_pid"; wait "$sink_pid" 2>/dev/null || true
sink=$(cat "$work/sink.out")

ratio=$(awk -v a="$on" -v b="$off" 'BEGIN {printf "%.1f", (1 - a / b) * 100}')
echo "| mail case | result | peer | target |"
echo "|---|---|---|---|"
echo "| sign-up with sendOnSignUp (tps, $clients clients) | $on | $off without: ${ratio}% slower | ≤ 5% slower |"
echo "| outbox to a local SMTP sink, 2 copies × 2 threads | $rate mails/s ($mails mails, commit to last sent; $sink; $retries retried attempts) | queueing them: $queue_rate mails/s (one transaction) | ≥ 500 mails/s |"
