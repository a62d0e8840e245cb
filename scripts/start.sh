#!/usr/bin/env bash
# npm start: install what is missing (Debian packages, npm packages, the base image), build,
# migrate the database and run the gateway and one worker. Each step is skipped when done.
set -euo pipefail
cd "$(dirname "$0")/.."
export TURBO_TELEMETRY_DISABLED=1 NEXT_TELEMETRY_DISABLED=1
bash scripts/install-system.sh
bash scripts/install-node-deps.sh
bash scripts/build-base-image.sh
node --import tsx apps/kernel-gateway/src/images/ingest-images.ts
npx turbo run build --output-logs=errors-only
exec node --import tsx scripts/cellar-local.ts
