#!/usr/bin/env bash
# Headless Chromium for the browser tests (tests/test_browser_*.py): Debian's
# package, never Playwright's downloaded browsers. Idempotent; needs root or
# sudo when the package is missing.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
  exit 0
fi
bash "$(dirname "$0")/apt_install.sh" chromium fonts-dejavu-core
/usr/bin/chromium --version
