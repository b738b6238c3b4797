#!/usr/bin/env bash
# The official MCP conformance suite (npm @modelcontextprotocol/conformance, 0.2 line)
# against the real pgauth-http, started as `make run` starts it (a database with the
# extension, the service role, pgauth.base_url = the server's URL):
#   server scenarios server-initialize, ping, tools-list against /mcp with a valid token;
#   authorization scenarios authorization-server-metadata-endpoint and
#   authorization-code-grant (a signed-up user completes the sign-in and consent pages).
# The suite needs Node >= 22: the npm package `node` ships it (installed by npm ci).
# Needs PGHOST/PGPORT/PGUSER of a running cluster and PGAUTH_HTTP_BIN (scripts/test.sh sets them).
set -euo pipefail
cd "$(dirname "$0")"
: "${PGAUTH_HTTP_BIN:?build pgauth-http first}"
npm ci --no-audit --no-fund --loglevel=error >/dev/null
db=pgauth_mcp_conformance
bash ../../scripts/test-db.sh "$db" pgauth_mcp_conformance pgauth_service
port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
psql -qd "$db" -v ON_ERROR_STOP=1 -c "ALTER DATABASE $db SET pgauth.base_url = 'http://127.0.0.1:$port'" >/dev/null
export PGAUTH_CONFORMANCE_PORT=$port
export PGAUTH_TEST_DATABASE_URL="postgresql://pgauth_mcp_conformance@${PGHOST}:${PGPORT}/${db}"
export PGAUTH_TEST_ADMIN_DATABASE_URL="postgresql://${PGUSER}@${PGHOST}:${PGPORT}/${db}"
export PGAUTH_NODE22="$PWD/node_modules/node/bin/node"
"$PGAUTH_NODE22" --version >/dev/null
exec "$PGAUTH_NODE22" --test --test-concurrency=1 ./*.test.mjs
