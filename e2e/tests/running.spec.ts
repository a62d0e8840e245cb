// Issue 5, part 2 (running): run all / above / below, queued cells shown as queued, counts and
// durations, an error stopping the queue, clear outputs, interrupt, restart and run all.
import { test, expect, type Page } from "@playwright/test";
import { cells, newNotebook, setSource, waitIdle } from "./helpers";

/** A notebook whose cells hold these sources (typed into fresh cells with B). */
async function notebookWith(page: Page, title: string, sources: string[]): Promise<void> {
  await newNotebook(page, title);
  await setSource(cells(page).first(), sources[0]);
  for (const source of sources.slice(1)) {
    await page.keyboard.press("Escape");
    await page.keyboard.press("b");
    await page.keyboard.press("Enter");
    await page.keyboard.insertText(source);
  }
  await page.keyboard.press("Escape");
  await expect(cells(page)).toHaveCount(sources.length);
}

const count = (page: Page, i: number) => cells(page).nth(i).getByTestId("execution-count");
const output = (page: Page, i: number) => cells(page).nth(i).getByTestId("cell-output");

test("run all shows queued cells as queued, times each cell, and stops at an error", async ({ page }) => {
  await notebookWith(page, "Run all", ["import time\ntime.sleep(2)\nprint('first')", "print('second')", "1/0", "print('never')"]);
  await page.getByTestId("run-all").click();

  // While the first cell runs, the others wait their turn and say so.
  await expect(cells(page).first().getByTestId("cell-running")).toBeVisible();
  await expect(count(page, 0)).toHaveText("[*]");
  await expect(count(page, 1)).toHaveText("[*]");
  await expect(count(page, 1)).toHaveAttribute("data-state", "queued");
  await expect(cells(page).nth(1).getByTestId("cell-queued")).toHaveText("queued");
  await expect(cells(page).first().getByTestId("cell-queued")).toHaveCount(0);

  await expect(output(page, 0)).toHaveText(/^\s*first\s*$/, { timeout: 30_000 });
  await expect(output(page, 1)).toHaveText(/^\s*second\s*$/);
  await expect(cells(page).nth(2).getByTestId("output-error")).toContainText("ZeroDivisionError");
  // The error stopped the run: the last cell never ran and waits no more.
  await expect(count(page, 3)).toHaveText("[ ]");
  await expect(output(page, 3)).toBeEmpty();
  await expect(page.getByTestId("cell-queued")).toHaveCount(0);
  expect(await Promise.all([0, 1, 2].map((i) => count(page, i).textContent()))).toEqual(["[1]", "[2]", "[3]"]);

  // Each cell shows how long it ran; the sleeping one took about two seconds.
  const duration = cells(page).first().getByTestId("execution-duration");
  await expect(duration).toHaveText(/^\d+\.\d s$/);
  const seconds = parseFloat((await duration.textContent())!);
  expect(seconds).toBeGreaterThanOrEqual(1.9);
  expect(seconds).toBeLessThan(10);
  await expect(cells(page).nth(1).getByTestId("execution-duration")).toHaveText(/\d+ ms|\d\.\d s/);

  // The timing is saved with the notebook.
  await expect(page.getByTestId("save-status")).toHaveText("Saved", { timeout: 10_000 });
  await page.reload();
  await expect(cells(page).first().getByTestId("execution-duration")).toHaveText(/^\d+\.\d s$/);
});

test("interrupt stops the running cell and drops the queued ones", async ({ page }) => {
  await notebookWith(page, "Interrupt queue", ["while True: pass", "print('after')"]);
  await page.getByTestId("run-all").click();
  await expect(cells(page).nth(1).getByTestId("cell-queued")).toBeVisible();
  await expect(page.getByTestId("kernel-status")).toHaveAttribute("data-status", "busy");
  await page.waitForTimeout(300);
  await page.getByTestId("interrupt-kernel").click();
  await expect(cells(page).first().getByTestId("output-error")).toContainText("KeyboardInterrupt");
  await waitIdle(page);
  await expect(cells(page).nth(1).getByTestId("cell-queued")).toHaveCount(0);
  await expect(count(page, 1)).toHaveText("[ ]");
  await page.waitForTimeout(500);
  await expect(output(page, 1)).toBeEmpty();
});

test("run above / below, clear outputs, and restart and run all after a confirmation", async ({ page }) => {
  await notebookWith(page, "Run parts", ["a = 10", "b = a * 2", "print(a + b)"]);

  // Select the last cell (a click beside its editor), then run what is above it.
  await count(page, 2).click();
  await expect(cells(page).nth(2)).toHaveAttribute("data-active", "true");
  await page.getByTestId("run-above").click();
  await expect(count(page, 1)).toHaveText("[2]");
  await expect(count(page, 0)).toHaveText("[1]");
  await expect(count(page, 2)).toHaveText("[ ]");
  await page.getByTestId("run-below").click();
  await expect(output(page, 2)).toHaveText(/^\s*30\s*$/);
  await expect(count(page, 2)).toHaveText("[3]");

  // Clear the selected cell's outputs, then all of them; a reload keeps them cleared.
  await page.getByTestId("clear-outputs").click();
  await expect(output(page, 2)).toBeEmpty();
  await expect(count(page, 2)).toHaveText("[ ]");
  await expect(count(page, 1)).toHaveText("[2]");
  await page.getByTestId("clear-all-outputs").click();
  await expect(count(page, 0)).toHaveText("[ ]");
  await expect(count(page, 1)).toHaveText("[ ]");
  await expect(page.getByTestId("save-status")).toHaveText("Saved", { timeout: 10_000 });
  await page.reload();
  await expect(cells(page)).toHaveCount(3);
  for (const i of [0, 1, 2]) await expect(count(page, i)).toHaveText("[ ]");
  await expect(output(page, 2)).toBeEmpty();
  await waitIdle(page);

  // Restart and run all asks first; Cancel leaves the kernel alone (its count goes on).
  await page.getByTestId("run-all").click();
  await expect(count(page, 2)).toHaveText("[6]");
  await page.getByTestId("restart-run-all").click();
  const dialog = page.getByTestId("confirm-dialog");
  await expect(dialog).toBeVisible();
  await dialog.getByTestId("confirm-cancel").click();
  await expect(dialog).toBeHidden();
  await expect(count(page, 2)).toHaveText("[6]");
  await expect(page.getByTestId("kernel-status")).toHaveAttribute("data-status", "idle");

  // Confirmed: a fresh kernel (counts start at 1 again) runs every cell in order.
  await page.getByTestId("restart-run-all").click();
  await dialog.getByTestId("confirm-ok").click();
  await expect(count(page, 0)).toHaveText("[1]", { timeout: 90_000 });
  await expect(count(page, 2)).toHaveText("[3]", { timeout: 30_000 });
  await expect(output(page, 2)).toHaveText(/^\s*30\s*$/);
});
