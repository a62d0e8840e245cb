// Cells never overlap while outputs arrive: the virtual list re-measures a cell whenever its
// outputs change size (an HTML table, an image that loads late), through the real stack.
import { expect, test, type Page } from "@playwright/test";
import { cells, newNotebook, runInCell, waitIdle } from "./helpers";

/** Every overlap between consecutive cells that lasts two frames while `during` runs. A sample
 * can catch the DOM between a commit and the resize observers that reposition the cells before
 * that frame is painted, so one frame alone proves nothing; the bug this guards against (a cell
 * keeping its height from before its outputs) lasted until a reload. */
async function overlapsWhile(page: Page, during: () => Promise<void>): Promise<string[]> {
  await page.evaluate(() => {
    const seen: string[] = [];
    let last = new Set<string>();
    (window as unknown as { overlaps: string[] }).overlaps = seen;
    const check = () => {
      const boxes = Array.from(document.querySelectorAll('[data-testid="cell"]')).map((el) => el.getBoundingClientRect());
      const now = new Set<string>();
      for (let i = 1; i < boxes.length; i++) {
        const over = boxes[i - 1]!.bottom - boxes[i]!.top;
        if (over > 1) now.add(`cell ${i} overlaps cell ${i + 1} by ${Math.round(over)} px`);
      }
      for (const o of now) if (last.has(o)) seen.push(o);
      last = now;
      if ((window as unknown as { overlaps?: string[] }).overlaps === seen) requestAnimationFrame(check);
    };
    requestAnimationFrame(check);
  });
  await during();
  return page.evaluate(() => {
    const w = window as unknown as { overlaps?: string[] };
    const seen = w.overlaps ?? [];
    delete w.overlaps;
    return [...new Set(seen)];
  });
}

test("a DataFrame cell and the cell after it, run one after the other, never overlap", async ({ page }) => {
  await newNotebook(page, `layout ${Date.now()}`);
  const overlaps = await overlapsWhile(page, async () => {
    await runInCell(cells(page).first(), "import pandas as pd\ndf = pd.DataFrame({'a': range(30), 'b': [x * x for x in range(30)]})\ndf");
    await runInCell(cells(page).nth(1), "print('after the frame')");
    await expect(cells(page).first().locator("table")).toBeVisible({ timeout: 60_000 });
    await expect(cells(page).nth(1)).toContainText("after the frame", { timeout: 60_000 });
    await waitIdle(page);
    await page.waitForTimeout(500);
  });
  expect(overlaps).toEqual([]);
  const [a, b] = await Promise.all([cells(page).first().boundingBox(), cells(page).nth(1).boundingBox()]);
  expect(a!.y + a!.height).toBeLessThanOrEqual(b!.y + 1);
});
