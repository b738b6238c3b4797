#!/usr/bin/env bash
# docs/deploy/nginx/pgauth.conf, as documented in docs/deploy.md, in front of a real
# pgauth-http: sign-up over https, X-Forwarded-For reaching the session's ip,
# and a chunked upload buffered into a Content-Length request.
# Needs PGHOST/PGPORT/PGUSER of a running cluster and PGAUTH_HTTP_BIN (scripts/test.sh sets them).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
: "${PGAUTH_HTTP_BIN:?build pgauth-http first}"
NGINX=${NGINX:-/usr/sbin/nginx}
[ -x "$NGINX" ] || { echo "tests/deploy: $NGINX missing (scripts/install-deps.sh installs nginx-light)" >&2; exit 1; }

passed=0; failed=0
check() {  # check NAME CONDITION-COMMAND...
  local name=$1; shift
  if "$@"; then echo "ok - $name"; passed=$((passed + 1)); else echo "not ok - $name"; failed=$((failed + 1)); fi
}
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

dir=$(mktemp -d /tmp/pgauth-deploy-test.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$dir"
}
trap cleanup EXIT

db=pgauth_deploy_test
dropdb --if-exists "$db" >/dev/null 2>&1; createdb "$db"
psql -qd "$db" -v ON_ERROR_STOP=1 >/dev/null 2>&1 <<'SQL'
SET client_min_messages = error;
CREATE EXTENSION pgauth;
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pgauth_http_test') THEN
    CREATE ROLE pgauth_http_test LOGIN IN ROLE pgauth_service;
  END IF;
END $$;
SQL

# A self-signed certificate for localhost, made now.
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost -addext subjectAltName=DNS:localhost \
  -keyout "$dir/key.pem" -out "$dir/cert.pem" >/dev/null 2>&1

http_port=$(free_port); https_port=$(free_port)
while [ "$https_port" = "$http_port" ]; do https_port=$(free_port); done
base="https://localhost:$https_port"
PGAUTH_DATABASE_URL="postgresql://pgauth_http_test@${PGHOST}:${PGPORT}/${db}" PGAUTH_SECRET=deploy-test-secret-0123456789abcdef-0123 \
PGAUTH_LISTEN="127.0.0.1:$http_port" PGAUTH_BASE_URL="$base" PGAUTH_TRUSTED_PROXIES=127.0.0.1/32 PGAUTH_RATE_LIMIT=off \
PGAUTH_THREADS=2 "$PGAUTH_HTTP_BIN" >"$dir/pgauth-http.out" 2>"$dir/pgauth-http.err" &
pids+=($!)

# The documented server block, with this test's ports, names and certificate.
sed -e "s|server 127.0.0.1:8080;|server 127.0.0.1:$http_port;|" \
    -e "s|listen 443 ssl;|listen 127.0.0.1:$https_port ssl;|" \
    -e "s|server_name auth.example.com;|server_name localhost;|" \
    -e "s|/etc/ssl/certs/auth.example.com.pem|$dir/cert.pem|" \
    -e "s|/etc/ssl/private/auth.example.com.key|$dir/key.pem|" \
    docs/deploy/nginx/pgauth.conf >"$dir/pgauth.conf"
mkdir -p "$dir/tmp"
cat >"$dir/nginx.conf" <<CONF
user root;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/nginx-error.log;
events { worker_connections 256; }
http {
    access_log $dir/nginx-access.log;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    include $dir/pgauth.conf;
}
CONF
"$NGINX" -t -p "$dir" -c "$dir/nginx.conf" >"$dir/nginx-t.log" 2>&1 || { cat "$dir/nginx-t.log"; exit 1; }
"$NGINX" -p "$dir" -c "$dir/nginx.conf" -g 'daemon off;' &
pids+=($!)

for _ in $(seq 100); do
  curl -sf --cacert "$dir/cert.pem" "$base/api/auth/ok" >/dev/null 2>&1 && break
  sleep 0.1
done

# 1. sign-up over https, from 127.0.0.2 (another loopback address), with a forged X-Forwarded-For
email="deploy.$$@example.com"
curl -sS --cacert "$dir/cert.pem" --interface 127.0.0.2 -D "$dir/h1" -o "$dir/b1" \
  -H 'content-type: application/json' -H "origin: $base" -H 'x-forwarded-for: 6.6.6.6' \
  -d "{\"email\":\"$email\",\"password\":\"correct-horse-battery\",\"name\":\"Deploy\"}" "$base/api/auth/sign-up/email"
check "sign-up over https answers 200" grep -q '^HTTP/1.1 200' "$dir/h1"
check "the session cookie is __Secure- and Secure" grep -qi '^set-cookie: __Secure-better-auth.session_token=.*; Secure' "$dir/h1"
ip=$(psql -qAtd "$db" -c "SELECT host(s.ip) FROM auth.sessions s JOIN auth.users u ON u.id = s.user_id WHERE u.email = '$email'")
check "the session's ip is the address that connected to the proxy (127.0.0.2), not the forged one ($ip)" [ "$ip" = "127.0.0.2" ]
check "pgauth-http logs the client address" grep -q '"ip":"127.0.0.2"' "$dir/pgauth-http.out"

# 2. a chunked upload: pgauth-http alone refuses it (411); through the proxy it arrives with a Content-Length
body="{\"email\":\"$email\",\"password\":\"correct-horse-battery\"}"
direct=$(printf '%s' "$body" | curl -s -o /dev/null -w '%{http_code}' -H 'content-type: application/json' \
  -H 'transfer-encoding: chunked' -H "origin: http://127.0.0.1:$http_port" --data-binary @- "http://127.0.0.1:$http_port/api/auth/sign-in/email")
check "pgauth-http alone answers a chunked body with 411 ($direct)" [ "$direct" = 411 ]
proxied=$(printf '%s' "$body" | curl -s --cacert "$dir/cert.pem" -o "$dir/b2" -w '%{http_code}' -H 'content-type: application/json' \
  -H 'transfer-encoding: chunked' -H "origin: $base" --data-binary @- "$base/api/auth/sign-in/email")
check "through the proxy the chunked sign-in succeeds ($proxied)" [ "$proxied" = 200 ]

# 3. a body over 1 MiB is refused by the proxy before pgauth-http
big=$(head -c 1200000 /dev/zero | tr '\0' a | curl -s --cacert "$dir/cert.pem" -o "$dir/b3" -w '%{http_code}' \
  -H 'content-type: application/json' -H "origin: $base" --data-binary @- "$base/api/auth/sign-in/email")
check "a 1.2 MB body is refused (413)" [ "$big" = 413 ]
check "... in JSON" grep -q '"code":"PAYLOAD_TOO_LARGE"' "$dir/b3"

# 4. pgauth-http down: a JSON 503 from the proxy
kill "${pids[0]}"; wait "${pids[0]}" 2>/dev/null || true
down=$(curl -s --cacert "$dir/cert.pem" -o "$dir/b4" -w '%{http_code}' "$base/api/auth/get-session")
check "pgauth-http down: 503 ($down)" [ "$down" = 503 ]
check "... in JSON" grep -q '"code":"SERVICE_UNAVAILABLE"' "$dir/b4"

# 5. the systemd unit parses (where systemd-analyze exists), pointing at this binary
if command -v systemd-analyze >/dev/null 2>&1; then
  sed "s|^ExecStart=.*|ExecStart=$PGAUTH_HTTP_BIN|; s|^EnvironmentFile=.*|EnvironmentFile=-$dir/none.env|" \
    docs/deploy/systemd/pgauth-http.service >"$dir/pgauth-http.service"
  check "docs/deploy/systemd/pgauth-http.service verifies" bash -c "! systemd-analyze verify '$dir/pgauth-http.service' 2>&1 | grep -v 'Documentation=' | grep ."
fi

if [ $failed -ne 0 ]; then
  echo "--- pgauth-http"; tail -20 "$dir/pgauth-http.out" "$dir/pgauth-http.err"; echo "--- nginx"; tail -20 "$dir/nginx-error.log"
fi
dropdb --if-exists "$db" >/dev/null 2>&1 || true
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
