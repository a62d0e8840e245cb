import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { normalizeIpynb } from "@cellar/notebook-format";
import { startTestApp, TEST_TOKEN as token, type TestApp } from "./test-app";

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../../e2e/fixtures");
let gateway: TestApp;
let base: string;
const deleted: string[] = [];

beforeAll(async () => {
  gateway = await startTestApp({ deps: () => ({ onNotebookDeleted: (id) => deleted.push(id) }) });
  base = gateway.base;
});
afterAll(() => gateway.close());

const api = (p: string, init: RequestInit = {}) =>
  fetch(base + p, { ...init, headers: { authorization: `Bearer ${token}`, ...init.headers } });

describe("notebook files API", () => {
  it("imports an .ipynb, names it after the file, and exports it unchanged", async () => {
    const text = fs.readFileSync(path.join(fixtures, "pandas-scores-visualization.ipynb"), "utf8");
    const res = await api("/api/notebooks/import?title=" + encodeURIComponent("Scores.ipynb"), { method: "POST", body: text });
    expect(res.status).toBe(201);
    const nb = await res.json();
    expect(nb).toMatchObject({ title: "Scores", url: `/notebook/?id=${nb.id}`, nbformatMinor: 0 });
    const out = await api(`/api/notebooks/${nb.id}/export`);
    expect(out.status).toBe(200);
    expect(out.headers.get("content-disposition")).toBe('attachment; filename="Scores.ipynb"');
    expect(normalizeIpynb(await out.json())).toEqual(normalizeIpynb(JSON.parse(text)));
  });

  it("exports a notebook as a self-contained HTML attachment named after its title", async () => {
    const ipynb = {
      nbformat: 4,
      nbformat_minor: 5,
      metadata: {},
      cells: [
        { id: "m", cell_type: "markdown", metadata: {}, source: "# Weekly *numbers*" },
        {
          id: "c",
          cell_type: "code",
          metadata: {},
          execution_count: 3,
          source: "print(total)",
          outputs: [
            { output_type: "stream", name: "stdout", text: "\u001b[32mtotal 42\u001b[0m\n" },
            { output_type: "display_data", metadata: {}, data: { "text/html": "<i>fine</i><script>alert(1)</script>" } },
          ],
        },
      ],
    };
    const nb = await (await api("/api/notebooks/import?title=Weekly%2Freport", { method: "POST", body: JSON.stringify(ipynb) })).json();
    const res = await api(`/api/notebooks/${nb.id}/export.html`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("content-disposition")).toBe('attachment; filename="Weekly_report.html"');
    expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
    const html = await res.text();
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain("<em>numbers</em>");
    expect(html).toContain('<span class="ansi-green-fg">total 42</span>');
    expect(html).toContain("<i>fine</i>");
    expect(html).not.toContain("<script");
    expect((await api("/api/notebooks/no-such-notebook/export.html")).status).toBe(404);
  });

  it("refuses an invalid notebook with every problem named, and stores nothing", async () => {
    const before = (await (await api("/api/notebooks")).json()).length;
    const bad = { nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [{ id: "a", cell_type: "code", metadata: {}, outputs: [] }] };
    const res = await api("/api/notebooks/import", { method: "POST", body: JSON.stringify(bad) });
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.problems).toEqual([
      'cell 1 (code, id "a"): missing required field "source"',
      'cell 1 (code, id "a"): missing required field "execution_count"',
    ]);
    expect(body.error).toMatch(/^Not a valid Jupyter notebook/);
    const notJson = await api("/api/notebooks/import", { method: "POST", body: "<html>" });
    expect((await notJson.json()).error).toMatch(/not JSON/);
    expect((await (await api("/api/notebooks")).json()).length).toBe(before);
  });

  it("duplicates a notebook with its outputs, under a new id", async () => {
    const text = fs.readFileSync(path.join(fixtures, "cellar-parameters.ipynb"), "utf8");
    const nb = await (await api("/api/notebooks/import?title=params", { method: "POST", body: text })).json();
    const res = await api(`/api/notebooks/${nb.id}/duplicate`, { method: "POST" });
    expect(res.status).toBe(201);
    const copy = await res.json();
    expect(copy.id).not.toBe(nb.id);
    expect(copy.title).toBe("params (copy)");
    expect(copy.cells).toEqual(nb.cells);
    expect(copy.metadata).toEqual(nb.metadata);
  });

  it("names an exported file safely and answers unknown notebooks with 404", async () => {
    const nb = await (await api("/api/notebooks", { method: "POST", body: JSON.stringify({ title: "a/b: 数据" }) })).json();
    const out = await api(`/api/notebooks/${nb.id}/export`);
    expect(out.headers.get("content-disposition")).toContain("filename*=UTF-8''a_b%3A%20%E6%95%B0%E6%8D%AE.ipynb");
    const exported = await out.json();
    expect(exported).toMatchObject({ nbformat: 4, nbformat_minor: 5, cells: [{ id: nb.cells[0].id, cell_type: "code", source: [] }] });
    expect((await api("/api/notebooks/nope/export")).status).toBe(404);
    expect((await api(`/api/notebooks/${nb.id}/export`, { method: "POST" })).status).toBe(405);
  });

  it("tells the gateway when a notebook is deleted, so its kernel can stop", async () => {
    const nb = await (await api("/api/notebooks", { method: "POST", body: "{}" })).json();
    expect((await api(`/api/notebooks/${nb.id}`, { method: "DELETE" })).status).toBe(204);
    expect(deleted).toContain(nb.id);
  });
});
