// The three-replica cluster suite (issue 12): each spec starts the scaled-out layout itself
// (scripts/cluster/start-cluster.ts: PostgreSQL, Redis, s3rver, three gateways behind HAProxy,
// two workers on gVisor) in a throwaway directory, since it kills and restarts its parts.
import { defineConfig } from "@playwright/test";
import base from "./playwright.config";

process.env.CELLAR_E2E_TOKEN ??= "e2e-cluster-" + Math.random().toString(36).slice(2);

export default defineConfig({
  ...base,
  testDir: "cluster",
  globalTeardown: undefined,
  // Starting the cluster (and, on a fresh machine, copying the images into its bucket) is slow.
  timeout: 600_000,
  webServer: undefined,
  use: { ...base.use, baseURL: undefined },
});
