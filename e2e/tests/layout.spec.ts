// Cells never overlap while outputs arrive: the virtual list re-measures a cell whenever its
// outputs change size (an HTML table, an image that loads late), through the real stack.
import { expect, test } from "@playwright/test";
import { cells, newNotebook, overlapsWhile, runInCell, waitIdle } from "./helpers";

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
