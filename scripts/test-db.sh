#!/usr/bin/env bash
# A fresh database with the pgauth extension, plus login roles granted pgauth's roles.
# Shared by the test and bench scripts.
#   scripts/test-db.sh <db> [<login role> <granted role>]...
#   e.g. scripts/test-db.sh pgauth_http_test pgauth_http_test pgauth_service
# Needs PGHOST/PGPORT/PGUSER of a running cluster (a superuser). Drops <db> first.
set -euo pipefail
usage() { echo "usage: $0 <db> [<login role> <granted role>]..." >&2; exit 2; }
[ $# -ge 1 ] && [ $(( ($# - 1) % 2 )) -eq 0 ] || usage
db=$1; shift
name='^[a-z_][a-z0-9_]*$'
[[ $db =~ $name ]] || { echo "$0: bad database name: $db" >&2; exit 2; }
sql="SET client_min_messages = warning;
CREATE EXTENSION pgauth;"
while [ $# -gt 0 ]; do
  role=$1 grant=$2; shift 2
  [[ $role =~ $name && $grant =~ $name ]] || { echo "$0: bad role name: $role / $grant" >&2; exit 2; }
  sql+="
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$role') THEN CREATE ROLE $role LOGIN; END IF;
END \$\$;
GRANT $grant TO $role;"
done
dropdb --if-exists "$db" >/dev/null 2>&1 || true
createdb "$db"
psql -qd "$db" -v ON_ERROR_STOP=1 >/dev/null <<<"$sql"
