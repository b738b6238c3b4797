#!/usr/bin/env bash
# Installs the Debian packages that building and testing pgauth need.
# Idempotent: skips apt entirely when every package is already installed.
set -euo pipefail
PKGS=(
  build-essential cmake pkg-config
  postgresql-15 postgresql-contrib postgresql-server-dev-15 postgresql-client-15
  libpistache-dev libpqxx-dev libsodium-dev libssl-dev nlohmann-json3-dev
  libcurl4-openssl-dev libcrypt-dev libgtest-dev googletest
  # mail and page templates (header-only mustache); a real SMTP sink for the mail tests
  libkainjow-mustache-dev python3-aiosmtpd
  clang libclang-rt-14-dev

  python3-fastapi python3-asyncpg python3-httpx python3-jwt python3-cryptography python3-uvicorn
  # pip install ./clients/python offline: the build backend, pip, and venvs for the package test
  python3-setuptools python3-wheel python3-pip python3-venv
  wrk curl
  # tests/browser (Chromium driven by playwright-core) and tests/deploy (nginx terminating TLS)
  chromium nginx-light openssl
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PKGS[@]} packages present"
  command -v npm >/dev/null || { echo "install-deps: npm missing" >&2; exit 1; }
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages (${missing[*]}) and not root; install them and retry" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
# Node 20 and npm come with the machine (nodesource build); fall back to Debian's only when absent.
if ! command -v npm >/dev/null 2>&1; then
  apt-get install -y -qq --no-install-recommends nodejs npm
fi
