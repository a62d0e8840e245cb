// The workspace files endpoints: what reaches the worker, and how its answers (and its absence)
// come back as HTTP. The worker's side is apps/worker/src/files (tested on real directories);
// e2e/tests/files.spec.ts runs both through real sockets.
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startTestApp, TEST_TOKEN as token, type TestApp } from "./test-app";
import type { FilesWorker } from "./workspace-files-api";

let gateway: TestApp;
let base: string;
let notebookId: string;

/** A worker double: records what it was asked and answers with `reply`. */
let asked: Array<{ event: string; payload: any }> = [];
let reply: (event: string, payload: any) => unknown = () => ({ ok: true });
let connected = true;
const worker: FilesWorker = {
  ask: async (event, payload, timeoutMs) => {
    asked.push({ event, payload });
    const r = reply(event, payload);
    if (r === "silent") {
      await new Promise((resolve) => setTimeout(resolve, timeoutMs));
      throw new Error("operation has timed out");
    }
    return r as any;
  },
};

beforeAll(async () => {
  gateway = await startTestApp({
    deps: (db) => ({
      workspaceFiles: {
        notebookExists: async (id) => (await db.notebooks.get(id)) !== null,
        workerFor: () => (connected ? worker : undefined),
        timeoutMs: 200,
        maxFileBytes: 1024,
      },
    }),
  });
  base = gateway.base;
  const { db } = gateway;
  notebookId = (await db.notebooks.create(db.localUserId, "files")).id;
});
afterAll(() => gateway.close());
beforeEach(() => {
  asked = [];
  reply = () => ({ ok: true });
  connected = true;
});

const api = (p: string, init: RequestInit = {}) =>
  fetch(base + p, { ...init, headers: { authorization: `Bearer ${token}`, ...init.headers } });
const files = (rest = "", query = "") => `/api/notebooks/${notebookId}/files${rest}${query}`;
const entry = (p: string, kind = "file", size = 0) => ({ name: path.posix.basename(p), path: p, kind, size, modifiedMs: 1 });

describe("workspace files API", () => {
  it("lists a folder through the notebook's worker", async () => {
    reply = () => ({ ok: true, entries: [entry("sub/a.csv", "file", 3)] });
    const res = await api(files("", "?path=./sub/"));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ path: "sub", entries: [entry("sub/a.csv", "file", 3)] });
    expect(asked).toEqual([{ event: "files:list", payload: { notebookId, path: "sub" } }]);
    await api(files());
    expect(asked[1]).toEqual({ event: "files:list", payload: { notebookId, path: "" } });
  });

  it("uploads the exact bytes, create-only when asked", async () => {
    reply = (_e, p) => ({ ok: true, entry: entry(p.path, "file", p.content.length) });
    const bytes = new Uint8Array([0, 1, 2, 250, 255]);
    const res = await api(files("/content", "?path=data%2Fraw.bin&createOnly=1"), { method: "PUT", body: bytes });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ path: "data/raw.bin", size: 5 });
    expect(asked[0].event).toBe("files:write");
    expect(asked[0].payload).toMatchObject({ notebookId, path: "data/raw.bin", createOnly: true });
    expect([...asked[0].payload.content]).toEqual([0, 1, 2, 250, 255]);
  });

  it("refuses an upload over the size limit without bothering the worker", async () => {
    const res = await api(files("/content", "?path=big.bin"), { method: "PUT", body: new Uint8Array(2048) });
    expect(res.status).toBe(413);
    expect((await res.json()).error).toMatch(/limited to/);
    expect(asked).toEqual([]);
  });

  it("downloads a file as an attachment that the browser never renders", async () => {
    reply = () => ({ ok: true, content: Buffer.from("<script>alert(1)</script>"), entry: entry("page.html", "file", 25) });
    const res = await api(files("/content", "?path=page.html"));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/octet-stream");
    expect(res.headers.get("content-disposition")).toBe('attachment; filename="page.html"');
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(await res.text()).toBe("<script>alert(1)</script>");
    expect(asked[0]).toMatchObject({ event: "files:read", payload: { path: "page.html" } });
  });

  it("creates folders, deletes and renames", async () => {
    reply = (e, p) =>
      e === "files:mkdir"
        ? { ok: true, entry: entry(p.path, "directory") }
        : e === "files:rename"
          ? { ok: true, entry: entry(p.to) }
          : { ok: true };
    expect((await api(files("/dirs", "?path=results"), { method: "POST" })).status).toBe(201);
    expect((await api(files("", "?path=old.txt"), { method: "DELETE" })).status).toBe(204);
    const renamed = await api(files("/rename"), { method: "POST", body: JSON.stringify({ from: "a.txt", to: "dir/b.txt" }) });
    expect(await renamed.json()).toMatchObject({ path: "dir/b.txt" });
    expect(asked.map((a) => [a.event, a.payload])).toEqual([
      ["files:mkdir", { notebookId, path: "results" }],
      ["files:delete", { notebookId, path: "old.txt" }],
      ["files:rename", { notebookId, from: "a.txt", to: "dir/b.txt" }],
    ]);
  });

  it("refuses bad paths before asking the worker", async () => {
    for (const q of ["?path=..%2Fother", "?path=%2Fetc%2Fpasswd", "?path=a%2F..%2F..%2Fx"]) {
      const res = await api(files("/content", q));
      expect(res.status).toBe(400);
      expect((await res.json()).error).toMatch(/^Bad path: /);
    }
    expect((await api(files("/dirs", "?path=.%2F"), { method: "POST" })).status).toBe(400);
    expect((await api(files("", "?path="), { method: "DELETE" })).status).toBe(400);
    const rename = await api(files("/rename"), { method: "POST", body: JSON.stringify({ from: "a", to: "../b" }) });
    expect(rename.status).toBe(400);
    expect(asked).toEqual([]);
  });

  it("turns the worker's refusals into HTTP statuses with its reason", async () => {
    reply = (_e, p) =>
      p.path === "link"
        ? { ok: false, code: "outside_workspace", error: "link points outside the workspace" }
        : { ok: false, code: "not_found", error: `${p.path} does not exist` };
    const outside = await api(files("/content", "?path=link"));
    expect(outside.status).toBe(403);
    expect((await outside.json()).error).toBe("link points outside the workspace");
    const missing = await api(files("/content", "?path=gone.txt"));
    expect(missing.status).toBe(404);
    expect((await missing.json()).error).toBe("gone.txt does not exist");
  });

  it("answers 503 when no worker is connected, and 504 when the worker does not answer", async () => {
    connected = false;
    const none = await api(files());
    expect(none.status).toBe(503);
    expect((await none.json()).error).toMatch(/No worker is connected/);
    connected = true;
    reply = () => "silent";
    const slow = await api(files());
    expect(slow.status).toBe(504);
  });

  it("answers 404 for an unknown notebook and 405 for a wrong method", async () => {
    expect((await api("/api/notebooks/nope/files")).status).toBe(404);
    expect((await api(files("/content"), { method: "POST" })).status).toBe(405);
    expect(asked).toEqual([]);
  });
});
