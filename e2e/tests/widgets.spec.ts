// Issue 17, point 1: ipywidgets render, live, in the sandboxed output frame (never in the page),
// through the real stack: interact's slider moved with the mouse changes its printed result, a
// tqdm bar fills (both from the base image: ipywidgets 8 is one of its pip packages), a reloaded page draws the widgets from the saved state and they are live again.
import { expect, test, type FrameLocator, type Locator, type Page } from "@playwright/test";
import { cells, newNotebook, runInLastCell } from "./helpers";

const frameIn = (cell: Locator): FrameLocator => cell.frameLocator('[data-testid="output-frame-iframe"]');

/** Drags the slider's handle `dx` pixels with the mouse, as a user would. */
async function drag(page: Page, frame: FrameLocator, dx: number): Promise<void> {
  const handle = frame.locator(".widget-slider .noUi-handle");
  await handle.scrollIntoViewIfNeeded();
  const box = (await handle.boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width / 2 + dx, box.y + box.height / 2, { steps: 8 });
  await page.mouse.up();
}

const INTERACT = "from ipywidgets import interact\ninteract(lambda x: print(x * 2), x=(0, 10))";
const TQDM = "from tqdm.notebook import tqdm\nimport time\n_ = [time.sleep(0.01) for _ in tqdm(range(100))]";
const PLOTLY = `from IPython.display import display
display({"application/vnd.plotly.v1+json": {"data": [{"type": "bar", "x": ["a", "b", "c"], "y": [3, 1, 2]}], "layout": {"title": {"text": "bars"}}}, "text/plain": "fig"}, raw=True)`;

test("interact's slider and a tqdm bar render live in an opaque-origin frame, and come back from saved state on reload", async ({
  page,
}) => {
  test.setTimeout(600_000);
  await newNotebook(page, `widgets ${Date.now()}`);
  const interact = await runInLastCell(page, INTERACT);
  const slider = frameIn(interact);
  await expect(slider.locator(".widget-slider .noUi-handle")).toBeVisible({ timeout: 30_000 });
  await expect(slider.locator(".widget-readout")).toHaveText("5");
  const printed = slider.locator(".jupyter-widgets-output-area");
  await expect(printed).toHaveText("10");
  // The Output widget took interact's print: the cell itself does not show it (only interact's
  // return value, `<function <lambda>>`, as in JupyterLab).
  await expect(interact.getByTestId("output-text").filter({ hasText: /^\s*10\s*$/ })).toHaveCount(0);
  expect(await interact.getByTestId("output-frame").getAttribute("data-mime")).toBe("application/vnd.jupyter.widget-view+json");
  const frame = await (await interact.getByTestId("output-frame-iframe").elementHandle())!.contentFrame();
  expect(await frame!.evaluate(() => origin)).toBe("null");
  // The page has no widget DOM of its own: the widget lives only in the frame.
  expect(await page.locator(".widget-slider").count()).toBe(0);

  await drag(page, slider, 120);
  await expect(slider.locator(".widget-readout")).not.toHaveText("5");
  const moved = Number(await slider.locator(".widget-readout").textContent());
  expect(moved).toBeGreaterThan(5);
  await expect(printed).toHaveText(String(moved * 2), { timeout: 20_000 });
  await page.screenshot({ path: "/tmp/widgets-slider.png" });

  const bar = await runInLastCell(page, TQDM);
  const tqdm = frameIn(bar);
  await expect(tqdm.locator(".widget-hprogress")).toBeVisible({ timeout: 30_000 });
  await expect(tqdm.locator(".widget-hbox")).toContainText("100/100", { timeout: 30_000 });
  await expect(tqdm.locator(".widget-hbox")).toContainText("100%");
  await page.screenshot({ path: "/tmp/widgets-tqdm.png" });

  const chart = await runInLastCell(page, PLOTLY);
  await expect(frameIn(chart).locator(".bars path")).toHaveCount(3, { timeout: 30_000 });
  await chart.scrollIntoViewIfNeeded();
  await page.screenshot({ path: "/tmp/widgets-plotly.png" });

  // The gateway saves the state a second after a change at most; a reload draws it from there.
  await page.waitForTimeout(2_500);
  await page.reload();
  const again = cells(page).nth(0);
  const reloaded = frameIn(again);
  await expect(reloaded.locator(".widget-readout")).toHaveText(String(moved), { timeout: 60_000 });
  await expect(reloaded.locator(".jupyter-widgets-output-area")).toHaveText(String(moved * 2));
  await expect(frameIn(cells(page).nth(1)).locator(".widget-hbox")).toContainText("100/100", { timeout: 30_000 });
  await page.screenshot({ path: "/tmp/widgets-reloaded.png" });

  // The kernel still runs: the reloaded slider is live again.
  await expect(page.getByTestId("kernel-status")).toHaveAttribute("data-status", "idle", { timeout: 60_000 });
  await drag(page, reloaded, -120);
  await expect(reloaded.locator(".widget-readout")).not.toHaveText(String(moved), { timeout: 20_000 });
  const back = Number(await reloaded.locator(".widget-readout").textContent());
  await expect(reloaded.locator(".jupyter-widgets-output-area")).toHaveText(String(back * 2), { timeout: 20_000 });
});
