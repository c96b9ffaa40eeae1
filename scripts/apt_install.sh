#!/usr/bin/env bash
# apt_install.sh PACKAGE...: install Debian packages for the test set-up (scripts/ensure_*.sh),
# without recommends, through sudo when not root. Fails when there is no apt-get.
set -euo pipefail
command -v apt-get >/dev/null || { echo "apt_install: no apt-get: install $* by hand" >&2; exit 1; }
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
