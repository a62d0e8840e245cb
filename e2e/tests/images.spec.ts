// Images through the real stack: a notebook chooses the image its kernel runs on (built from
// images/*.json), and workers can drop their whole image cache and carry on.
import { expect, test } from "@playwright/test";
import { cells, newNotebook, runInCell, waitIdle } from "./helpers";

test("a notebook chooses its image: networkx is there only on the networkx image, and the choice is saved", async ({ page }) => {
  await newNotebook(page, "Image choice");
  const cell = cells(page).first();
  await runInCell(cell, "import networkx");
  await expect(cell.getByTestId("output-error")).toContainText("ModuleNotFoundError");

  const picker = page.getByTestId("image-picker");
  // Other images (saved or uploaded by other tests into the shared cache) may follow.
  await expect(picker.locator("option")).toContainText(["base", "networkx"]);
  await picker.selectOption("networkx");
  // the kernel restarts on the new image (a first boot from its lazy mount takes seconds)
  await expect(page.getByTestId("kernel-status")).not.toHaveAttribute("data-status", "idle");
  await waitIdle(page);
  await runInCell(cell, "import networkx, os; print('networkx', networkx.__version__)");
  await expect(cell.getByTestId("cell-output")).toContainText(/networkx \d+\.\d+/);

  await page.reload();
  await expect(page.getByTestId("image-picker")).toHaveValue("networkx");
  await waitIdle(page);
  await runInCell(cells(page).first(), "import networkx; print(networkx.__name__)");
  await expect(cells(page).first().getByTestId("cell-output")).toContainText("networkx");
});

test("workers drop their image cache; a running kernel and a restarted one keep working", async ({ page }) => {
  await newNotebook(page, "Cache drop");
  const cell = cells(page).first();
  // Reads numpy's 9 MB of libraries through the mount, so the cache holds them whatever ran on
  // this worker before (a kernel restored from a warm snapshot reads next to nothing).
  await runInCell(
    cell,
    "import numpy, glob; n = sum(len(open(p, 'rb').read()) for p in glob.glob(numpy.__path__[0] + '/**/*.so', recursive=True)); print(numpy.arange(4).sum(), n > 2e6)",
  );
  await expect(cell.getByTestId("cell-output")).toHaveText(/^\s*6 True\s*$/);

  const res = await page.request.post("/api/workers/drop-cache");
  expect(res.status()).toBe(200);
  const workers = (await res.json()) as Array<{ ok: boolean; droppedBytes?: number }>;
  expect(workers.length).toBe(1);
  expect(workers[0]!.ok).toBe(true);
  expect(workers[0]!.droppedBytes).toBeGreaterThan(1e6);

  // the live kernel reads files it never read before: fetched again through the mount
  await runInCell(cell, "import email.mime.text, json; print(json.dumps({'ok': True}))");
  await expect(cell.getByTestId("cell-output")).toContainText('{"ok": true}');

  await page.getByTestId("restart-kernel").click();
  await waitIdle(page);
  await runInCell(cell, "import pandas; print(pandas.Series([1, 2]).sum())");
  await expect(cell.getByTestId("cell-output")).toHaveText(/^\s*3\s*$/);
});
