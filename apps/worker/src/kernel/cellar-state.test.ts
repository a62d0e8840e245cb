// The kernel bridge's state move (kernel-bridge/cellar_state.py) is Python: its unit tests run
// with Debian's python3 here (scripts/install-system.sh --test installs dill, cloudpickle, numpy
// and pandas for it), so `npm test` covers them. The sandboxed round trip is state-move.test.ts.
import { execFile } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { expect, it } from "vitest";

const BRIDGE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../kernel-bridge");
// Debian's, not whatever python3 comes first on PATH (a pyenv one lacks the Debian packages).
const PYTHON = process.env.CELLAR_TEST_PYTHON ?? "/usr/bin/python3";

it("moves arrays, frames, lambdas, notebook classes and module aliases; lists sockets and generators as skipped", async () => {
  const run = await promisify(execFile)(PYTHON, ["-W", "error::ResourceWarning", "-m", "unittest", "-v", "test_cellar_state"], {
    cwd: BRIDGE,
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" },
  }).catch((err: { stdout?: string; stderr?: string; message: string }) => {
    throw new Error(
      `python unittest failed (needs python3-dill, python3-cloudpickle, python3-numpy, python3-pandas: scripts/install-system.sh --test):\n${err.stderr ?? err.message}`,
    );
  });
  // unittest reports on stderr; a skipped torch test says why.
  console.log(run.stderr);
  expect(run.stderr).toMatch(/\nOK/);
}, 60_000);
