#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the storage tests, on 127.0.0.1:${LIVENESS_TEST_PG_PORT:-55432}.
# Installs Debian's postgresql when missing (root only), creates the cluster once,
# starts it when stopped; a no-op when it is already up. Tests connect with
#   postgresql+psycopg://liveness_test:liveness_test@127.0.0.1:55432/liveness_test
# (override with LIVENESS_TEST_PG_URL).
set -euo pipefail

PORT=${LIVENESS_TEST_PG_PORT:-55432}
BASE=${LIVENESS_TEST_PG_DIR:-/tmp/liveness-pg-$PORT}
DATA=$BASE/data
ROLE=liveness_test
DB=liveness_test

find_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)
  [ -n "$dir" ] && [ -x "$dir/initdb" ] && echo "$dir"
}

BIN=$(find_bin || true)
if [ -z "$BIN" ]; then
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    echo "ensure_postgres: PostgreSQL is not installed and cannot be installed here (needs root and apt-get); PostgreSQL tests will be skipped" >&2
    exit 0
  fi
  echo "ensure_postgres: installing Debian's postgresql" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql >/dev/null
  BIN=$(find_bin)
fi

# The server refuses to run as root: run it as the postgres user when we are root.
if [ "$(id -u)" -eq 0 ]; then
  as_owner() { runuser -u postgres -- "$@"; }
  OWNER=postgres
else
  as_owner() { "$@"; }
  OWNER=$(id -un)
fi

if as_owner "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
  exit 0
fi

if [ ! -f "$DATA/PG_VERSION" ]; then
  mkdir -p "$BASE"
  chown "$OWNER" "$BASE"
  chmod 700 "$BASE"
  as_owner "$BIN/initdb" -D "$DATA" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
    -E UTF8 --locale=C.UTF-8 >/dev/null
fi

# A throwaway cluster: durability settings off for speed (client-side kill tests
# do not depend on the server's fsync).
as_owner "$BIN/pg_ctl" -D "$DATA" -l "$BASE/server.log" -w -t 60 start \
  -o "-p $PORT -c listen_addresses=127.0.0.1 -k $BASE -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100" >/dev/null

psql_admin() { as_owner "$BIN/psql" -h "$BASE" -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -qtA "$@"; }
if [ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = '$ROLE'")" != "1" ]; then
  psql_admin -c "CREATE ROLE $ROLE LOGIN CREATEDB PASSWORD '$ROLE'"
fi
if [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$DB'")" != "1" ]; then
  psql_admin -c "CREATE DATABASE $DB OWNER $ROLE"
fi
echo "ensure_postgres: PostgreSQL up on 127.0.0.1:$PORT" >&2
