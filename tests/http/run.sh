#!/usr/bin/env bash
# HTTP tests: the real pgauth-http, the official better-auth client, a real cluster.
# Needs PGHOST/PGPORT/PGUSER of a running cluster and PGAUTH_HTTP_BIN (scripts/test.sh sets them).
set -euo pipefail
cd "$(dirname "$0")"
: "${PGAUTH_HTTP_BIN:?build pgauth-http first}"
npm ci --no-audit --no-fund --loglevel=error >/dev/null
db=pgauth_http_test
bash ../../scripts/test-db.sh "$db" pgauth_http_test pgauth_service
export PGAUTH_TEST_DATABASE_URL="postgresql://pgauth_http_test@${PGHOST}:${PGPORT}/${db}"
export PGAUTH_TEST_ADMIN_DATABASE_URL="postgresql://${PGUSER}@${PGHOST}:${PGPORT}/${db}"
node --test --test-concurrency=1 ./*.test.mjs
