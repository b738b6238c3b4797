#!/usr/bin/env bash
# Extension checks that need more than one SQL session: no plaintext token at
# rest (pg_dump), and a hot standby answering validate_session without writing.
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
# 2. A dump restores into a working database: the same token still signs the user in.
full=$(mktemp); pg_dump -d "$db" >"$full"
dropdb --if-exists "${db}_restored" >/dev/null 2>&1; createdb "${db}_restored"
psql -q -d "${db}_restored" -v ON_ERROR_STOP=1 -f "$full" >/dev/null 2>&1 || true
restored=$(psql -qAt -d "${db}_restored" -c "SELECT email FROM auth.validate_session('$token')" 2>/dev/null || true)
if [ "$restored" = "dump@example.com" ]; then ok "restored dump validates the same session"; else bad "restore lost sessions ($restored)"; fi
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

dropdb "$db"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
