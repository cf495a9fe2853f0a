#!/usr/bin/env bash
# Set-up for a fresh machine (Debian, Node.js 20): pnpm 12.4.2, Debian's Chromium for the
# dashboard's browser test, and the workspace's dependencies from the lockfile.
# Idempotent: what is already there is left alone.
set -euo pipefail
cd "$(dirname "$0")/../.."
export TURBO_TELEMETRY_DISABLED=1

if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version)" != "12.4.2" ]; then
  npm install -g pnpm@12.4.2
fi

if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing Debian's chromium (for the dashboard's browser test)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "setup: /usr/bin/chromium is missing; install it (apt-get install chromium) or the browser test fails" >&2
  fi
fi

pnpm install --frozen-lockfile
