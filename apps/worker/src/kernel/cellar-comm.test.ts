// The kernel bridge's hook that points the `comm` package at the kernel when a %pip layer brings
// it (kernel-bridge/cellar_comm.py) is Python: its unit tests run with Debian's python3 here, so
// `npm test` covers them. Widgets through a real kernel: the gateway's widgets.stack.test.ts.
import { execFile } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { expect, it } from "vitest";

const BRIDGE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../kernel-bridge");
const PYTHON = process.env.CELLAR_TEST_PYTHON ?? "/usr/bin/python3";

it("patches comm.create_comm and get_comm_manager when comm is imported, before its importer goes on", async () => {
  const run = await promisify(execFile)(PYTHON, ["-W", "error::ResourceWarning", "-m", "unittest", "-v", "test_cellar_comm"], {
    cwd: BRIDGE,
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" },
  }).catch((err: { stdout?: string; stderr?: string; message: string }) => {
    throw new Error(`python unittest failed:\n${err.stderr ?? err.message}`);
  });
  console.log(run.stderr);
  expect(run.stderr).toMatch(/\nOK/);
}, 60_000);
