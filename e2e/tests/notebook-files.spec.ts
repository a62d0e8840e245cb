// Issue 5, items 6 and 7: notebooks as .ipynb files (import, export, the list page) and the
// `cellar` command line, against the real stack (gateway, worker, gVisor, IPython, SQLite).
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test, expect, type APIRequestContext, type Page } from "@playwright/test";
import { normalizeIpynb, validateIpynb, type IpynbCodeCell, type IpynbNotebook } from "@cellar/notebook-format";
import { cells, login, runInCell, token, waitIdle } from "./helpers";

const FIXTURES = path.resolve(__dirname, "../fixtures");
const CELLAR_BIN = path.resolve(__dirname, "../../node_modules/.bin/cellar");
const REAL_WORLD = fs
  .readdirSync(FIXTURES)
  .filter((f) => f.endsWith(".ipynb") && !f.startsWith("cellar-"))
  .sort();
const fixture = (name: string) => fs.readFileSync(path.join(FIXTURES, name), "utf8");
const auth = () => ({ authorization: `Bearer ${token()}` });
const unique = () => Math.random().toString(36).slice(2, 8);

async function importViaApi(request: APIRequestContext, text: string, title: string): Promise<{ id: string; url: string }> {
  const res = await request.post(`/api/notebooks/import?title=${encodeURIComponent(title)}`, { headers: auth(), data: text });
  expect(res.status(), await res.text()).toBe(201);
  return res.json();
}

async function listTitles(request: APIRequestContext): Promise<string[]> {
  return (await (await request.get("/api/notebooks", { headers: auth() })).json()).map((n: { title: string }) => n.title);
}

const row = (page: Page, title: string) =>
  page.getByTestId("notebook-row").filter({ has: page.getByTestId("notebook-link").getByText(title, { exact: true }) });

function cellar(args: string[], baseURL: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      CELLAR_BIN,
      args,
      { env: { ...process.env, CELLAR_URL: baseURL, CELLAR_TOKEN: token() }, timeout: 170_000 },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === "number" ? error.code : -1) : 0, stdout, stderr });
      },
    );
  });
}

const text = (value: unknown) => (Array.isArray(value) ? value.join("") : String(value ?? ""));
const codeCells = (nb: IpynbNotebook) => nb.cells.filter((c): c is IpynbCodeCell => c.cell_type === "code");

test("every real-world fixture survives import → export through the gateway and database, byte for byte", async ({ request }) => {
  for (const name of REAL_WORLD) {
    const original = fixture(name);
    const { id } = await importViaApi(request, original, name);
    const res = await request.get(`/api/notebooks/${id}/export`, { headers: auth() });
    expect(res.status()).toBe(200);
    expect(res.headers()["content-disposition"]).toBe(`attachment; filename="${name}"`);
    const exported = await res.text();
    expect(normalizeIpynb(JSON.parse(exported))).toEqual(normalizeIpynb(JSON.parse(original)));
    expect(exported, `${name} changed on the way through Cellar`).toBe(original);
  }
});

test("import a notebook from the list page, see its cells and outputs, export it from the toolbar unchanged", async ({ page }) => {
  const name = "pandas-scores-visualization.ipynb";
  await login(page);
  await page.getByTestId("import-file").setInputFiles(path.join(FIXTURES, name));
  await page.waitForURL(/\/notebook\/?\?id=/);

  await expect(page.getByTestId("notebook-title")).toHaveValue("pandas-scores-visualization");
  await expect(cells(page)).toHaveCount(11);
  await expect(cells(page).first()).toContainText("Scores");
  await expect(cells(page).nth(2)).toContainText("import pandas as pd");
  await expect(cells(page).nth(4).getByTestId("execution-count")).toHaveText("[2]");
  await expect(cells(page).nth(4).getByTestId("output-html").locator("table")).toBeVisible();
  const images = page.getByTestId("output-image");
  await expect(images).toHaveCount(2);
  expect(await images.first().evaluate((el: HTMLImageElement) => el.naturalWidth)).toBeGreaterThan(100);

  const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("export-notebook").click()]);
  expect(download.suggestedFilename()).toBe(name);
  const exported = fs.readFileSync(await download.path(), "utf8");
  // Opening it in the editor (which saves what it shows) changed nothing in the file.
  expect(exported).toBe(fixture(name));
});

test("an invalid .ipynb is refused with the cell and field named, and nothing is created", async ({ page, request }) => {
  await login(page);
  const before = (await listTitles(request)).length;
  const bad = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {},
    cells: [
      { id: "a", cell_type: "markdown", metadata: {}, source: "# ok" },
      { id: "b", cell_type: "code", metadata: {}, outputs: [], execution_count: "one" },
    ],
  };
  await page
    .getByTestId("import-file")
    .setInputFiles({ name: "broken.ipynb", mimeType: "application/json", buffer: Buffer.from(JSON.stringify(bad)) });
  const error = page.getByTestId("import-error");
  await expect(error).toContainText("Could not import broken.ipynb");
  await expect(error).toContainText('cell 2 (code, id "b"): missing required field "source"');
  await expect(error).toContainText('cell 2 (code, id "b"): "execution_count" must be integer or null');
  await page
    .getByTestId("import-file")
    .setInputFiles({ name: "notes.ipynb", mimeType: "text/plain", buffer: Buffer.from("just some text") });
  await expect(error).toContainText("not JSON");
  expect(new URL(page.url()).pathname).toBe("/");
  expect((await listTitles(request)).length).toBe(before);
});

test("list page: search by title, rename, duplicate, delete after confirming, last run time", async ({ page, request }) => {
  const tag = unique();
  const small = fixture("cellar-parameters.ipynb");
  const alpha = await importViaApi(request, small, `Alpha report ${tag}`);
  await importViaApi(request, small, `Beta analysis ${tag}`);
  await login(page);

  const search = page.getByTestId("notebook-search");
  await search.fill(`alpha report ${tag}`.toUpperCase());
  await expect(page.getByTestId("notebook-row")).toHaveCount(1);
  await expect(page.getByTestId("notebook-link")).toHaveText(`Alpha report ${tag}`);
  await search.fill(`nothing-like-this-${tag}`);
  await expect(page.getByTestId("no-search-results")).toBeVisible();
  await search.fill(tag);
  await expect(page.getByTestId("notebook-row")).toHaveCount(2);

  // Rename: Enter saves, and the new title is what the gateway stores.
  await row(page, `Alpha report ${tag}`).getByTestId("rename-notebook").click();
  const input = page.getByTestId("rename-input");
  await input.fill(`Gamma summary ${tag}`);
  await input.press("Enter");
  await expect(row(page, `Gamma summary ${tag}`)).toHaveCount(1);
  // Escape cancels a rename.
  await row(page, `Gamma summary ${tag}`).getByTestId("rename-notebook").click();
  await page.getByTestId("rename-input").fill("never saved");
  await page.getByTestId("rename-input").press("Escape");
  await page.reload();
  await page.getByTestId("notebook-search").fill(tag);
  await expect(row(page, `Gamma summary ${tag}`)).toHaveCount(1);
  expect(await listTitles(request)).not.toContain("never saved");

  // Duplicate keeps the cells.
  await row(page, `Gamma summary ${tag}`).getByTestId("duplicate-notebook").click();
  const copyTitle = `Gamma summary ${tag} (copy)`;
  await expect(row(page, copyTitle)).toHaveCount(1);
  await row(page, copyTitle).getByTestId("notebook-link").click();
  await page.waitForURL(/\/notebook\/?\?id=/);
  await expect(cells(page)).toHaveCount(4);
  await expect(cells(page).nth(1)).toContainText('label = "default"');

  // Running a cell there shows up as its last run on the list.
  await waitIdle(page);
  await runInCell(cells(page).nth(3), "print('ran')");
  await expect(cells(page).nth(3).getByTestId("cell-output")).toContainText("ran");
  await page.goto("/");
  await page.getByTestId("notebook-search").fill(tag);
  await expect(row(page, copyTitle).getByTestId("notebook-last-run")).toHaveText(/just now|second|minute/);
  await expect(row(page, `Beta analysis ${tag}`).getByTestId("notebook-last-run")).toHaveText("never");

  // Delete asks first: Cancel keeps the notebook, Delete removes it.
  await row(page, copyTitle).getByTestId("delete-notebook").click();
  const dialog = page.getByTestId("confirm-dialog");
  await expect(dialog).toBeVisible();
  await expect(dialog).toContainText(copyTitle);
  await dialog.getByTestId("confirm-cancel").click();
  await expect(dialog).toHaveCount(0);
  await expect(row(page, copyTitle)).toHaveCount(1);
  await row(page, copyTitle).getByTestId("delete-notebook").click();
  await page.getByTestId("confirm-dialog").getByTestId("confirm-ok").click();
  await expect(row(page, copyTitle)).toHaveCount(0);
  await page.reload();
  expect(await listTitles(request)).not.toContain(copyTitle);
  expect(await listTitles(request)).toContain(`Gamma summary ${tag}`);
  const original = await request.get(`/api/notebooks/${alpha.id}`, { headers: auth() });
  expect(original.status()).toBe(200); // renamed, not deleted
});

test("cellar import prints the notebook's URL and cellar export writes it back unchanged", async ({ baseURL }) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cellar-cli-e2e-"));
  const name = "pandas-regiment-grouping.ipynb";
  const imported = await cellar(["import", path.join(FIXTURES, name)], baseURL!);
  expect(imported.code, imported.stderr).toBe(0);
  const url = imported.stdout.trim();
  expect(url).toMatch(new RegExp(`^${baseURL}/notebook/\\?id=[\\w-]+$`));
  const id = new URL(url).searchParams.get("id")!;
  const out = path.join(dir, "out.ipynb");
  const exported = await cellar(["export", id, "-o", out], baseURL!);
  expect(exported.code, exported.stderr).toBe(0);
  expect(fs.readFileSync(out, "utf8")).toBe(fixture(name));
});

test("cellar run injects -p parameters after the parameters cell and writes the computed outputs", async ({ baseURL, request }) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cellar-cli-e2e-"));
  const out = path.join(dir, "executed.ipynb");
  const before = await listTitles(request);
  const run = await cellar(
    ["run", path.join(FIXTURES, "cellar-parameters.ipynb"), "-o", out, "-p", "n", "5", "-p", "label", "from the CLI"],
    baseURL!,
  );
  expect(run.code, run.stderr).toBe(0);

  const nb = JSON.parse(fs.readFileSync(out, "utf8")) as IpynbNotebook;
  expect(validateIpynb(nb)).toMatchObject({ ok: true });
  expect(nb.cells.map((c) => c.id)).toEqual(["intro", "params", expect.any(String), "compute", "result"]);
  const injected = nb.cells[2] as IpynbCodeCell;
  expect(injected.metadata).toEqual({ tags: ["injected-parameters"] });
  expect(text(injected.source)).toBe('# Parameters\nn = 5\nlabel = "from the CLI"\n');
  const [params, , compute, result] = codeCells(nb);
  expect(params!.execution_count).toBe(1);
  expect(compute!.outputs).toEqual([{ output_type: "stream", name: "stdout", text: ["from the CLI: sum of squares below 5 = 30\n"] }]);
  expect(result!.outputs).toHaveLength(1);
  expect(result!.outputs[0]).toMatchObject({ output_type: "execute_result", execution_count: 4 });
  expect(text((result!.outputs[0] as { data: Record<string, unknown> }).data["text/plain"])).toBe("[0, 1, 4, 9, 16]");
  expect(nb.metadata).toEqual(JSON.parse(fixture("cellar-parameters.ipynb")).metadata);
  // The run's temporary notebook is gone from the list.
  expect(await listTitles(request)).toEqual(before);
});

test("cellar run exits non-zero with the failing cell's traceback, keeping the outputs so far", async ({ baseURL }) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cellar-cli-e2e-"));
  const out = path.join(dir, "failed.ipynb");
  const run = await cellar(["run", path.join(FIXTURES, "cellar-raises.ipynb"), "-o", out], baseURL!);
  expect(run.code).toBe(1);
  expect(run.stderr).toContain("Cell 2 raised ZeroDivisionError: division by zero");
  expect(run.stderr).toContain("ratio = 1 / 0");
  expect(run.stderr).toMatch(/ZeroDivisionError\s*(Traceback|:)/);
  expect(run.stderr).not.toContain("\u001b["); // not a terminal: no colour codes

  const nb = JSON.parse(fs.readFileSync(out, "utf8")) as IpynbNotebook;
  const [before, boom, after] = codeCells(nb);
  expect(text((before!.outputs[0] as { text: unknown }).text)).toBe("before the error\n");
  expect(boom!.outputs).toMatchObject([{ output_type: "error", ename: "ZeroDivisionError", evalue: "division by zero" }]);
  expect(after!.outputs).toEqual([]);
  expect(after!.execution_count).toBeNull();
});

test("cellar run --allow-errors runs on past a cell that raises, and a cell tagged raises-exception may always raise", async ({
  baseURL,
}) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cellar-cli-e2e-"));
  const allowed = path.join(dir, "allowed.ipynb");
  const run = await cellar(["run", path.join(FIXTURES, "cellar-raises.ipynb"), "-o", allowed, "--allow-errors"], baseURL!);
  expect(run.code, run.stderr).toBe(0);
  const [, boom, after] = codeCells(JSON.parse(fs.readFileSync(allowed, "utf8")) as IpynbNotebook);
  expect(boom!.outputs).toMatchObject([{ output_type: "error", ename: "ZeroDivisionError" }]);
  expect(text((after!.outputs[0] as { text: unknown }).text)).toBe("after the error\n");

  // The same notebook with its raising cell tagged, run without --allow-errors.
  const tagged = JSON.parse(fixture("cellar-raises.ipynb")) as IpynbNotebook;
  tagged.cells[1]!.metadata = { tags: ["raises-exception"] };
  const file = path.join(dir, "tagged.ipynb");
  fs.writeFileSync(file, JSON.stringify(tagged));
  const out = path.join(dir, "tagged-out.ipynb");
  const taggedRun = await cellar(["run", file, "-o", out], baseURL!);
  expect(taggedRun.code, taggedRun.stderr).toBe(0);
  const [, , afterTagged] = codeCells(JSON.parse(fs.readFileSync(out, "utf8")) as IpynbNotebook);
  expect(text((afterTagged!.outputs[0] as { text: unknown }).text)).toBe("after the error\n");
});
