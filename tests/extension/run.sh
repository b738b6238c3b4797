#!/usr/bin/env bash
# Extension checks that need more than one SQL session: no plaintext token at
# rest (pg_dump: sessions, passwords, the vault, API keys, provider tokens, email links and codes),
# and a hot standby answering validate_session without writing.
# Needs PGHOST/PGPORT/PGUSER of a running cluster (scripts/test.sh exports them).
set -euo pipefail
cd "$(dirname "$0")/../.."
db=pgauth_extension_test
pass=0; fail=0
ok()   { echo "ok - $*"; pass=$((pass+1)); }
bad()  { echo "not ok - $*"; fail=$((fail+1)); }

bash scripts/test-db.sh "$db"

# 1. No table holds a session token in plaintext: sign up, dump, search the dump.
read -r token uid < <(psql -qAt -F ' ' -d "$db" -c \
  "SELECT session_token, user_id FROM auth.sign_up_email('dump@example.com', 'dump-password-1', 'Dump')")
token2=$(psql -qAt -d "$db" -c "SELECT session_token FROM auth.sign_in_email('dump@example.com', 'dump-password-1')")
dump=$(mktemp); pg_dump -d "$db" --data-only --inserts >"$dump"; pg_dump -d "$db" >>"$dump"
if [ ${#token} -eq 43 ] && grep -q -e "$uid" "$dump"; then ok "dump contains the user (the search is real)"; else bad "dump sanity"; fi
if grep -qF -e "$token" "$dump" || grep -qF -e "$token2" "$dump"; then bad "session token found in pg_dump output"; else ok "no session token in pg_dump output"; fi
if grep -qF -e "dump-password-1" "$dump"; then bad "password found in dump"; else ok "no password in pg_dump output"; fi
hex=$(psql -qAt -d "$db" -c "SELECT encode(auth.hash_token('$token'), 'hex')")
if grep -qi -e "$hex" "$dump"; then ok "the dump holds only the SHA-256 digest"; else bad "digest not found in dump"; fi
# 1b. No vault value and no API key in a dump either: the vault holds sealed values (the
#     KEK is a file outside the database), api_keys only the SHA-256 digest.
secret="sk-dumpcheck-$(date +%s%N)-Zq8"
psql -qAt -d "$db" -v ON_ERROR_STOP=1 -c "SELECT auth.vault_set('$token', jsonb_build_object('dumpKey', '$secret'))" >/dev/null
apikey=$(psql -qAt -d "$db" -c "SELECT auth.api_key_create('$token', '{\"name\": \"dump\"}') ->> 'key'")
vdump=$(mktemp); pg_dump -d "$db" --data-only --inserts >"$vdump"; pg_dump -d "$db" >>"$vdump"
read_back=$(psql -qAt -d "$db" -c "SET ROLE pgauth_vault" -c "SELECT auth.vault_read('$uid', 'dumpKey')" 2>/dev/null || true)
if [ "$read_back" = "$secret" ] && grep -q -e "dumpKey" "$vdump"; then ok "the vault entry is in the dump and opens with the KEK (the search is real)"; else bad "vault dump sanity ($read_back)"; fi
# as text, or as bytea (pg_dump writes bytea in hex)
hexsecret=$(printf '%s' "${secret:3:12}" | od -An -tx1 | tr -d ' \n')
if grep -qF -e "$secret" "$vdump" || grep -qF -e "${secret:3:12}" "$vdump" || grep -qi -e "$hexsecret" "$vdump"; then
  bad "vault value found in pg_dump output"; else ok "no vault value in pg_dump output (neither as text nor as hex)"; fi
if [ ${#apikey} -eq 64 ] && ! grep -qF -e "$apikey" "$vdump" && ! grep -qF -e "${apikey:6:20}" "$vdump"; then ok "no API key in pg_dump output"; else bad "API key found in pg_dump output (or none made: ${#apikey})"; fi
rm -f "$vdump"
# 1d. No social provider token in a dump: access, refresh and id tokens are sealed under the KEK,
#     bound to their account row and column; the session user still opens them.
rnd() { od -An -N12 -tx1 /dev/urandom | tr -d ' \n'; }
stamp=$(rnd); at="ya29.$(rnd)"; rt="1//0$(rnd)"; it="eyJ$(rnd)"
stok=$(psql -qAt -d "$db" -v ON_ERROR_STOP=1 -c "SELECT session_token FROM auth.social_sign_in('google', '{\"sub\": \"dump-sub-$stamp\", \"email\": \"social-dump@example.com\", \"email_verified\": true}', jsonb_build_object('access_token', '$at', 'refresh_token', '$rt', 'id_token', '$it', 'expires_in', 3600), NULL, NULL, NULL)")
sdump=$(mktemp); pg_dump -d "$db" --data-only --inserts >"$sdump"; pg_dump -d "$db" >>"$sdump"
opened=$(psql -qAt -d "$db" -c "SELECT access_token || ' ' || refresh_token || ' ' || id_token FROM auth.social_account_tokens('$stok', 'google', NULL)" 2>/dev/null || true)
if [ "$opened" = "$at $rt $it" ] && grep -q -e "dump-sub-$stamp" "$sdump"; then ok "the social account is in the dump and its tokens open with the KEK (the search is real)"; else bad "social dump sanity ($opened)"; fi
found=""
for t in "$at" "$rt" "$it"; do
  hext=$(printf '%s' "${t:4:16}" | od -An -tx1 | tr -d ' \n')
  if grep -qF -e "$t" "$sdump" || grep -qF -e "${t:4:16}" "$sdump" || grep -qi -e "$hext" "$sdump"; then found="$found $t"; fi
done
if [ -z "$found" ]; then ok "no provider token in pg_dump output (neither as text nor as hex)"; else bad "provider token found in pg_dump output:$found"; fi
rm -f "$sdump"
# 1e. No email link, token or one-time code in a dump: a magic link and a sign-in code queued and
#     claimed (the worst moment: the sealed payload is still there) are searched for.
psql -qAt -d "$db" -v ON_ERROR_STOP=1 -c "SELECT auth.magic_link_request('mail-dump@example.com', NULL, '/', NULL, NULL)" \
  -c "SELECT auth.email_otp_send('otp-dump@example.com', 'sign-in')" >/dev/null
claimed=$(psql -qAt -d "$db" -v ON_ERROR_STOP=1 -c "SELECT coalesce(vars ->> 'url', '') || ' ' || coalesce(vars ->> 'otp', '') FROM auth.outbox_claim('dump-worker', 10) ORDER BY id")
link=$(printf '%s\n' "$claimed" | grep -o 'token=[A-Za-z0-9_-]*' | head -1 | cut -d= -f2)
otp=$(printf '%s\n' "$claimed" | grep -oE ' [0-9]{6}$' | tr -d ' ' | head -1)
mdump=$(mktemp); pg_dump -d "$db" --data-only --inserts >"$mdump"; pg_dump -d "$db" >>"$mdump"
if [ ${#link} -ge 40 ] && [ ${#otp} -eq 6 ] && grep -qF -e "mail-dump@example.com" "$mdump"; then
  ok "the queued mails are in the dump and their link and code open with the KEK (the search is real)"
else bad "mail dump sanity (link '${link}', code '${otp}')"; fi
hexl=$(printf '%s' "$link" | od -An -tx1 | tr -d ' \n')
if grep -qF -e "$link" "$mdump" || grep -qi -e "$hexl" "$mdump" || grep -qE -e "(\"otp\"|'otp')[^0-9]{0,8}$otp" "$mdump"; then
  bad "an email link token or one-time code found in pg_dump output"
else ok "no email link token or one-time code in pg_dump output (neither as text nor as hex)"; fi
rm -f "$mdump"
# 1c. No overspend: 50 verifications at once, each on its own connection, against a key with
#     remaining 10 (and the default rate limit of 10 per day lifted): exactly 10 are valid.
rkey=$(psql -qAt -d "$db" -c "SELECT auth.api_key_create('$token', '{\"remaining\": 10, \"rateLimitEnabled\": false}') ->> 'key'")
rdir=$(mktemp -d)
for i in $(seq 1 50); do
  psql -qAtX -d "$db" -c "SELECT valid FROM auth.verify_api_key('$rkey')" >"$rdir/$i" 2>&1 &
done
wait
valid=$(cat "$rdir"/* | grep -c '^t$' || true); refused=$(cat "$rdir"/* | grep -c '^f$' || true)
left=$(psql -qAt -d "$db" -c "SELECT remaining FROM auth.api_keys WHERE digest = sha256(convert_to('$rkey', 'UTF8'))")
if [ "$valid" = 10 ] && [ "$refused" = 40 ] && [ "$left" = 0 ]; then ok "50 parallel verifications on remaining 10: exactly 10 valid"; else bad "parallel verifications: $valid valid, $refused refused, remaining $left"; fi
rm -rf "$rdir"
# 2. A dump restores into a working database: the same token still signs the user in.
full=$(mktemp); pg_dump -d "$db" >"$full"
dropdb --if-exists "${db}_restored" >/dev/null 2>&1; createdb "${db}_restored"
psql -q -d "${db}_restored" -v ON_ERROR_STOP=1 -f "$full" >/dev/null 2>&1 || true
restored=$(psql -qAt -d "${db}_restored" -c "SELECT email FROM auth.validate_session('$token')" 2>/dev/null || true)
if [ "$restored" = "dump@example.com" ]; then ok "restored dump validates the same session"; else bad "restore lost sessions ($restored)"; fi
sopened=$(psql -qAt -d "${db}_restored" -c "SELECT access_token FROM auth.social_account_tokens('$stok', 'google', NULL)" 2>/dev/null || true)
if [ "$sopened" = "$at" ]; then ok "restored dump opens the sealed provider tokens"; else bad "restored provider token does not open ($sopened)"; fi
dropdb "${db}_restored"
rm -f "$dump" "$full"

# 3. The backend survives every forced boundary failure. A crash in any backend makes the
#    postmaster end every other backend and reinitialize (pg_postmaster_start_time() does not
#    change), so a long-lived watcher connection must still be there, with the same PID and
#    start time, afterwards; each failure also runs in its own backend, checked by PID.
psql -qAtX -d "$db" -c "SET application_name = 'pgauth_crash_watch'; SELECT pg_sleep(600)" >/dev/null 2>&1 &
watcher=$!
watch=""
for _ in $(seq 50); do
  watch=$(psql -qAtX -d "$db" -c "SELECT pid || '/' || backend_start FROM pg_stat_activity WHERE application_name = 'pgauth_crash_watch'")
  [ -n "$watch" ] && break; sleep 0.1
done
survived=0
for kind in std_exception bad_alloc unknown_exception auth_error postgres_error crypto_failure; do
  # the failure and a later statement in the same session: both answered by one backend
  out=$(psql -qAtX -d "$db" -c "SELECT pg_backend_pid()" -c "SELECT auth.selftest_boundary('$kind')" -c "SELECT pg_backend_pid()" 2>/dev/null || true)
  first=$(printf '%s\n' "$out" | head -n1); last=$(printf '%s\n' "$out" | tail -n1)
  [ -n "$first" ] && [ "$first" = "$last" ] && survived=$((survived+1))
done
${PGAUTH_TEST_CRASH_HOOK:-true}  # lets a test of this test crash a backend here
still=$(psql -qAtX -d "$db" -c "SELECT pid || '/' || backend_start FROM pg_stat_activity WHERE application_name = 'pgauth_crash_watch'")
psql -qAtX -d "$db" -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'pgauth_crash_watch'" >/dev/null 2>&1 || true
wait "$watcher" 2>/dev/null || true
if [ -n "$watch" ] && [ "$watch" = "$still" ] && [ "$survived" -eq 6 ]; then
  ok "no backend crash or restart (watcher $watch kept, $survived/6 failing sessions kept their backend)"
else
  bad "backend crash or restart: watcher before '$watch' after '$still', $survived/6 sessions kept their backend"
fi

# 4. A hot standby answers validate_session without writing (sliding expiry skipped).
if [ -n "${PGAUTH_CLUSTER_DIR:-}" ] && [ "$(id -u)" -eq 0 ]; then
  psql -qAt -d "$db" -c "UPDATE auth.sessions SET expires_at = now() + interval '2 days'" >/dev/null
  sdir=$(mktemp -d /tmp/pgauth-standby.XXXXXX); chown postgres:postgres "$sdir"; chmod 700 "$sdir"
  sport=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  bindir=/usr/lib/postgresql/15/bin
  if runuser -u postgres -- "$bindir/pg_basebackup" -h 127.0.0.1 -p "$PGPORT" -U postgres -D "$sdir/data" -R -X stream >/dev/null 2>&1; then
    printf "port = %s\nunix_socket_directories = '%s'\nhot_standby = on\n" "$sport" "$sdir" >>"$sdir/data/postgresql.conf"
    runuser -u postgres -- "$bindir/pg_ctl" -D "$sdir/data" -l "$sdir/log" -w -t 60 start >/dev/null
    on_standby=$(psql -qAt -h 127.0.0.1 -p "$sport" -d "$db" -c \
      "SELECT pg_is_in_recovery(), email, expires_at < now() + interval '3 days' FROM auth.validate_session('$token')" 2>&1)
    if [ "$on_standby" = "t|dump@example.com|t" ]; then ok "standby validates without extending ($on_standby)"; else bad "standby: $on_standby"; fi
    runuser -u postgres -- "$bindir/pg_ctl" -D "$sdir/data" -m immediate -w stop >/dev/null 2>&1 || true
    primary=$(psql -qAt -d "$db" -c "SELECT expires_at > now() + interval '6 days' FROM auth.validate_session('$token')")
    if [ "$primary" = "t" ]; then ok "the primary extends it on a later request"; else bad "primary did not extend ($primary)"; fi
  else
    bad "pg_basebackup for the standby test failed"
  fi
  rm -rf "$sdir"
fi

# 5. The KEK (pgauth.key_file): a file of the wrong size is refused, a key sealed under one
#    KEK does not open under another, and neither the KEK nor a private key is in a dump.
if [ -n "${PGAUTH_CLUSTER_DIR:-}" ] && [ "$(id -u)" -eq 0 ]; then
  keydir=$(mktemp -d "$PGAUTH_CLUSTER_DIR/keys.XXXXXX"); chown postgres:postgres "$keydir"; chmod 700 "$keydir"
  printf 'too short' >"$keydir/short.key"
  openssl rand -hex 32 >"$keydir/other.key"          # 64 hex digits and a newline
  openssl rand -base64 32 >"$keydir/base64.key"      # 44 base64 characters and a newline
  chown postgres:postgres "$keydir"/*.key; chmod 600 "$keydir"/*.key
  sq() { psql -qAtX -d "$db" -v ON_ERROR_STOP=1 -c "$1" 2>&1 || true; }
  out=$(sq "SET pgauth.key_file = '$keydir/short.key'; SELECT auth.rotate_signing_key()")
  case "$out" in *"pgauth.key_file must hold 32 bytes"*) ok "a short key file is refused, naming the GUC";; *) bad "short key file: $out";; esac
  out=$(sq "SET pgauth.key_file = '$keydir/base64.key'; SELECT length(auth.rotate_signing_key())")
  [ "$out" = "43" ] && ok "a base64 key file works" || bad "base64 key file: $out"
  sq "SET pgauth.key_file = '$keydir/other.key'; SELECT auth.rotate_signing_key()" >/dev/null
  out=$(sq "SELECT auth.sign_jwt('{}')")
  case "$out" in *"does not open with the key in pgauth.key_file"*) ok "a key sealed under another KEK does not open";; *) bad "wrong KEK: $out";; esac
  # ... and the session check does not depend on it: get_session answers without a JWT,
  # key_status says why, the JWKS is still published
  out=$(sq "SELECT status || ': ' || reason FROM auth.key_status()")
  case "$out" in "SIGNING_KEY_UNAVAILABLE: the signing key does not open with the key in pgauth.key_file") ok "key_status names a KEK that does not open the key";; *) bad "key_status with the wrong KEK: $out";; esac
  out=$(sq "SELECT (body -> 'user' ->> 'email') || '|' || coalesce(jwt, 'NULL') || '|' || jwt_error FROM auth.get_session('$token', true)")
  [ "$out" = "dump@example.com|NULL|SIGNING_KEY_UNAVAILABLE" ] && ok "get_session answers without a usable key (jwt NULL, jwt_error)" || bad "get_session with the wrong KEK: $out"
  out=$(sq "SELECT jsonb_array_length(auth.jwks() -> 'keys') > 0")
  [ "$out" = "t" ] && ok "the JWKS is published without a usable KEK" || bad "jwks with the wrong KEK: $out"
  out=$(sq "SET pgauth.key_file = '$keydir/other.key'; SELECT auth.verify_jwt(auth.sign_jwt('{\"k\": 1}')) ->> 'k'")
  [ "$out" = "1" ] && ok "the right KEK opens it" || bad "right KEK: $out"
  chmod 640 "$keydir/other.key"
  out=$(sq "SET pgauth.key_file = '$keydir/other.key'; SELECT auth.rotate_signing_key()")
  case "$out" in *"must not be accessible by group or others"*) ok "a group-readable key file is refused";; *) bad "mode 640: $out";; esac
  kek=$(tr -d '\n' <"$keydir/other.key")
  dump=$(mktemp); pg_dump -d "$db" >"$dump"
  sealed=$(psql -qAt -d "$db" -c "SELECT encode(private_key, 'hex') FROM auth.jwks WHERE private_key IS NOT NULL LIMIT 1")
  if [ -n "$sealed" ] && grep -qi -e "$sealed" "$dump"; then ok "the dump holds the sealed keys"; else bad "sealed key not in dump"; fi
  if grep -qi -e "$kek" "$dump"; then bad "the KEK is in the dump"; else ok "the KEK is not in the dump"; fi
  rm -rf "$keydir" "$dump"
fi

# 6. With pgauth preloaded, the sign-in lockout is shared by every connection: five failures,
#    each on its own connection, lock the email for the next one (the right password included).
if [[ "$(psql -qAtX -d "$db" -c "SHOW shared_preload_libraries")" == *pgauth* ]]; then
  for i in 1 2 3 4 5; do
    psql -qAtX -d "$db" -c "SELECT auth.sign_in_email('dump@example.com', 'wrong-password-$i')" >/dev/null 2>&1 || true
  done
  out=$(psql -qAtX -d "$db" -c "SELECT length(session_token) FROM auth.sign_in_email('dump@example.com', 'dump-password-1')" 2>&1 || true)
  case "$out" in *"Too many failed sign-in attempts. Try again in"*) ok "the lockout is shared by every connection (preloaded)";; *) bad "lockout across connections: $out";; esac
fi

# 7. What a DBA expects: a non-UTF-8 database is refused, DROP EXTENSION leaves nothing.
latin=${db}_latin1
dropdb --if-exists "$latin" >/dev/null 2>&1
createdb -T template0 -E LATIN1 --lc-collate=C --lc-ctype=C "$latin"
out=$(psql -qAtX -d "$latin" -c "CREATE EXTENSION pgauth" 2>&1 || true)
gone=$(psql -qAtX -d "$latin" -c "SELECT count(*) FROM pg_namespace WHERE nspname = 'auth'")
case "$out" in *"pgauth needs a UTF8 database; this database's encoding is LATIN1"*)
  [ "$gone" = "0" ] && ok "CREATE EXTENSION in a LATIN1 database is refused, naming the encoding" || bad "LATIN1: schema left ($gone)";;
  *) bad "CREATE EXTENSION in LATIN1: $out";; esac
dropdb "$latin"
leftover() {
  psql -qAtX -d "$1" -c "SELECT string_agg(what, ', ') FROM (
      SELECT 'schema ' || nspname AS what FROM pg_namespace WHERE nspname = 'auth'
      UNION ALL SELECT 'function ' || p.oid::regprocedure FROM pg_proc p WHERE p.probin LIKE '%pgauth%' OR p.proname LIKE 'pgauth%'
      UNION ALL SELECT 'type ' || t.oid::regtype FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = 'auth'
      UNION ALL SELECT 'event trigger ' || evtname FROM pg_event_trigger
      UNION ALL SELECT 'extension ' || extname FROM pg_extension WHERE extname = 'pgauth') x"
}
psql -qAtX -d "$db" -c "SELECT auth.jwks() IS NOT NULL" >/dev/null  # keys, sessions, users: a used install
psql -qAtX -d "$db" -c "DROP EXTENSION pgauth" >/dev/null 2>&1
left=$(leftover "$db")
[ -z "$left" ] && ok "DROP EXTENSION pgauth leaves no schema, function, type or event trigger" || bad "DROP EXTENSION left: $left"
roles=$(psql -qAtX -d "$db" -c "SELECT count(*) FROM pg_roles WHERE rolname IN ('pgauth_reader', 'pgauth_service', 'pgauth_admin', 'pgauth_vault')")
[ "$roles" = "4" ] && ok "the four roles are cluster-wide and stay (docs/operations.md)" || bad "roles after DROP: $roles"

# 8. shared_preload_libraries = 'pgauth' in a scratch cluster: without it CREATE EXTENSION warns and a
#    fresh session cannot ALTER SYSTEM SET pgauth.*; with it, a fresh session can, and SHOW sees it.
if [ "$(id -u)" -eq 0 ]; then
  bindir=/usr/lib/postgresql/15/bin
  pdir=$(mktemp -d /tmp/pgauth-preload.XXXXXX); chown postgres:postgres "$pdir"; chmod 700 "$pdir"
  pport=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  runuser -u postgres -- "$bindir/initdb" -D "$pdir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null 2>&1
  printf "listen_addresses = '127.0.0.1'\nport = %s\nunix_socket_directories = '%s'\nfsync = off\n" "$pport" "$pdir" >>"$pdir/data/postgresql.conf"
  pq() { psql -qAtX -h 127.0.0.1 -p "$pport" -U postgres -d postgres "$@" 2>&1 || true; }
  runuser -u postgres -- "$bindir/pg_ctl" -D "$pdir/data" -l "$pdir/log" -w -t 60 start >/dev/null
  out=$(pq -c "CREATE EXTENSION pgauth")
  case "$out" in *"WARNING:  pgauth is not in shared_preload_libraries"*) ok "CREATE EXTENSION warns when pgauth is not preloaded";; *) bad "no preload warning: $out";; esac
  out=$(pq -c "ALTER SYSTEM SET pgauth.session_expires_in = '30d'")
  case "$out" in *"unrecognized configuration parameter"*) ok "not preloaded: a fresh session cannot ALTER SYSTEM SET pgauth.* (PostgreSQL's rule)";; *) bad "not preloaded, ALTER SYSTEM: $out";; esac
  runuser -u postgres -- "$bindir/pg_ctl" -D "$pdir/data" -m fast -w stop >/dev/null
  echo "shared_preload_libraries = 'pgauth'" >>"$pdir/data/postgresql.conf"
  if runuser -u postgres -- "$bindir/pg_ctl" -D "$pdir/data" -l "$pdir/log" -w -t 60 start >/dev/null; then
    out=$(pq -c "ALTER SYSTEM SET pgauth.session_expires_in = '30d'" -c "SELECT pg_reload_conf()")
    sleep 0.5
    shown=$(pq -c "SHOW pgauth.session_expires_in")
    [ "$out" = "t" ] && [ "$shown" = "30d" ] && ok "preloaded: a fresh session can ALTER SYSTEM SET pgauth.session_expires_in and SHOW it ($shown)" || bad "preloaded: ALTER SYSTEM '$out', SHOW '$shown'"
    out=$(pq -c "DROP EXTENSION pgauth" -c "CREATE EXTENSION pgauth" -c "SELECT length(session_token) FROM auth.sign_up_email('pre@example.com', 'preload-pass-1', 'Pre')")
    [ "$out" = "43" ] && ok "preloaded: CREATE EXTENSION without a warning, and sign-up works" || bad "preloaded: $out"
    runuser -u postgres -- "$bindir/pg_ctl" -D "$pdir/data" -m fast -w stop >/dev/null
  else
    bad "the server does not start with shared_preload_libraries = 'pgauth': $(tail -5 "$pdir/log")"
  fi
  rm -rf "$pdir"
fi

dropdb "$db"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
