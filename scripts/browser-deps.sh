#!/usr/bin/env bash
# Debian's Chromium for the browser test (Playwright cannot download browsers here).
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "browser-deps: /usr/bin/chromium missing; install it with: sudo apt-get install chromium fonts-liberation" >&2
  exit 0
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-liberation >/dev/null
