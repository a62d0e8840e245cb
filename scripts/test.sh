#!/usr/bin/env bash
# npm test: install what is missing, then unit tests of every package and the end-to-end test
# in Chromium against the real stack (gateway, worker, gVisor sandbox, IPython, database).
set -euo pipefail
cd "$(dirname "$0")/.."
export TURBO_TELEMETRY_DISABLED=1 NEXT_TELEMETRY_DISABLED=1
bash scripts/install-system.sh --test
bash scripts/install-node-deps.sh
bash scripts/build-base-image.sh
node --import tsx apps/kernel-gateway/src/images/ingest-images.ts
npx turbo run build --output-logs=errors-only
npx turbo run typecheck --output-logs=errors-only
npx turbo run lint --output-logs=errors-only
# scripts/ is no workspace: its typecheck and its tests (the cluster's engines, real ones) run here.
npx tsc --noEmit -p scripts
npx vitest run --config scripts/vitest.config.ts
npx turbo run test --concurrency=1 --output-logs=full --filter='!@cellar/e2e'
npm run test -w @cellar/e2e
# The three-replica cluster (PostgreSQL, Redis, s3rver, HAProxy, two workers) started by its spec.
npm run test:cluster -w @cellar/e2e
