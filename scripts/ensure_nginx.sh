#!/usr/bin/env bash
# Debian's nginx for the replica set (scripts/replicas.sh, tests/test_replicas.py).
# Idempotent; installs nginx-light when nginx is missing (root or sudo).
set -euo pipefail

if command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "ensure_nginx: nginx missing and no apt-get: the replica test will be skipped" >&2
  exit 0
fi
# nginx-light has all the replica set needs (map, split_clients, upstream, websockets);
# Debian releases without it ship the same modules in nginx.
bash "$(dirname "$0")/apt_install.sh" nginx-light || bash "$(dirname "$0")/apt_install.sh" nginx
# The package's own service on port 80 is not ours: the replica set runs its own nginx.
systemctl disable --now nginx >/dev/null 2>&1 || true
/usr/sbin/nginx -v
