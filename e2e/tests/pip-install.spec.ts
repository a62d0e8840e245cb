// `%pip install` in a cell through the real stack in Chromium: the gateway builds a pip layer on
// the host from this machine's local wheel index (CELLAR_PIP_INDEX_URL, set in
// playwright.config.ts), moves the kernel onto it with its variables, and records the package in
// the notebook, so a reload and a new session still have it and a second notebook gets the layer
// from the cache.
import fs from "node:fs";
import { expect, test } from "@playwright/test";
import { cells, newNotebook, runInCell, waitIdle } from "./helpers";

const INDEX = "/opt/pypi/simple";

test.skip(!fs.existsSync(INDEX), `skipped: no local wheel index at ${INDEX} (the sandboxes have no network)`);

test("%pip install in a cell: the next cell imports it with earlier variables, a reload and a new session keep it, a second notebook hits the cache", async ({
  page,
}) => {
  test.setTimeout(420_000);
  await newNotebook(page, `pip ${Date.now()}`);
  await runInCell(cells(page).first(), "x = 41\nprint('set', x)");
  await expect(cells(page).first()).toContainText("set 41");
  await waitIdle(page);

  const install = cells(page).nth(1);
  await runInCell(install, "%pip install tabulate");
  // Progress is shown in the cell while the layer builds (unless an earlier suite on this machine
  // built it already: the cache is the machine's) and while the kernel moves.
  await expect(install).toContainText(/resolving tabulate against file:\/\/\/opt\/pypi\/simple|moving the kernel onto pip-/, {
    timeout: 120_000,
  });
  await expect(install).toContainText(/the kernel is on pip-[0-9a-f]{12}: \d+ names? .*moved in/, { timeout: 180_000 });
  await expect(install.getByTestId("output-error")).toHaveCount(0);
  await waitIdle(page);
  await expect(page.getByTestId("notebook-packages")).toContainText("tabulate");
  // The picker still names the image the notebook chose, not the layer made of its packages.
  await expect(page.getByTestId("image-picker")).toHaveValue("base");

  const use = cells(page).nth(2);
  await runInCell(use, "import tabulate\nprint(tabulate.tabulate([[x + 1]]))");
  await expect(use).toContainText("42", { timeout: 60_000 });
  await expect(use.getByTestId("output-error")).toHaveCount(0);
  await waitIdle(page);

  // A reload reconnects to the same kernel: still there, variables and all.
  await page.reload();
  await expect(page.getByTestId("notebook-packages")).toContainText("tabulate");
  await waitIdle(page);
  const again = cells(page).nth(3);
  await runInCell(again, "import tabulate\nprint('after reload', tabulate.__name__, x)");
  await expect(again).toContainText("after reload tabulate 41", { timeout: 60_000 });
  await waitIdle(page);

  // A new session (restart) starts on the notebook's packages without a %pip line.
  await page.getByTestId("restart-kernel").click();
  await waitIdle(page);
  const fresh = cells(page).nth(4);
  await runInCell(fresh, "import tabulate\nprint('new session', tabulate.__name__, 'x' in dir())");
  await expect(fresh).toContainText("new session tabulate False", { timeout: 120_000 });

  // Another notebook asking for the same package: the layer is built already, nothing resolves.
  await newNotebook(page, `pip again ${Date.now()}`);
  const second = cells(page).first();
  await runInCell(second, "%pip install tabulate\nimport tabulate\nprint('cached', tabulate.__name__)");
  await expect(second).toContainText("cached tabulate", { timeout: 120_000 });
  await expect(second).toContainText(/the kernel is on pip-[0-9a-f]{12}/);
  await expect(second).not.toContainText("resolving");
});
