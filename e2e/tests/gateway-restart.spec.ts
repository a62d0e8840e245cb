// Issue 12: the gateway can die at any moment (kill -9) without the user losing anything. The
// launcher starts a new gateway process, which reads the kernels back from the database; the
// worker kept them running, reconnects and hands them over; the page reconnects by itself.
import { test, expect, type Page } from "@playwright/test";
import { cells, newNotebook, runInCell, setSource, stackPid, token, waitIdle } from "./helpers";

const GATEWAY = "apps/kernel-gateway/src/main.ts";

/** kill -9 of this stack's gateway; resolves once the launcher's new gateway answers. */
async function killGateway(page: Page): Promise<void> {
  const before = stackPid(GATEWAY);
  expect(before).not.toBeNull();
  process.kill(before!, "SIGKILL");
  await expect.poll(() => stackPid(GATEWAY) !== null && stackPid(GATEWAY) !== before, { timeout: 30_000 }).toBe(true);
  await expect.poll(async () => (await page.request.get("/api/health").catch(() => null))?.ok() ?? false, { timeout: 60_000 }).toBe(true);
}

test("a gateway killed with kill -9 comes back by itself: the kernel keeps its variables and no saved edit is lost", async ({ page }) => {
  const id = await newNotebook(page, "gateway restart");
  const workerBefore = stackPid("apps/worker/src/main.ts");
  await runInCell(cells(page).first(), "import os\nx = 42\nkernel_pid = os.getpid()\nprint('set')");
  await expect(cells(page).first().getByTestId("cell-output")).toHaveText("set");
  await waitIdle(page);
  // An edit the user made and the page saved before the kill.
  await page.getByTestId("add-code-cell").click();
  await setSource(cells(page).nth(1), "print('saved before the kill')");
  await expect(page.getByTestId("save-status")).toHaveText("Saved", { timeout: 30_000 });

  await killGateway(page);
  // The page reconnects and shows the adopted kernel as it was; the worker was not restarted.
  await waitIdle(page);
  expect(stackPid("apps/worker/src/main.ts")).toBe(workerBefore);
  await runInCell(cells(page).first(), "print(x, os.getpid() == kernel_pid)");
  await expect(cells(page).first().getByTestId("cell-output")).toHaveText("42 True", { timeout: 60_000 });

  // What was saved is there after a reload, from the new gateway.
  await page.reload();
  await expect(cells(page).nth(1).locator(".cm-content")).toHaveText("print('saved before the kill')");
  await waitIdle(page);
  const notebook = await page.request.get(`/api/notebooks/${id}`, { headers: { authorization: `Bearer ${token()}` } });
  expect((await notebook.json()).cells[0].outputs[0].text).toBe("42 True\n");
});

test("a suspended kernel survives a gateway killed with kill -9 and resumes with its variables", async ({ page }) => {
  const id = await newNotebook(page, "suspended across a gateway restart");
  const badge = page.getByTestId("kernel-status");
  await runInCell(cells(page).first(), "y = 'still here'\nprint('set')");
  // The output first: until the run has begun, the badge may still read idle from before it.
  await expect(cells(page).first().getByTestId("cell-output")).toHaveText("set");
  await waitIdle(page);
  const res = await page.request.post(`/api/notebooks/${id}/kernel/suspend`, { headers: { authorization: `Bearer ${token()}` } });
  expect(res.status(), await res.text()).toBe(200);
  await expect(badge).toHaveAttribute("data-status", "suspended");

  await killGateway(page);
  await expect(badge).toHaveAttribute("data-status", "suspended", { timeout: 60_000 });
  await runInCell(cells(page).first(), "print(y)");
  await expect(cells(page).first().getByTestId("cell-output")).toHaveText("still here", { timeout: 120_000 });
  await waitIdle(page);
});

test("a cell printing for 20 s while the gateway is killed ends with all 200 lines, in order, none twice, on the page and saved", async ({
  page,
}) => {
  const id = await newNotebook(page, "printing through a gateway restart");
  const cell = cells(page).first();
  await runInCell(cell, "import time\nfor i in range(200):\n    print(f'line {i}', flush=True)\n    time.sleep(0.1)");
  await expect(cell.getByTestId("output-stream")).toContainText("line 30", { timeout: 60_000 });
  await killGateway(page);
  const expected = Array.from({ length: 200 }, (_, i) => `line ${i}`).join("\n");
  await expect(cell.getByTestId("output-stream")).toHaveText(expected, { timeout: 90_000 });
  await waitIdle(page);
  // Saved by the gateway (the new one recorded the rest of the run the old one began).
  await expect
    .poll(
      async () => {
        const res = await page.request.get(`/api/notebooks/${id}`, { headers: { authorization: `Bearer ${token()}` } });
        const outputs = (await res.json()).cells[0].outputs as Array<{ text?: string }>;
        return outputs.map((o) => o.text ?? "").join("");
      },
      { timeout: 30_000 },
    )
    .toBe(`${expected}\n`);
  await page.reload();
  await expect(cells(page).first().getByTestId("output-stream")).toHaveText(expected);
});
