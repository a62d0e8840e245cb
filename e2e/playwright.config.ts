// End-to-end tests drive Debian's Chromium against the real stack started by the same launcher
// as `npm start`: gateway, worker, gVisor sandboxes, IPython, SQLite in a throwaway CELLAR_HOME.
import { defineConfig } from "@playwright/test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { TEST_CLIENT_ID, TEST_CLIENT_SECRET } from "../apps/kernel-gateway/src/testing/oidc-test-client";

export const E2E_PORT = Number(process.env.CELLAR_E2E_PORT ?? 8899);
/** The single sign-on provider the gateway is configured with (oidc-provider.mts); off the
 * neighbouring ports, which other checkouts' suites may use. */
export const E2E_OIDC_PORT = Number(process.env.CELLAR_E2E_OIDC_PORT ?? E2E_PORT + 100);
export const E2E_OIDC_NAME = "Acme ID";
// The config is loaded by the runner and again by its workers: pass token and home by env so
// every process agrees.
process.env.CELLAR_E2E_TOKEN ??= "e2e-" + Math.random().toString(36).slice(2);
process.env.CELLAR_E2E_HOME ??= fs.mkdtempSync(path.join(os.tmpdir(), "cellar-e2e-"));

export default defineConfig({
  testDir: "tests",
  globalTeardown: "./global-teardown.ts",
  timeout: 180_000,
  expect: { timeout: 30_000 },
  workers: 1,
  retries: 0,
  reporter: [["list"]],
  outputDir: "test-results",
  use: {
    baseURL: `http://127.0.0.1:${E2E_PORT}`,
    screenshot: "only-on-failure",
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    },
  },
  webServer: [
    {
      command: "node --import tsx oidc-provider.mts",
      url: `http://127.0.0.1:${E2E_OIDC_PORT}/.well-known/openid-configuration`,
      timeout: 30_000,
      reuseExistingServer: false,
      stdout: "pipe",
      stderr: "pipe",
      env: { CELLAR_E2E_OIDC_PORT: String(E2E_OIDC_PORT), CELLAR_E2E_GATEWAY_URL: `http://127.0.0.1:${E2E_PORT}` },
    },
    {
      command: "node --import tsx ../scripts/cellar-local.ts",
      url: `http://127.0.0.1:${E2E_PORT}/api/health`,
      timeout: 120_000,
      reuseExistingServer: false,
      stdout: "pipe",
      stderr: "pipe",
      env: {
        CELLAR_PORT: String(E2E_PORT),
        CELLAR_TOKEN: process.env.CELLAR_E2E_TOKEN!,
        CELLAR_HOME: process.env.CELLAR_E2E_HOME!,
        CELLAR_WORKER_ID: "e2e-worker",
        CELLAR_SESSION_MEMORY_MB: "2048",
        CELLAR_OIDC_ISSUER: `http://127.0.0.1:${E2E_OIDC_PORT}`,
        CELLAR_OIDC_CLIENT_ID: TEST_CLIENT_ID,
        CELLAR_OIDC_CLIENT_SECRET: TEST_CLIENT_SECRET,
        CELLAR_OIDC_NAME: E2E_OIDC_NAME,
        // pip layers resolve against this machine's local wheel index (the sandboxes have no network).
        CELLAR_PIP_INDEX_URL: process.env.CELLAR_PIP_INDEX_URL ?? "file:///opt/pypi/simple",
      },
    },
  ],
});
