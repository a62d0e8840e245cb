// The Images page through the real stack in Chromium: the images the gateway built from
// images/*.json, each with what it adds and which image's files it shares, and its build log;
// then a notebook's %pip packages saved under a name, which the picker and the page both offer.
import fs from "node:fs";
import { expect, test } from "@playwright/test";
import { cells, login, newNotebook, runInCell, waitIdle } from "./helpers";

test("the Images page lists base and networkx with their packages, what they share, and a build log", async ({ page }) => {
  await login(page);
  await page.getByTestId("images-link").click();
  await page.waitForURL(/\/images\/?$/);

  const base = page.locator('[data-testid="image-row"][data-image="base"]');
  await expect(base.getByTestId("image-kind")).toHaveText("root image");
  await expect(base.getByTestId("image-packages")).toHaveAttribute("data-package-kind", "debian");
  await expect(base.getByTestId("image-package")).toContainText(["python3", "python3-numpy", "python3-pandas"]);
  await expect(base.getByTestId("image-id")).toHaveText(/^[0-9a-f]{12}$/);
  await expect(base.getByTestId("image-shares")).toContainText("under networkx");

  const networkx = page.locator('[data-testid="image-row"][data-image="networkx"]');
  await expect(networkx).toHaveAttribute("data-parent", "base");
  await expect(networkx.getByTestId("image-kind")).toHaveText("layer");
  await expect(networkx.getByTestId("image-package")).toHaveText(["python3-networkx"]);
  await expect(networkx.getByTestId("image-shares")).toContainText("reads base's files");
  // A layer built before sizes were recorded shows none.
  await expect(networkx.getByTestId("image-size")).toHaveText(/^(\d+(\.\d)? (B|KiB|MiB|GiB)|—)$/);

  // The gateway checked (or built) every image when it started: that is the log on record.
  await networkx.getByTestId("image-log-toggle").click();
  const log = page.locator('[data-testid="image-log-row"][data-image="networkx"]').getByTestId("image-log");
  await expect(log).toHaveAttribute("data-status", "built");
  await networkx.getByTestId("image-log-toggle").click();
  await expect(page.locator('[data-testid="image-log-row"][data-image="networkx"]')).toHaveCount(0);
});

const INDEX = "/opt/pypi/simple";

test("a notebook's %pip packages saved as a named image: the same layer, in the picker and on the Images page", async ({ page }) => {
  test.skip(!fs.existsSync(INDEX), `skipped: no local wheel index at ${INDEX} (the sandboxes have no network)`);
  test.setTimeout(360_000);
  await newNotebook(page, `save image ${Date.now()}`);
  const install = cells(page).first();
  await runInCell(install, "%pip install tabulate");
  await expect(install).toContainText(/the kernel is on pip-[0-9a-f]{12}/, { timeout: 240_000 });
  await waitIdle(page);
  await expect(page.getByTestId("notebook-packages")).toContainText("tabulate");

  const name = `tables-${Date.now().toString(36)}`;
  await page.getByTestId("save-image").click();
  await page.getByTestId("save-image-name").fill(name);
  await page.getByTestId("save-image-submit").click();
  await expect(page.getByTestId("save-image-done")).toContainText(`saved as ${name}`, { timeout: 120_000 });
  await expect(page.getByTestId("image-picker").locator("option")).toContainText([name]);

  await page.goto("/images/");
  const saved = page.locator(`[data-testid="image-row"][data-image="${name}"]`);
  await expect(saved).toHaveAttribute("data-parent", "base");
  await expect(saved.getByTestId("image-package")).toContainText([/^tabulate==/]);
  // Built from the same wheels and lock as the notebook's own layer: the very same files (as are
  // any images an earlier run on this shared cache saved from that lock).
  await expect(saved.getByTestId("image-shares")).toContainText(/the very same files as (\S+, )*pip-[0-9a-f]{12}/);
  const own = page.locator('[data-testid="image-row"][data-kind="notebook"]').first();
  await expect(own.getByTestId("image-shares")).toContainText("made by %pip in a notebook");
  await saved.getByTestId("image-log-toggle").click();
  await expect(page.locator(`[data-testid="image-log-row"][data-image="${name}"]`)).toContainText(/nothing to install|built/);
});
