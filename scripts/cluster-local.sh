#!/usr/bin/env bash
# npm run cluster: install what is missing (Debian's postgresql, redis-server, haproxy; npm
# packages; the base image and its ingest into the local content store, which the cluster copies
# into its bucket), build, then run the scaled-out layout on this machine (scripts/cluster-local.ts).
# Arguments go to cluster-local.ts: --replicas N --workers N --port N --dir DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
export TURBO_TELEMETRY_DISABLED=1 NEXT_TELEMETRY_DISABLED=1
bash scripts/install-system.sh --cluster
bash scripts/install-node-deps.sh
bash scripts/build-base-image.sh
node --import tsx apps/kernel-gateway/src/images/ingest-images.ts
npx turbo run build --output-logs=errors-only
exec node --import tsx scripts/cluster-local.ts "$@"
