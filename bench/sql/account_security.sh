#!/usr/bin/env bash
# Account-security benchmarks (issue 16), each against its peer in the same run:
#   auth.get_session for users with two-factor on  vs  the same for users without  (target: equal)
#   auth.admin_list_users, a page of 100 of 100k users with the total
#       vs  the plain indexed page query with the same total (count(*))           (target >= 50%)
#       and the plain page query without a total (for reference)
# Uses the cluster in $PGHOST/$PGPORT if set, else starts its own ('bench').
# usage: bench/sql/account_security.sh [--smoke]   (smoke: 1 round of 1 s)
set -euo pipefail
cd "$(dirname "$0")/../.."
smoke=0; [ "${1:-}" = "--smoke" ] && smoke=1
rounds=${BENCH_ROUNDS:-3}; secs=${BENCH_SECONDS:-10}; clients=${BENCH_CLIENTS:-8}
[ $smoke = 1 ] && { rounds=1; secs=1; }
own=0
if [ -z "${PGPORT:-}" ]; then
  bash scripts/cluster.sh start bench >/dev/null; own=1
  # shellcheck disable=SC1091
  . .run/bench.env
fi
work=$(mktemp -d); trap 'rm -rf "$work"; [ $own = 1 ] && bash scripts/cluster.sh stop bench >/dev/null' EXIT
db=pgauth_bench_acct
bash scripts/test-db.sh "$db"

# 100k users (created a second apart), an admin, and 2 x 32 signed-in users, half with two-factor on
psql -qd "$db" -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
INSERT INTO auth.users (email, name, created_at, updated_at)
SELECT 'user' || g || '@bench.example', 'User ' || g, now() - g * interval '1 second', now()
  FROM generate_series(1, 100000) g;
ANALYZE auth.users;
SQL
boss=$(psql -qAtd "$db" -c "SELECT session_token FROM auth.sign_up_email('boss@bench.example', 'bench-password-0', 'Boss')")
psql -qAtd "$db" -c "SELECT auth.grant_admin('boss@bench.example')" >/dev/null
pargs=(); targs=()
for i in $(seq 1 64); do
  tok=$(psql -qAtd "$db" -c "SELECT session_token FROM auth.sign_up_email('tf$i@example.com', 'bench-password-$i', 'TF $i')")
  echo "SELECT * FROM auth.get_session('$tok');" >"$work/gs_$i.sql"
  if [ "$i" -le 32 ]; then
    pargs+=(-f "$work/gs_$i.sql")
  else
    # two-factor on (the session was made before, as after a verified sign-in)
    psql -qAtd "$db" -c "UPDATE auth.users SET two_factor_enabled = true WHERE email = 'tf$i@example.com'" >/dev/null
    targs+=(-f "$work/gs_$i.sql")
  fi
done
echo "SELECT auth.admin_list_users('$boss', '{\"limit\":\"100\",\"offset\":\"5000\",\"sortBy\":\"createdAt\"}');" >"$work/list.sql"
cat >"$work/plain_total.sql" <<'SQL'
SELECT (SELECT count(*) FROM auth.users),
       (SELECT json_agg(u) FROM (SELECT u.id, u.email, u.name, u.role, u.created_at FROM auth.users u
                                  ORDER BY u.created_at, u.id LIMIT 100 OFFSET 5000) u);
SQL
cat >"$work/plain.sql" <<'SQL'
SELECT json_agg(u) FROM (SELECT u.id, u.email, u.name, u.role, u.created_at FROM auth.users u
                          ORDER BY u.created_at, u.id LIMIT 100 OFFSET 5000) u;
SQL

tps() { pgbench -n -M prepared "$@" "$db" 2>&1 | awk '/^tps = /{print $3}'; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
: >"$work/plain_gs"; : >"$work/tf_gs"; : >"$work/list"; : >"$work/pt"; : >"$work/p"
for r in $(seq 1 "$rounds"); do
  tps "${pargs[@]}" -c "$clients" -j 2 -T "$secs" >>"$work/plain_gs"
  tps "${targs[@]}" -c "$clients" -j 2 -T "$secs" >>"$work/tf_gs"
  tps -f "$work/list.sql" -c 2 -j 2 -T "$secs" >>"$work/list"
  tps -f "$work/plain_total.sql" -c 2 -j 2 -T "$secs" >>"$work/pt"
  tps -f "$work/plain.sql" -c 2 -j 2 -T "$secs" >>"$work/p"
done
a=$(median <"$work/plain_gs"); b=$(median <"$work/tf_gs")
l=$(median <"$work/list"); pt=$(median <"$work/pt"); p=$(median <"$work/p")
printf '%-58s %10s tps\n' "get_session, two-factor off" "$a"
printf '%-58s %10s tps  (%s%% of off)\n' "get_session, two-factor on" "$b" "$(awk -v x="$b" -v y="$a" 'BEGIN{printf "%.0f", 100*x/y}')"
printf '%-58s %10s tps\n' "admin_list_users, 100 of 100k at offset 5000, with total" "$l"
printf '%-58s %10s tps  (list-users = %s%% of it)\n' "plain indexed page query + count(*)" "$pt" "$(awk -v x="$l" -v y="$pt" 'BEGIN{printf "%.0f", 100*x/y}')"
printf '%-58s %10s tps  (list-users = %s%% of it)\n' "plain indexed page query, no total" "$p" "$(awk -v x="$l" -v y="$p" 'BEGIN{printf "%.0f", 100*x/y}')"
psql -qd postgres -c "DROP DATABASE $db" >/dev/null
