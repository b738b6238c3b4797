#!/usr/bin/env bash
# `make stop`: stops what `make run` started: pgauth-http (if still running, by the PID
# in .run/pgauth-http.pid) and the cluster `dev`, and removes .run/pgauth.env, whose
# port would be stale. Keeps .run/secret, so signed cookies stay valid next time.
set -euo pipefail
cd "$(dirname "$0")/.."
pidfile=.run/pgauth-http.pid
if [ -f "$pidfile" ]; then
  read -r pid exe < "$pidfile" || true
  # Only our server: the PID may have been reused since. (A rebuilt binary shows as "(deleted)".)
  running=$(readlink "/proc/${pid:-0}/exe" 2>/dev/null || true)
  if [[ "${pid:-}" =~ ^[0-9]+$ ]] && [ -n "${exe:-}" ] && [ "${running% (deleted)}" = "$exe" ]; then
    kill -TERM "$pid"
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; fi
    echo "pgauth-http (pid $pid) stopped"
  else
    echo "pgauth-http not running"
  fi
  rm -f "$pidfile"
else
  echo "pgauth-http not running"
fi
bash scripts/cluster.sh stop dev
rm -f .run/pgauth.env .run/secret.env-override
