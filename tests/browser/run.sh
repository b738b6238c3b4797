#!/usr/bin/env bash
# Browser tests: Debian's chromium (playwright-core drives it) loads a page from
# another local origin that calls the real pgauth-http with the better-auth client.
# Needs PGHOST/PGPORT/PGUSER of a running cluster and PGAUTH_HTTP_BIN (scripts/test.sh sets them).
set -euo pipefail
cd "$(dirname "$0")"
: "${PGAUTH_HTTP_BIN:?build pgauth-http first}"
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || { echo "tests/browser: ${CHROMIUM:-/usr/bin/chromium} missing (scripts/install-deps.sh installs it)" >&2; exit 1; }
npm ci --no-audit --no-fund --loglevel=error >/dev/null
# oauth-social-button.test.mjs starts the OpenID provider of tests/http (social-harness.mjs).
[ -d ../http/node_modules/oidc-provider ] || (cd ../http && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
db=pgauth_browser_test
dropdb --if-exists "$db" >/dev/null 2>&1; createdb "$db"
psql -qd "$db" -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION pgauth;
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pgauth_http_test') THEN
    CREATE ROLE pgauth_http_test LOGIN IN ROLE pgauth_service;
  END IF;
END $$;
SQL
export PGAUTH_TEST_DATABASE_URL="postgresql://pgauth_http_test@${PGHOST}:${PGPORT}/${db}"
export PGAUTH_TEST_ADMIN_DATABASE_URL="postgresql://${PGUSER}@${PGHOST}:${PGPORT}/${db}"
node --test --test-concurrency=1 ./*.test.mjs
