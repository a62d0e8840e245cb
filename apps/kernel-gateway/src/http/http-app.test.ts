import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, TEST_TOKEN as token, type TestApp } from "./test-app";

let gateway: TestApp;
let base: string;

beforeAll(async () => {
  gateway = await startTestApp({ webFiles: { "index.html": "<h1>web app</h1>", "notebook.html": "<h1>notebook page</h1>" } });
  base = gateway.base;
});
afterAll(() => gateway.close());

const api = (p: string, init: RequestInit = {}) =>
  fetch(base + p, { ...init, headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...init.headers } });

describe("gateway HTTP", () => {
  it("refuses pages and API without the token (a page goes to the login page)", async () => {
    const page = await fetch(base + "/", { redirect: "manual" });
    expect(page.status).toBe(302);
    expect(page.headers.get("location")).toBe("/login/?next=%2F");
    expect((await fetch(base + "/api/notebooks")).status).toBe(401);
    expect((await fetch(base + "/api/notebooks", { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
  });

  it("turns the URL token into a cookie and drops it from the address", async () => {
    const res = await fetch(base + "/?token=" + token, { redirect: "manual" });
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("/");
    const cookie = res.headers.get("set-cookie")!;
    expect(cookie).toMatch(/HttpOnly/i);
    const page = await fetch(base + "/", { headers: { cookie: cookie.split(";")[0] } });
    expect(await page.text()).toContain("web app");
  });

  it("sends the security headers on pages and API answers: a content security policy, no framing, no sniffing", async () => {
    const res = await fetch(base + "/?token=" + token, { redirect: "manual" });
    const page = await fetch(base + "/", { headers: { cookie: res.headers.get("set-cookie")!.split(";")[0] } });
    const api = await fetch(base + "/api/notebooks", { headers: { authorization: `Bearer ${token}` } });
    for (const answer of [page, api]) {
      const csp = answer.headers.get("content-security-policy") ?? "";
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("object-src 'none'");
      expect(csp).not.toContain("upgrade-insecure-requests");
      expect(answer.headers.get("x-content-type-options")).toBe("nosniff");
      expect(answer.headers.get("referrer-policy")).toBe("no-referrer");
    }
  });

  it("creates, saves and reads back a notebook", async () => {
    const nb = await (await api("/api/notebooks", { method: "POST", body: JSON.stringify({ title: "T" }) })).json();
    const cells = [
      { id: "c1", cell_type: "code", source: "1+1" },
      { id: "c2", cell_type: "markdown", source: "# hi" },
    ];
    const put = await api(`/api/notebooks/${nb.id}`, { method: "PUT", body: JSON.stringify({ title: "Renamed", cells }) });
    expect(put.status).toBe(200);
    const back = await (await api(`/api/notebooks/${nb.id}`)).json();
    expect(back.title).toBe("Renamed");
    expect(back.cells.map((c: any) => [c.id, c.cell_type, c.source])).toEqual([
      ["c1", "code", "1+1"],
      ["c2", "markdown", "# hi"],
    ]);
    const list = await (await api("/api/notebooks")).json();
    expect(list.map((n: any) => n.title)).toContain("Renamed");
  });

  it("rejects malformed input with a clear error and changes nothing", async () => {
    const nb = await (await api("/api/notebooks", { method: "POST", body: "{}" })).json();
    const notJson = await api(`/api/notebooks/${nb.id}`, { method: "PUT", body: "{oops" });
    expect(notJson.status).toBe(400);
    expect((await notJson.json()).error).toMatch(/not valid JSON/);
    const badType = await api(`/api/notebooks/${nb.id}`, {
      method: "PUT",
      body: JSON.stringify({ cells: [{ id: "x", cell_type: "python", source: "" }] }),
    });
    expect(badType.status).toBe(400);
    const dup = await api(`/api/notebooks/${nb.id}`, {
      method: "PUT",
      body: JSON.stringify({
        cells: [
          { id: "x", cell_type: "code", source: "" },
          { id: "x", cell_type: "code", source: "" },
        ],
      }),
    });
    expect(dup.status).toBe(400);
    const back = await (await api(`/api/notebooks/${nb.id}`)).json();
    expect(back.cells).toHaveLength(1);
    expect((await api("/api/notebooks/does-not-exist")).status).toBe(404);
    expect((await api("/api/notebooks/bad%20id")).status).toBe(400);
  });

  it("deletes a notebook", async () => {
    const nb = await (await api("/api/notebooks", { method: "POST", body: "{}" })).json();
    expect((await api(`/api/notebooks/${nb.id}`, { method: "DELETE" })).status).toBe(204);
    expect((await api(`/api/notebooks/${nb.id}`)).status).toBe(404);
  });

  it("serves the health check without the token, and the web app's pages without their .html", async () => {
    const health = await fetch(base + "/api/health");
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ ok: true });
    const page = await fetch(base + "/notebook", { headers: { authorization: `Bearer ${token}` } });
    expect(await page.text()).toContain("notebook page");
    expect(page.headers.get("etag")).toBeTruthy();
    const unknown = await api("/api/nothing-here");
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ error: "Not found" });
  });

  it("answers the content store to workers only, with the worker secret", async () => {
    const hash = "0".repeat(64);
    expect((await fetch(`${base}/cas/blobs/${hash}`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
    expect((await fetch(`${base}/cas/blobs/${hash}`, { headers: { authorization: "Bearer worker-secret" } })).status).toBe(404);
  });

  it("serves an OpenAPI document listing every route", async () => {
    expect((await fetch(base + "/api/openapi.json")).status).toBe(401);
    const doc = await (await api("/api/openapi.json")).json();
    expect(doc.openapi).toMatch(/^3\./);
    const routes = Object.entries(doc.paths as Record<string, object>).flatMap(([p, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`),
    );
    expect(routes).toEqual(
      expect.arrayContaining([
        "GET /api/notebooks",
        "POST /api/notebooks",
        "PUT /api/notebooks/{id}",
        "POST /api/notebooks/import",
        "GET /api/notebooks/{id}/files/content",
        "PUT /api/notebooks/{id}/files/content",
        "POST /api/notebooks/{id}/kernel/suspend",
      ]),
    );
    expect(routes).not.toContain("GET /api/openapi.json");
    // The URLs' 405 answers for their other methods are not API routes.
    expect(routes).not.toContain("GET /api/notebooks/import");
    expect((await api("/api/notebooks/import")).status).toBe(405);
    expect(doc.paths["/api/notebooks/{id}"].put.requestBody.content["application/json"].schema.properties.cells).toBeTruthy();
  });
});

describe("gateway HTTP without its database", () => {
  it("answers 503 with the reason while the database cannot be reached, and 200 again once it can", async () => {
    const { createNotebookStore, createPrismaClient } = await import("@cellar/db");
    const unreachable = await createPrismaClient("postgresql://postgres@127.0.0.1:1/cellar", "postgresql");
    let store = createNotebookStore(unreachable);
    const app = await startTestApp({
      deps: (db) => ({
        store: new Proxy({} as typeof db.notebooks, { get: (_t, key) => (store as any)[key] }),
      }),
    });
    try {
      const down = await fetch(`${app.base}/api/notebooks`, { headers: { authorization: `Bearer ${token}` } });
      expect(down.status).toBe(503);
      expect((await down.json()).error).toMatch(/database is unavailable.*Can't reach database server/);
      store = app.db.notebooks; // the database is back
      const up = await fetch(`${app.base}/api/notebooks`, { headers: { authorization: `Bearer ${token}` } });
      expect(up.status).toBe(200);
    } finally {
      await unreachable.$disconnect();
      await app.close();
    }
  });
});
