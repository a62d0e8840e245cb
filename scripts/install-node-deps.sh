#!/usr/bin/env bash
# npm ci only when package-lock.json changed since the last install, so restarts stay fast.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=node_modules/.cellar-lock-hash
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [[ -f $stamp && "$(cat "$stamp")" == "$want" ]]; then exit 0; fi
echo "cellar: installing npm packages"
npm ci --no-audit --no-fund --loglevel=error
echo "$want" > "$stamp"
