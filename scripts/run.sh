#!/usr/bin/env bash
# `make run`: a local cluster with the extension, and pgauth-http in the
# foreground on the embedded default (127.0.0.1:8080). Ctrl-C stops the
# server; `make stop` stops the cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
make -s -j"$(nproc)" >/dev/null && make -s install >/dev/null
cmake -S . -B build/cmake -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/cmake -j"$(nproc)" --target pgauth-http >/dev/null
bash scripts/cluster.sh start dev
# shellcheck disable=SC1091
. .run/dev.env
createdb pgauth 2>/dev/null || true
psql -qd pgauth -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgauth;
ALTER EXTENSION pgauth UPDATE;
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pgauth_http') THEN
    CREATE ROLE pgauth_http LOGIN IN ROLE pgauth_service;
  END IF;
END $$;
SQL
# A random secret, kept in .run/ so sessions survive restarts of `make run`.
[ -s .run/secret ] || { head -c 32 /dev/urandom | base64 > .run/secret; chmod 600 .run/secret; }
export PGAUTH_DATABASE_URL="${PGAUTH_DATABASE_URL:-postgresql://pgauth_http@127.0.0.1:${PGPORT}/pgauth}"
export PGAUTH_SECRET="${PGAUTH_SECRET:-$(cat .run/secret)}"
export PGAUTH_LISTEN="${PGAUTH_LISTEN:-127.0.0.1:8080}"
# Session JWTs name the public base URL as iss/aud (docs/operations.md).
psql -qd pgauth -c "ALTER DATABASE pgauth SET pgauth.base_url = '${PGAUTH_BASE_URL:-http://${PGAUTH_LISTEN}}'" >/dev/null
echo "pgauth-http on http://${PGAUTH_LISTEN}  (database: psql -h 127.0.0.1 -p ${PGPORT} -U postgres pgauth)"
exec build/cmake/pgauth-http
