#!/usr/bin/env bash
# `make run`: a local cluster `dev` with the extension, and pgauth-http in the
# foreground on the embedded default (127.0.0.1:8080). Ctrl-C stops the server;
# `make stop` stops the server (if still running) and the cluster.
#
# Writes, in .run/:
#   dev.env          PGHOST/PGPORT/PGUSER of the cluster (source it for psql)
#   pgauth.env       what a backend needs: PGAUTH_READER_DSN (role pgauth_app, granted
#                    pgauth_reader), PGAUTH_SECRET_FILE, PGAUTH_BASE_URL, PGAUTH_JWKS_URL,
#                    PGAUTH_ISSUER, PGAUTH_AUDIENCE; clients/python/example reads it
#   secret           pgauth-http's cookie secret (kept across runs)
#   pgauth-http.pid  the server's PID (and executable) while it runs
#
# PGAUTH_RUN_SKIP_EXTENSION=1 skips building and installing the extension (use the
# one already installed), e.g. when another checkout owns the installed copy.
# PGAUTH_HTTP_BIN=<path> runs that pgauth-http instead of building one.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
jobs=$(nproc 2>/dev/null || echo 2)
mkdir -p .run

n=0
step() { n=$((n + 1)); printf '==> [%d/7] %s\n' "$n" "$*"; }
# Runs a build quietly: one line per compiled file, warnings and errors as they come,
# the whole output in a log (shown in full, last lines, on failure).
build() {  # build LOG COMMAND...
  local log=$1; shift
  local start=$SECONDS
  if "$@" 2>&1 | tee "$log" | awk '
      / -c -o [^ ]+\.o [^ ]+\.(cpp|c)$/ { printf "    compiling %s\n", $NF; fflush(); next }
      /^\[ *[0-9]+%\] (Building|Linking)/ { sub(/^\[ *[0-9]+%\] /, ""); printf "    %s\n", $0; fflush(); next }
      /(warning|error):/ { print "    " $0; fflush() }'; then
    printf '    done in %ds (log: %s)\n' $((SECONDS - start)) "$log"
  else
    echo "    FAILED; the last lines of $log:" >&2
    tail -40 "$log" >&2
    exit 1
  fi
}

step "dependencies (scripts/install-deps.sh)"
bash scripts/install-deps.sh | sed 's/^/    /'

if [ "${PGAUTH_RUN_SKIP_EXTENSION:-}" = 1 ]; then
  step "extension: skipped (PGAUTH_RUN_SKIP_EXTENSION=1); using the installed one"
else
  step "extension: build (PGXS, -j$jobs) and make install"
  build .run/build-extension.log make -j"$jobs"
  make -s install >/dev/null
fi

if [ -n "${PGAUTH_HTTP_BIN:-}" ]; then
  step "pgauth-http: $PGAUTH_HTTP_BIN (PGAUTH_HTTP_BIN), not built"
  http_bin=$PGAUTH_HTTP_BIN
else
  step "pgauth-http: build (CMake, -j$jobs)"
  cmake -S . -B build/cmake -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  build .run/build-http.log cmake --build build/cmake -j"$jobs" --target pgauth-http
  http_bin=build/cmake/pgauth-http
fi

step "cluster 'dev' (scripts/cluster.sh)"
bash scripts/cluster.sh start dev | sed 's/^/    /'
# shellcheck disable=SC1091
. .run/dev.env

step "database pgauth: extension, roles pgauth_http (service) and pgauth_app (reader)"
createdb pgauth 2>/dev/null || true
psql -qd pgauth -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgauth;
ALTER EXTENSION pgauth UPDATE;
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pgauth_http') THEN
    CREATE ROLE pgauth_http LOGIN IN ROLE pgauth_service;
  END IF;
  -- What a backend (clients/python/example) connects as; the production equivalent is
  -- CREATE ROLE app LOGIN PASSWORD '...' IN ROLE pgauth_reader;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pgauth_app') THEN
    CREATE ROLE pgauth_app LOGIN IN ROLE pgauth_reader;
  END IF;
END $$;
SQL

step "settings: secret, base URL, .run/pgauth.env"
# A random secret, kept in .run/ so sessions survive restarts of `make run`.
[ -s .run/secret ] || { (umask 077; head -c 32 /dev/urandom | base64 > .run/secret); }
export PGAUTH_DATABASE_URL="${PGAUTH_DATABASE_URL:-postgresql://pgauth_http@127.0.0.1:${PGPORT}/pgauth}"
export PGAUTH_SECRET="${PGAUTH_SECRET:-$(cat .run/secret)}"
export PGAUTH_LISTEN="${PGAUTH_LISTEN:-127.0.0.1:8080}"
# A frontend dev server on :3000 may call pgauth-http (CORS, README's snippet).
export PGAUTH_TRUSTED_ORIGINS="${PGAUTH_TRUSTED_ORIGINS:-http://localhost:3000,http://127.0.0.1:3000}"
base_url="${PGAUTH_BASE_URL:-http://${PGAUTH_LISTEN}}"
# Session JWTs name the public base URL as iss/aud (docs/operations.md).
psql -qd pgauth -c "ALTER DATABASE pgauth SET pgauth.base_url = '${base_url}'" >/dev/null
secret_file="$root/.run/secret"
if [ "$PGAUTH_SECRET" != "$(cat .run/secret)" ]; then
  # PGAUTH_SECRET came from the caller's environment: hand the backend that one.
  (umask 077; printf '%s\n' "$PGAUTH_SECRET" > .run/secret.env-override)
  secret_file="$root/.run/secret.env-override"
fi
(umask 077; cat > .run/pgauth.env <<ENV
# Written by \`make run\` (scripts/run.sh); \`make stop\` removes it. Source it, or let
# clients/python/example/app.py read it.
export PGAUTH_READER_DSN=postgresql://pgauth_app@127.0.0.1:${PGPORT}/pgauth
export PGAUTH_SECRET_FILE=${secret_file}
export PGAUTH_BASE_URL=${base_url}
export PGAUTH_JWKS_URL=${base_url}/api/auth/jwks
export PGAUTH_ISSUER=${base_url}
export PGAUTH_AUDIENCE=${base_url}
ENV
)
echo "    backend settings: $root/.run/pgauth.env"
echo "    reader DSN:       postgresql://pgauth_app@127.0.0.1:${PGPORT}/pgauth  (role pgauth_app IN ROLE pgauth_reader)"
echo "    secret:           ${secret_file}"
echo "    psql:             psql -h 127.0.0.1 -p ${PGPORT} -U postgres pgauth  (or: . .run/dev.env; psql pgauth)"
echo "    first admin:      sign up, then: psql ... pgauth -c \"SELECT auth.grant_admin('you@example.com')\"  (docs/account-security.md)"
if [ -z "${PGAUTH_SMTP_URL:-}${PGAUTH_EMAIL_WEBHOOK_URL:-}" ]; then
  echo "    mail:             no PGAUTH_SMTP_URL: verification links and codes are printed in this log (docs/email.md)"
else
  echo "    mail:             sent by ${PGAUTH_SMTP_URL:+SMTP}${PGAUTH_EMAIL_WEBHOOK_URL:+the webhook} (docs/email.md)"
fi

step "pgauth-http on http://${PGAUTH_LISTEN}  (Ctrl-C stops it; make stop stops it and the cluster)"
echo "    FastAPI example:  /usr/bin/python3 clients/python/example/app.py  (http://127.0.0.1:8000/me)"
# exec keeps this PID: the server's. `make stop` checks the executable before it signals.
echo "$$ $(readlink -f "$http_bin")" > .run/pgauth-http.pid
exec "$http_bin"
