// A cell on another device, through the real stack: a second worker process joins the suite's
// gateway, configured by its labels as an H100 machine (this machine has no GPU: its kernels run
// on the CPU in gVisor like the first worker's, which is all the move needs). Cell 1 builds an
// array on the CPU worker, cell 2 is set to the H100 in its device picker and computes on it
// there, writing a file,
// cell 3 is back on CPU with the result and the file, and the name that could not move is listed.
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { E2E_PORT } from "../playwright.config";
import { cells, newNotebook, runInCell, setSource, waitIdle } from "./helpers";

const REPO = path.resolve(__dirname, "../..");
const GPU_WORKER = "e2e-gpu";
let worker: ChildProcess | undefined;

test.beforeAll(async ({ request }) => {
  const home = process.env.CELLAR_E2E_HOME!;
  const { workerSecret } = JSON.parse(fs.readFileSync(path.join(home, "secrets.json"), "utf8")) as { workerSecret: string };
  const workerHome = path.join(home, "workers", GPU_WORKER);
  fs.mkdirSync(workerHome, { recursive: true });
  worker = spawn(process.execPath, ["--import", "tsx", "apps/worker/src/main.ts"], {
    cwd: REPO,
    stdio: ["ignore", "inherit", "inherit"],
    env: {
      ...process.env,
      CELLAR_HOME: workerHome,
      CELLAR_WORKER_ID: GPU_WORKER,
      CELLAR_WORKER_LABELS: "gpu=H100",
      CELLAR_WORKER_SECRET: workerSecret,
      CELLAR_GATEWAY_URL: `http://127.0.0.1:${E2E_PORT}`,
      CELLAR_SESSION_MEMORY_MB: "2048",
      // No pooled kernel waiting on the second worker: the 2-core CI machine runs the first's.
      CELLAR_KERNEL_POOL_SIZE: "0",
    },
  });
  const headers = { authorization: `Bearer ${process.env.CELLAR_E2E_TOKEN}` };
  await expect
    .poll(async () => ((await (await request.get("/api/workers", { headers })).json()) as Array<{ id: string }>).map((w) => w.id), {
      timeout: 60_000,
    })
    .toContain(GPU_WORKER);
});

test.afterAll(async () => {
  if (!worker || worker.exitCode !== null) return;
  const exited = new Promise((resolve) => worker!.once("exit", resolve));
  worker.kill("SIGTERM");
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 20_000))]);
  worker.kill("SIGKILL");
});

test("a cell on the H100 worker computes on the CPU cell's array, and the next CPU cell gets its result and files", async ({ page }) => {
  test.setTimeout(240_000);
  await newNotebook(page, `device move ${Date.now()}`);
  await runInCell(
    cells(page).first(),
    "import numpy as np, socket\na = np.arange(1_000_000, dtype=np.float64)\nsock = socket.socket()\nprint('made', a.sum())",
  );
  await expect(cells(page).first()).toContainText("made 499999500000.0", { timeout: 60_000 });
  await waitIdle(page);

  // Cell 2 is set to the H100 class with its device picker (stored in the cell's metadata).
  const second = cells(page).nth(1);
  await setSource(second, "b = a * 2\nopen('from-gpu.txt', 'w').write('written on the H100 kernel')\nprint('b', b.sum())");
  await second.hover();
  await second.getByTestId("cell-device-select").selectOption("model:H100");
  await expect(second.getByTestId("cell-device-badge")).toHaveAttribute("data-device", "H100");
  await second.locator(".cm-content").press("Shift+Enter");
  await expect(second).toContainText("b 999999000000.0", { timeout: 120_000 });
  await expect(second.getByTestId("cell-placement")).toContainText(`ran on H100 · worker ${GPU_WORKER} · moved`);
  // The socket stayed behind, and the cell says so with its type and why.
  await expect(second.getByTestId("cell-placement-skipped")).toContainText("1 name could not move to H100");
  await expect(second.locator('[data-testid="cell-placement-skipped-name"][data-name="sock"]')).toContainText("(socket.socket)");
  await waitIdle(page);

  await runInCell(
    cells(page).nth(2),
    "print('result', b.sum(), open('from-gpu.txt').read())\nprint('not here:', [n for n in ('a', 'b', 'sock') if n not in globals()])",
  );
  const third = cells(page).nth(2);
  await expect(third).toContainText("result 999999000000.0 written on the H100 kernel", { timeout: 120_000 });
  await expect(third).toContainText("not here: ['sock']");
  await expect(third.getByTestId("cell-placement")).toContainText("ran on CPU · worker e2e-worker · moved");
});
