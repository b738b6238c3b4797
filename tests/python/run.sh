#!/usr/bin/env bash
# FastAPI integration tests: clients/python/pgauth_fastapi against the real pgauth-http
# and a real cluster; the package's install; the example app's start without a database. Needs PGHOST/PGPORT/PGUSER of a running cluster (superuser, trust)
# and PGAUTH_HTTP_BIN (scripts/test.sh sets them). Uses the Debian python3 packages.
set -euo pipefail
cd "$(dirname "$0")"
: "${PGAUTH_HTTP_BIN:?build pgauth-http first}"
py=/usr/bin/python3
db=pgauth_python_test
port=$($py -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

bash ../../scripts/test-db.sh "$db" pgauth_python_reader pgauth_reader pgauth_python_service pgauth_service
# The JWT issuer and audience: the server's base URL (seen by connections opened from now on).
psql -qd "$db" -v ON_ERROR_STOP=1 -c "ALTER DATABASE $db SET pgauth.base_url = 'http://127.0.0.1:$port'" >/dev/null

export PGAUTH_PY_PORT=$port
export PGAUTH_PY_SERVICE_DSN="postgresql://pgauth_python_service@${PGHOST}:${PGPORT}/${db}"
export PGAUTH_PY_READER_DSN="postgresql://pgauth_python_reader@${PGHOST}:${PGPORT}/${db}"
export PGAUTH_PY_ADMIN_DSN="postgresql://${PGUSER}@${PGHOST}:${PGPORT}/${db}"
export PYTHONPATH="$(cd ../../clients/python && pwd)${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONDONTWRITEBYTECODE=1
# A shuffled order by default, printed so that a failure can be replayed:
# PGAUTH_PY_ORDER=<seed> | alpha | reverse (see order.py).
export PGAUTH_PY_ORDER="${PGAUTH_PY_ORDER:-$RANDOM}"
echo "tests/python: PGAUTH_PY_ORDER=$PGAUTH_PY_ORDER"
# test_package: clients/python installs offline into a temporary venv.
# test_example_startup: the example app started before its database (a scratch cluster).
# test_make_run: scripts/run.sh (make run) and make stop, from a scratch copy of scripts/.
exec $py -m unittest -v test_fastapi test_mcp_bearer test_package test_example_startup test_make_run
