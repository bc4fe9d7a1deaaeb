#!/usr/bin/env bash
# Runs the browser tests: installs what is missing (npm packages, Debian's
# Chromium, the debug server binary), type-checks the web client, then runs
# `node --test`. Screenshots go to tests/browser/screenshots/.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$here"

if [ ! -d node_modules/playwright-core ] || [ ! -d node_modules/axe-core ] || [ ! -d node_modules/typescript ]; then
  echo "# installing npm packages"
  if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
fi

if [ ! -x /usr/bin/chromium ]; then
  echo "# installing chromium"
  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
fi

# Always build: a no-op when up to date, and never a stale server.
(cd "$root" && cargo build -p peercircle --bin peercircle)

echo "# type-checking web-client/"
node_modules/.bin/tsc -p "$root/web-client/jsconfig.json"

echo "# screenshots: $here/screenshots"
node --test --test-concurrency=1 "$here"/*.test.mjs
echo "# screenshots written to $here/screenshots"
