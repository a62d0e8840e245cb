// Issue 14 in Chromium, through the real stack: a schedule made in the Schedule dialog from a
// preset (its next fire times shown in two zones, a bad zone refused beside its field), "Run now"
// watched in the Runs panel until it succeeds, the run page (its .ipynb and HTML downloads) and its
// executed copy, and, after a cell is broken, the failure notice in the header's bell leading to
// the failing run.
import fs from "node:fs";
import path from "node:path";
import { expect, test, type APIRequestContext } from "@playwright/test";
import { login, token } from "./helpers";

const FIXTURES = path.resolve(__dirname, "../fixtures");
const auth = () => ({ authorization: `Bearer ${token()}` });

async function importNotebook(request: APIRequestContext, title: string): Promise<string> {
  const text = fs.readFileSync(path.join(FIXTURES, "cellar-parameters.ipynb"), "utf8");
  const res = await request.post(`/api/notebooks/import?title=${encodeURIComponent(title)}`, { headers: auth(), data: text });
  expect(res.status(), await res.text()).toBe(201);
  return (await res.json()).id;
}

test("a schedule made from a preset in the dialog runs now, live in the Runs panel, and a failure reaches the bell", async ({
  page,
  request,
}) => {
  test.setTimeout(300_000);
  const notebookId = await importNotebook(request, `UI scheduled ${Date.now()}`);
  await login(page);
  await page.goto(`/notebook/?id=${notebookId}`);

  await page.getByTestId("schedule-open").click();
  const dialog = page.getByTestId("schedule-dialog");
  await dialog.getByTestId("schedule-name").fill("Morning");
  await dialog.getByTestId("schedule-when").selectOption("weekdays");
  await dialog.getByTestId("schedule-time").fill("09:00");
  await expect(dialog.getByTestId("schedule-cron-text")).toHaveText("0 9 * * 1-5");
  await dialog.getByTestId("schedule-timezone").fill("Mars/Olympus");
  await expect(dialog.getByTestId("schedule-next-problem")).toHaveText("Unknown time zone 'Mars/Olympus'");
  await dialog.getByTestId("schedule-save").click();
  await expect(dialog.getByTestId("schedule-error-timezone")).toContainText("Mars/Olympus");

  await dialog.getByTestId("schedule-timezone").fill("Asia/Tokyo");
  const times = dialog.getByTestId("schedule-next-time");
  await expect(times).toHaveCount(5);
  for (const zone of await dialog.getByTestId("schedule-next-zone").allTextContents()) expect(zone).toContain("09:00");
  await dialog.getByTestId("schedule-param-add").click();
  await dialog.getByTestId("schedule-param-name").fill("label");
  await dialog.getByTestId("schedule-param-value").fill("from-ui");
  await dialog.getByTestId("schedule-save").click();
  await expect(dialog.getByTestId("schedule-row")).toHaveCount(1);
  await expect(dialog.getByTestId("schedule-next-times")).toHaveAttribute("data-source", "server");
  await expect(dialog.getByTestId("schedule-error-timezone")).toHaveCount(0);

  await dialog.getByTestId("schedule-run-now").click();
  await expect(dialog.getByTestId("schedule-run-started")).toBeVisible();
  await dialog.getByRole("button", { name: "Close" }).click();

  await page.getByTestId("runs-open").click();
  const row = page.getByTestId("runs-row").first();
  await expect(row).toHaveAttribute("data-status", "succeeded", { timeout: 120_000 });
  await expect(row.getByTestId("runs-trigger")).toHaveText("Run now");

  await row.getByTestId("runs-link").click();
  await page.waitForURL(/\/run\/\?id=/);
  await expect(page.getByTestId("run-status")).toHaveText("Succeeded");
  await expect(page.getByTestId("run-parameters")).toContainText('label = "from-ui"');
  const download = page.waitForEvent("download");
  await page.getByTestId("run-download-ipynb").click();
  const file = await (await download).path();
  expect(fs.readFileSync(file, "utf8")).toContain("from-ui: sum of squares below 3 = 5");
  const htmlDownload = page.waitForEvent("download");
  await page.getByTestId("run-download-html").click();
  const htmlFile = await htmlDownload;
  expect(htmlFile.suggestedFilename()).toMatch(/\.html$/);
  const html = fs.readFileSync(await htmlFile.path(), "utf8");
  expect(html).toContain("from-ui: sum of squares below 3 = 5");
  expect(html).not.toContain("<script");
  await page.getByTestId("run-open-executed").click();
  await expect(page.getByTestId("notebook-access")).toHaveText(/View only/);
  await expect(page.getByText("from-ui: sum of squares below 3 = 5")).toBeVisible();
  // An executed copy has no runs of its own: no Runs toggle, but the way back to the notebook.
  await expect(page.getByTestId("run-copy-source")).toHaveAttribute("href", `/notebook/?id=${notebookId}`);
  await expect(page.getByTestId("runs-open")).toHaveCount(0);

  // Break a cell; the next run fails there and the bell says so.
  const saved = await (await request.get(`/api/notebooks/${notebookId}`, { headers: auth() })).json();
  const cells = saved.cells.map((c: { id: string; source: string }) => (c.id === "compute" ? { ...c, source: "1 / 0" } : c));
  expect((await request.put(`/api/notebooks/${notebookId}`, { headers: auth(), data: { cells } })).status()).toBe(200);
  await page.goto(`/notebook/?id=${notebookId}`);
  await page.getByTestId("schedule-open").click();
  await page.getByTestId("schedule-run-now").click();
  await expect(page.getByTestId("schedule-run-started")).toBeVisible();
  await page.getByTestId("schedule-dialog").getByRole("button", { name: "Close" }).click();
  await page.getByTestId("runs-open").click();
  await expect(page.getByTestId("runs-row").first()).toHaveAttribute("data-status", "failed", { timeout: 120_000 });

  // The bell reads every 30 s; a reload reads it at once.
  await page.reload();
  await expect(page.getByTestId("notice-count")).toBeVisible({ timeout: 45_000 });
  await page.getByTestId("notice-bell").click();
  const notice = page.getByTestId("notice-item").filter({ hasText: "ZeroDivisionError" }).first();
  await notice.getByTestId("notice-run-link").click();
  await page.waitForURL(/\/run\/\?id=/);
  await expect(page.getByTestId("run-status")).toHaveText("Failed");
  await expect(page.getByTestId("run-traceback")).toContainText("ZeroDivisionError");
});
