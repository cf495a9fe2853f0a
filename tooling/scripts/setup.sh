#!/usr/bin/env bash
# Set-up for a fresh machine (Debian, Node.js 20): pnpm 12.4.2, the Debian packages the tests
# use (below), and the workspace's dependencies from the lockfile.
# Idempotent: what is already there is left alone.
set -euo pipefail
cd "$(dirname "$0")/../.."
export TURBO_TELEMETRY_DISABLED=1

if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version)" != "12.4.2" ]; then
  npm install -g pnpm@12.4.2
fi

# Debian packages the tests run for real: Chromium (the dashboard's browser test), Prometheus and
# promtool (alert rules, a real scrape), systemd-analyze (the unit file), and for `pnpm test:hosts`
# iproute2 (ip netns, veth, tc), nftables and dnsmasq. Each is installed only when its tool is missing.
missing=()
[ -x /usr/bin/promtool ] && [ -x /usr/bin/prometheus ] || missing+=(prometheus)
[ -x /usr/bin/systemd-analyze ] || missing+=(systemd)
command -v ip >/dev/null 2>&1 && command -v tc >/dev/null 2>&1 || missing+=(iproute2)
command -v nft >/dev/null 2>&1 || missing+=(nftables)
command -v dnsmasq >/dev/null 2>&1 || missing+=(dnsmasq-base)
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing Debian's chromium (for the dashboard's browser test)"
    apt-get update -qq
    # With its recommended packages: the fonts the dashboard's screenshot is drawn with.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "setup: /usr/bin/chromium is missing; install it (apt-get install chromium) or the browser test fails" >&2
  fi
fi
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: missing Debian packages: ${missing[*]}; install them (apt-get install ${missing[*]}) or the tests that use them fail" >&2
  fi
fi

pnpm install --frozen-lockfile
