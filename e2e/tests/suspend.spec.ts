// Issue 4, suspend and resume through the product: an idle kernel is checkpointed and its sandbox
// stopped; the badge says so; the next cell resumes it with its variables; and a kernel survives
// its worker being restarted (SIGTERM suspends it; the launcher starts a new worker process,
// which resumes it on the next cell).
import { test, expect, type Page } from "@playwright/test";
import { cells, newNotebook, recordStatuses, runInCell, stackPid, token, waitIdle } from "./helpers";

const auth = () => ({ authorization: `Bearer ${token()}` });

/** The e2e stack's worker process. */
function workerPid(): number {
  const pid = stackPid("apps/worker/src/main.ts");
  if (pid === null) throw new Error(`no worker process with CELLAR_HOME=${process.env.CELLAR_E2E_HOME}`);
  return pid;
}

test("an idle kernel is suspended, shown as such, and the next cell resumes it with its variables", async ({ page, request }) => {
  const id = await newNotebook(page, "suspend and resume");
  const badge = page.getByTestId("kernel-status");
  await runInCell(cells(page).first(), "x = 42");
  // The run's count first: until the run has begun, the badge may still read idle from before it.
  await expect(cells(page).first().getByTestId("execution-count")).toHaveText("[1]", { timeout: 60_000 });
  await waitIdle(page);

  const res = await request.post(`/api/notebooks/${id}/kernel/suspend`, { headers: auth() });
  expect(res.status(), await res.text()).toBe(200);
  await expect(badge).toHaveAttribute("data-status", "suspended");
  await expect(badge).toContainText("suspended");
  const statuses = await recordStatuses(page);

  await runInCell(cells(page).first(), "print(x)");
  await expect(cells(page).first().getByTestId("cell-output")).toHaveText("42", { timeout: 120_000 });
  await waitIdle(page);
  expect(await statuses()).toEqual(expect.arrayContaining(["resuming", "idle"]));
  expect((await statuses())[0]).toBe("resuming");

  // Suspending a kernel that is not there is refused with a reason, not ignored (a notebook never
  // opened has none); a notebook that does not exist is not found, as on every notebook route.
  const unopened = await (await request.post("/api/notebooks", { headers: auth(), data: { title: "never opened" } })).json();
  const missing = await request.post(`/api/notebooks/${unopened.id}/kernel/suspend`, { headers: auth() });
  expect(missing.status()).toBe(409);
  expect((await missing.json()).error).toMatch(/no kernel/);
  expect((await request.post(`/api/notebooks/no-such-notebook/kernel/suspend`, { headers: auth() })).status()).toBe(404);
});

test("a kernel survives a restart of its worker: suspended on the way down, resumed by the new worker", async ({ page }) => {
  await newNotebook(page, "worker restart");
  const badge = page.getByTestId("kernel-status");
  await runInCell(cells(page).first(), "import numpy as np\nkept = np.arange(10).sum()");
  await waitIdle(page);

  const before = workerPid();
  process.kill(before, "SIGTERM");
  await expect(badge).toHaveAttribute("data-status", "suspended", { timeout: 60_000 });
  // The launcher starts a new worker process; the notebook stays suspended, not dead.
  await expect
    .poll(
      () => {
        try {
          return workerPid() !== before;
        } catch {
          return false;
        }
      },
      { timeout: 60_000 },
    )
    .toBe(true);
  await expect(page.getByTestId("worker-status")).toHaveAttribute("data-count", "1", { timeout: 60_000 });
  await expect(badge).toHaveAttribute("data-status", "suspended");
  const statuses = await recordStatuses(page);

  await runInCell(cells(page).first(), "print(kept)");
  await expect(cells(page).first().getByTestId("cell-output")).toHaveText("45", { timeout: 120_000 });
  await waitIdle(page);
  expect((await statuses())[0]).toBe("resuming");
});
