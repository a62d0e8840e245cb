#!/usr/bin/env bash
# Install npm packages only when package-lock.json changed since the last install, so restarts
# stay fast. `npm install` rather than `npm ci`: npm 11 writes locks without other platforms'
# optional packages (rollup's, for one) and then refuses its own lock in `npm ci`.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=node_modules/.cellar-lock-hash
lock_hash() { sha256sum package-lock.json | cut -d' ' -f1; }
if [[ -f $stamp && "$(cat "$stamp")" == "$(lock_hash)" ]]; then exit 0; fi
echo "cellar: installing npm packages"
npm install --no-audit --no-fund --loglevel=error
lock_hash > "$stamp"
