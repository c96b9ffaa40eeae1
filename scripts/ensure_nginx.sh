#!/usr/bin/env bash
# Debian's nginx for the replica set (scripts/replicas.sh, tests/test_replicas.py).
# Idempotent; installs nginx-light when nginx is missing (root or sudo).
set -euo pipefail

if command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "ensure_nginx: nginx missing and no apt-get: install nginx by hand (replica tests will be skipped)" >&2
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# nginx-light (map, split_clients, upstream, websocket proxying: all the replica set needs);
# Debian releases without it ship the same modules in nginx.
$SUDO apt-get install -y -qq --no-install-recommends nginx-light >/dev/null 2>&1 \
  || $SUDO apt-get install -y -qq --no-install-recommends nginx >/dev/null
# The package's own service on port 80 is not ours: the replica set runs its own nginx.
$SUDO systemctl disable --now nginx >/dev/null 2>&1 || true
/usr/sbin/nginx -v
