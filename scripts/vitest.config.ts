// Tests of the scripts (the engines the cluster launcher starts), run by scripts/test.sh. Each
// starts real engines (PostgreSQL, redis-server, s3rver, HAProxy), so they run one file at a time.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  root: path.dirname(fileURLToPath(import.meta.url)),
  test: {
    include: ["**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    fileParallelism: false,
  },
});
