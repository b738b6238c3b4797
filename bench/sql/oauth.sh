#!/usr/bin/env bash
# SQL-level benchmarks of the OAuth provider (issue 13), each against a peer in the same run:
#   auth.verify_access_token, opaque tokens   vs  pgbench's built-in select-only (target >= 70%)
#   auth.verify_access_token, JWT access tokens (1 backend, 1000 distinct tokens)
#                                             vs  raw libsodium Ed25519 verify of the same tokens (target >= 80%)
# and, for information, the SQL cost of the token, introspection and userinfo calls
# (the HTTP targets against Better-Auth are measured by the HTTP benchmarks).
# Uses the cluster in $PGHOST/$PGPORT if set, else starts its own ('bench').
# usage: bench/sql/oauth.sh [--smoke]   (smoke: 1 round of 2 s, 4 clients)
set -euo pipefail
cd "$(dirname "$0")/../.."
smoke=0; [ "${1:-}" = "--smoke" ] && smoke=1
rounds=${BENCH_ROUNDS:-3}; secs=${BENCH_SECONDS:-10}; clients=${BENCH_CLIENTS:-32}
[ $smoke = 1 ] && { rounds=1; secs=2; clients=4; }
own=0
if [ -z "${PGPORT:-}" ]; then
  bash scripts/cluster.sh start bench >/dev/null; own=1
  # shellcheck disable=SC1091
  . .run/bench.env
fi
work=$(mktemp -d); trap 'rm -rf "$work"; [ $own = 1 ] && bash scripts/cluster.sh stop bench >/dev/null' EXIT
db=pgauth_bench_oauth
bash scripts/test-db.sh "$db"
pgbench -qi -s 10 "$db" >/dev/null 2>&1

# a confidential client with every grant, a user who consented, and tokens of both kinds
psql -qd "$db" -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
SET pgauth.base_url = 'https://auth.example';
SELECT auth.rotate_signing_key('EdDSA');
CREATE TABLE bench_client AS SELECT auth.oauth_create_client('{"client_id": "bench", "redirect_uris": ["https://app.example/cb"],
    "grant_types": ["authorization_code", "refresh_token", "client_credentials"]}')::json ->> 'client_secret' AS secret;
CREATE TABLE bench_opaque AS
SELECT auth.oauth_token('{"grant_type": "client_credentials"}',
           jsonb_build_object('method', 'client_secret_basic', 'client_id', 'bench', 'client_secret', c.secret)) ->> 'access_token' AS token
  FROM bench_client c, generate_series(1, 64);
CREATE TABLE bench_jwt AS
SELECT auth.oauth_token('{"grant_type": "client_credentials", "resource": "https://api.example/mcp"}',
           jsonb_build_object('method', 'client_secret_basic', 'client_id', 'bench', 'client_secret', c.secret)) ->> 'access_token' AS token
  FROM bench_client c, generate_series(1, 1000);
-- a user's openid token for userinfo
CREATE TABLE bench_user AS SELECT session_token AS tok FROM auth.sign_up_email('oauth-bench@example.com', 'bench-password-1', 'Bench');
INSERT INTO auth.oauth_consents (user_id, client_id, scopes)
SELECT id, 'bench', '{openid,profile,email,offline_access}' FROM auth.users WHERE email = 'oauth-bench@example.com';
CREATE TABLE bench_user_token AS
SELECT auth.oauth_token(jsonb_build_object('grant_type', 'authorization_code', 'redirect_uri', 'https://app.example/cb',
           'code_verifier', 'bench-verifier-0123456789-0123456789-0123456789',
           'code', substring(auth.oauth_authorize(u.tok, jsonb_build_object('client_id', 'bench', 'redirect_uri', 'https://app.example/cb',
               'response_type', 'code', 'scope', 'openid profile email',
               'code_challenge', rtrim(translate(encode(sha256('bench-verifier-0123456789-0123456789-0123456789'), 'base64'), '+/', '-_'), '=')))
               ->> 'url' FROM 'code=([A-Za-z0-9_-]+)')),
           jsonb_build_object('method', 'client_secret_basic', 'client_id', 'bench', 'client_secret', c.secret)) ->> 'access_token' AS token
  FROM bench_user u, bench_client c;
SQL
secret=$(psql -qAtd "$db" -c "SELECT secret FROM bench_client")
oargs=(); i=0
while read -r tok; do
  i=$((i + 1)); echo "SELECT * FROM auth.verify_access_token('$tok');" >"$work/opaque_$i.sql"; oargs+=(-f "$work/opaque_$i.sql")
done < <(psql -qAtd "$db" -c "SELECT token FROM bench_opaque")
psql -qAtd "$db" -c "SELECT token FROM bench_jwt" >"$work/tokens.txt"
x=$(psql -qAtd "$db" -c "SELECT public_jwk ->> 'x' FROM auth.jwks WHERE retires_at IS NULL AND private_key IS NOT NULL AND NOT secondary AND alg = 'EdDSA'")
echo "SELECT count(*) FROM bench_jwt b, auth.verify_access_token(b.token, 'https://api.example/mcp') v;" >"$work/jwt.sql"
auth="{\"method\": \"client_secret_basic\", \"client_id\": \"bench\", \"client_secret\": \"$secret\"}"
echo "SELECT auth.oauth_token('{\"grant_type\": \"client_credentials\"}', '$auth');" >"$work/cc.sql"
echo "SELECT auth.oauth_introspect('$(head -1 "$work/tokens.txt")', NULL, '$auth');" >"$work/introspect.sql"
echo "SELECT auth.oauth_userinfo('$(psql -qAtd "$db" -c "SELECT token FROM bench_user_token")');" >"$work/userinfo.sql"
g++ -O2 -std=c++20 -o "$work/ed25519_rate" bench/sql/ed25519_rate.cpp -lsodium

tps() { pgbench -n -M prepared "$@" "$db" 2>&1 | awk '/^tps = /{print $3}'; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
: >"$work/sel"; : >"$work/opq"; : >"$work/jv"; : >"$work/ed"; : >"$work/cc"; : >"$work/in"; : >"$work/ui"
for r in $(seq 1 "$rounds"); do
  tps -S -c "$clients" -j 2 -T "$secs" >>"$work/sel"
  tps "${oargs[@]}" -c "$clients" -j 2 -T "$secs" >>"$work/opq"
  tps -f "$work/jwt.sql" -c 1 -T "$secs" | awk '{print $1 * 1000}' >>"$work/jv"
  "$work/ed25519_rate" "$work/tokens.txt" "$x" "$secs" >>"$work/ed"
  tps -f "$work/cc.sql" -c "$clients" -j 2 -T "$secs" >>"$work/cc"
  tps -f "$work/introspect.sql" -c "$clients" -j 2 -T "$secs" >>"$work/in"
  tps -f "$work/userinfo.sql" -c "$clients" -j 2 -T "$secs" >>"$work/ui"
done
sel=$(median <"$work/sel"); opq=$(median <"$work/opq"); jv=$(median <"$work/jv"); edv=$(awk '{print $1}' "$work/ed" | median)
cc=$(median <"$work/cc"); in=$(median <"$work/in"); ui=$(median <"$work/ui")
pct() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.0f%%", 100*a/b}'; }
cat <<TABLE
| SQL case | pgauth | peer | ratio | target |
|---|---|---|---|---|
| \`auth.verify_access_token\` opaque (${clients} clients, prepared, 64 tokens) vs built-in select-only | $(printf '%.0f' "$opq") tps | $(printf '%.0f' "$sel") tps | $(pct "$opq" "$sel") | >= 70% |
| \`auth.verify_access_token\` JWT (1 backend, 1000 distinct tokens) vs raw \`crypto_sign_verify_detached\` (1 thread, same tokens) | $(printf '%.0f' "$jv") /s | $(printf '%.0f' "$edv") /s | $(pct "$jv" "$edv") | >= 80% |
| \`auth.oauth_token\` client_credentials (${clients} clients) | $(printf '%.0f' "$cc") tps | | | |
| \`auth.oauth_introspect\` (${clients} clients) | $(printf '%.0f' "$in") tps | | | |
| \`auth.oauth_userinfo\` (${clients} clients) | $(printf '%.0f' "$ui") tps | | | |
TABLE
echo "rounds=$rounds seconds=$secs (median of rounds)"
[ -n "$opq" ] && [ -n "$sel" ] && [ -n "$jv" ] && [ -n "$edv" ] && [ -n "$cc" ] && [ -n "$in" ] && [ -n "$ui" ]
