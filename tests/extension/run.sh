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

dropdb --if-exists "$db"; createdb "$db"
psql -qAt -d "$db" -c "SET client_min_messages=warning; CREATE EXTENSION pgauth;" >/dev/null

# 1. No table holds a session token in plaintext: sign up, dump, search the dump.
read -r token uid < <(psql -qAt -F ' ' -d "$db" -c \
  "SELECT session_token, user_id FROM auth.sign_up_email('dump@example.com', 'dump-password-1', 'Dump')")
token2=$(psql -qAt -d "$db" -c "SELECT session_token FROM auth.sign_in_email('dump@example.com', 'dump-password-1')")
dump=$(mktemp); pg_dump -d "$db" --data-only --inserts >"$dump"; pg_dump -d "$db" >>"$dump"
if [ ${#token} -eq 43 ] && grep -q "$uid" "$dump"; then ok "dump contains the user (the search is real)"; else bad "dump sanity"; fi
if grep -qF "$token" "$dump" || grep -qF "$token2" "$dump"; then bad "session token found in pg_dump output"; else ok "no session token in pg_dump output"; fi
if grep -qF "dump-password-1" "$dump"; then bad "password found in dump"; else ok "no password in pg_dump output"; fi
hex=$(psql -qAt -d "$db" -c "SELECT encode(auth.hash_token('$token'), 'hex')")
if grep -qi "$hex" "$dump"; then ok "the dump holds only the SHA-256 digest"; else bad "digest not found in dump"; fi
# 2. A dump restores into a working database: the same token still signs the user in.
full=$(mktemp); pg_dump -d "$db" >"$full"
dropdb --if-exists "${db}_restored" >/dev/null 2>&1; createdb "${db}_restored"
psql -q -d "${db}_restored" -v ON_ERROR_STOP=1 -f "$full" >/dev/null 2>&1 || true
restored=$(psql -qAt -d "${db}_restored" -c "SELECT email FROM auth.validate_session('$token')" 2>/dev/null || true)
if [ "$restored" = "dump@example.com" ]; then ok "restored dump validates the same session"; else bad "restore lost sessions ($restored)"; fi
dropdb "${db}_restored"
rm -f "$dump" "$full"

# 3. The backend survives every forced boundary failure (a crash would restart all backends).
before=$(psql -qAt -d "$db" -c "SELECT pg_postmaster_start_time()")
for kind in std_exception bad_alloc unknown_exception auth_error postgres_error crypto_failure; do
  psql -qAt -d "$db" -c "SELECT auth.selftest_boundary('$kind')" >/dev/null 2>&1 || true
done
after=$(psql -qAt -d "$db" -c "SELECT pg_postmaster_start_time()")
alive=$(psql -qAt -d "$db" -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'")
if [ "$before" = "$after" ] && [ "$alive" -ge 1 ]; then ok "no backend crash or restart"; else bad "postmaster restarted"; fi

dropdb "$db"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
