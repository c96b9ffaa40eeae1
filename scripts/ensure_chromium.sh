#!/usr/bin/env bash
# Headless Chromium for the browser tests (tests/test_browser_*.py): Debian's
# package, never Playwright's downloaded browsers. Idempotent; needs root or
# sudo when the package is missing.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "ensure_chromium: /usr/bin/chromium missing and no apt-get: install Chromium by hand" >&2
  exit 1
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
/usr/bin/chromium --version
