#!/usr/bin/env bash
# SQL-level benchmarks of the extension, each against a peer measured in the same run:
#   auth.validate_session   vs  pgbench's built-in select-only      (target >= 70%)
#   auth.verify_api_key     vs  pgbench's built-in select-only      (target >= 70%)
#   auth.sign_in_email      vs  raw libsodium argon2id verification  (target >= 90%)
#   auth.verify_jwt (EdDSA) vs  raw libsodium Ed25519 verify, one backend vs one thread (target >= 80%)
#   auth.sign_jwt (EdDSA)   vs  raw libsodium Ed25519 sign, same (target >= 80%)
# Uses the cluster in $PGHOST/$PGPORT if set, else starts its own ('bench').
# usage: bench/sql/run.sh [--smoke]   (smoke: 1 round of 1 s, for make test)
set -euo pipefail
cd "$(dirname "$0")/../.."
smoke=0; [ "${1:-}" = "--smoke" ] && smoke=1
rounds=${BENCH_ROUNDS:-3}; secs=${BENCH_SECONDS:-10}; clients=${BENCH_CLIENTS:-32}
[ $smoke = 1 ] && { rounds=1; secs=1; }
own=0
if [ -z "${PGPORT:-}" ]; then
  bash scripts/cluster.sh start bench >/dev/null; own=1
  # shellcheck disable=SC1091
  . .run/bench.env
fi
work=$(mktemp -d); trap 'rm -rf "$work"; [ $own = 1 ] && bash scripts/cluster.sh stop bench >/dev/null' EXIT
db=pgauth_bench_sql
bash scripts/test-db.sh "$db"
pgbench -qi -s 10 "$db" >/dev/null 2>&1

# 64 live sessions; one pgbench script per token (pgbench picks a script at random per transaction)
for i in $(seq 1 64); do
  tok=$(psql -qAtd "$db" -c "SELECT session_token FROM auth.sign_up_email('bench$i@example.com', 'bench-password-$i', 'Bench $i')")
  echo "SELECT * FROM auth.validate_session('$tok');" >"$work/validate_$i.sql"
  echo "$tok" >"$work/token_$i"
  echo "SELECT * FROM auth.sign_in_email('bench$i@example.com', 'bench-password-$i');" >"$work/signin_$i.sql"
done
vargs=(); sargs=()
for i in $(seq 1 64); do vargs+=(-f "$work/validate_$i.sql"); sargs+=(-f "$work/signin_$i.sql"); done
# 64 API keys, one per user, without remaining or rate limit (a verify that needs no write)
kargs=()
for i in $(seq 1 64); do
  tok=$(cat "$work/token_$i")
  key=$(psql -qAtd "$db" -c "SELECT auth.api_key_create('$tok', '{\"rateLimitEnabled\": false}') ->> 'key'")
  echo "SELECT * FROM auth.verify_api_key('$key');" >"$work/apikey_$i.sql"
  kargs+=(-f "$work/apikey_$i.sql")
done

tps() { pgbench -n -M prepared "$@" "$db" 2>&1 | awk '/^tps = /{print $3}'; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# the settings exist once the module is loaded in the session
setting() { psql -qAtd "$db" -c "SELECT FROM auth.hash_token('')" -c "SELECT setting FROM pg_settings WHERE name = '$1'" | tail -1; }
ops=$(setting pgauth.argon2_opslimit); memkb=$(setting pgauth.argon2_memlimit)
g++ -O2 -std=c++20 -o "$work/pwhash_rate" bench/sql/pwhash_rate.cpp -lsodium -lpthread
g++ -O2 -std=c++20 -o "$work/ed25519_rate" bench/sql/ed25519_rate.cpp -lsodium

# 1000 distinct EdDSA tokens with session-JWT-sized claims; one pgbench transaction verifies (or signs) all
psql -qd "$db" -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
SELECT auth.rotate_signing_key('EdDSA');
CREATE TABLE bench_claims AS
SELECT jsonb_build_object('name', 'Bench User ' || g, 'email', 'bench' || g || '@example.com', 'emailVerified', false,
                          'image', NULL, 'createdAt', '2026-11-23T04:20:48.500Z', 'updatedAt', '2026-11-23T04:20:48.500Z',
                          'id', gen_random_uuid(), 'sub', gen_random_uuid()) AS claims
  FROM generate_series(1, 1000) g;
CREATE TABLE bench_tokens AS SELECT auth.sign_jwt(claims, interval '1 day') AS token FROM bench_claims;
SQL
psql -qAtd "$db" -c "SELECT token FROM bench_tokens" >"$work/tokens.txt"
x=$(psql -qAtd "$db" -c "SELECT public_jwk ->> 'x' FROM auth.jwks WHERE retires_at IS NULL AND private_key IS NOT NULL")
echo "SELECT count(auth.verify_jwt(token)) FROM bench_tokens;" >"$work/verify.sql"
echo "SELECT count(auth.sign_jwt(claims)) FROM bench_claims;" >"$work/signjwt.sql"

: >"$work/sel"; : >"$work/val"; : >"$work/key"; : >"$work/sign"; : >"$work/raw"; : >"$work/jv"; : >"$work/js"; : >"$work/ed"
for r in $(seq 1 "$rounds"); do
  tps -S -c "$clients" -j 2 -T "$secs" >>"$work/sel"
  tps "${vargs[@]}" -c "$clients" -j 2 -T "$secs" >>"$work/val"
  tps "${kargs[@]}" -c "$clients" -j 2 -T "$secs" >>"$work/key"
  tps "${sargs[@]}" -c 2 -j 2 -T "$secs" >>"$work/sign"
  "$work/pwhash_rate" "$ops" $((memkb * 1024)) 2 "$secs" >>"$work/raw"
  tps -f "$work/verify.sql" -c 1 -T "$secs" | awk '{print $1 * 1000}' >>"$work/jv"
  tps -f "$work/signjwt.sql" -c 1 -T "$secs" | awk '{print $1 * 1000}' >>"$work/js"
  "$work/ed25519_rate" "$work/tokens.txt" "$x" "$secs" >>"$work/ed"
done
sel=$(median <"$work/sel"); val=$(median <"$work/val"); key=$(median <"$work/key"); sign=$(median <"$work/sign"); raw=$(median <"$work/raw")
jv=$(median <"$work/jv"); js=$(median <"$work/js")
edv=$(awk '{print $1}' "$work/ed" | median); eds=$(awk '{print $2}' "$work/ed" | median)
pct() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.0f%%", 100*a/b}'; }
cat <<TABLE
| SQL case | pgauth | peer | ratio | target |
|---|---|---|---|---|
| \`auth.validate_session\` (${clients} clients, prepared) vs built-in select-only | $(printf '%.0f' "$val") tps | $(printf '%.0f' "$sel") tps | $(pct "$val" "$sel") | >= 70% |
| \`auth.verify_api_key\` (${clients} clients, prepared, 64 keys) vs built-in select-only | $(printf '%.0f' "$key") tps | $(printf '%.0f' "$sel") tps | $(pct "$key" "$sel") | >= 70% |
| \`auth.sign_in_email\` (2 clients) vs raw argon2id verify (2 threads, t=$ops m=${memkb} KiB) | $(printf '%.1f' "$sign") /s | $(printf '%.1f' "$raw") /s | $(pct "$sign" "$raw") | >= 90% |
| \`auth.verify_jwt\` EdDSA (1 backend, 1000 distinct tokens) vs raw \`crypto_sign_verify_detached\` (1 thread, same tokens) | $(printf '%.0f' "$jv") /s | $(printf '%.0f' "$edv") /s | $(pct "$jv" "$edv") | >= 80% |
| \`auth.sign_jwt\` EdDSA (1 backend, same claims) vs raw \`crypto_sign_detached\` (1 thread, same signing inputs) | $(printf '%.0f' "$js") /s | $(printf '%.0f' "$eds") /s | $(pct "$js" "$eds") | >= 80% |
TABLE
echo "rounds=$rounds seconds=$secs (median of rounds)"
[ -n "$val" ] && [ -n "$sel" ] && [ -n "$sign" ] && [ -n "$raw" ] && [ -n "$jv" ] && [ -n "$edv" ] && [ -n "$js" ]
