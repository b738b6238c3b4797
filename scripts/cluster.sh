#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for tests and `make run`.
#   scripts/cluster.sh start [name]   -> creates + starts it, writes .run/<name>.env
#   scripts/cluster.sh stop  [name]   -> stops it and removes its data directory
# The server runs as the `postgres` OS user (PostgreSQL refuses root), listens
# on 127.0.0.1 only, on a free port, with trust auth for local connections.
set -euo pipefail
cd "$(dirname "$0")/.."
cmd=${1:?start|stop}
name=${2:-test}
bindir=$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)
[ -x "$bindir/initdb" ] || bindir=/usr/lib/postgresql/15/bin
envfile=.run/$name.env
mkdir -p .run

as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  /usr/bin/python3 - <<'PY'
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
PY
}

case "$cmd" in
start)
  if [ -f "$envfile" ]; then
    # shellcheck disable=SC1090
    . "$envfile"
    if as_pg "$bindir/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; then
      echo "cluster '$name' already running on port $PGPORT"; exit 0
    fi
  fi
  dir=$(mktemp -d /tmp/pgauth-$name.XXXXXX)
  chmod 755 "$dir"; chown postgres:postgres "$dir" 2>/dev/null || true
  port=${PGAUTH_PG_PORT:-$(free_port)}
  # The KEK that seals JWT signing keys (pgauth.key_file): 32 random bytes,
  # readable by the server only.
  head -c 32 /dev/urandom >"$dir/pgauth.key"
  chown postgres:postgres "$dir/pgauth.key" 2>/dev/null || true
  chmod 600 "$dir/pgauth.key"
  as_pg "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log"; exit 1; }
  cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 200
shared_buffers = 256MB
fsync = off
synchronous_commit = off
full_page_writes = off
log_min_messages = warning
pgauth.key_file = '$dir/pgauth.key'
shared_preload_libraries = 'pgauth'
CONF
  as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null \
    || { cat "$dir/server.log"; exit 1; }
  cat >"$envfile" <<ENV
export PGHOST=127.0.0.1
export PGPORT=$port
export PGUSER=postgres
export PGDATA=$dir/data
export PGAUTH_CLUSTER_DIR=$dir
ENV
  echo "cluster '$name' started on 127.0.0.1:$port ($dir)"
  ;;
stop)
  [ -f "$envfile" ] || { echo "cluster '$name' not running"; exit 0; }
  # shellcheck disable=SC1090
  . "$envfile"
  as_pg "$bindir/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$PGAUTH_CLUSTER_DIR" "$envfile"
  echo "cluster '$name' stopped"
  ;;
*) echo "usage: $0 start|stop [name]" >&2; exit 2 ;;
esac
