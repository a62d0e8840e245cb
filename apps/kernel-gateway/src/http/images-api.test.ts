// The Images page's routes over the real HTTP app and database: an image's build log, and saving
// a notebook's %pip packages as a named image through the real save path (the spec and lock it
// writes are read back); only the catalog's build is stood in for, since a real one needs the
// base image's tree on this host (notebook-packages.stack.test.ts builds for real).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NotebookPackages } from "@cellar/protocol";
import { newToken, SESSION_COOKIE, sessionExpiry, tokenId } from "../auth/session-tokens";
import { imageReply } from "../images/build-request";
import type { CatalogImage, ImageCatalog } from "../images/image-catalog";
import { readImageSpec } from "../images/image-specs";
import { saveNotebookImage } from "../images/save-notebook-image";
import { startTestApp, TEST_TOKEN, type TestApp } from "./test-app";

const owner = { authorization: `Bearer ${TEST_TOKEN}`, "content-type": "application/json" };
const LOCK = { version: 1, packages: [{ name: "tabulate", version: "0.9.0", hashes: ["sha256:abc"] }] };

let gateway: TestApp;
let cacheDir: string;
const images = new Map<string, CatalogImage>([
  ["base", { name: "base", description: "Debian", imageId: "b".repeat(64), specHash: "", warmup: [], packages: ["python3"] }],
]);
const built: Array<{ spec: unknown; lock: unknown }> = [];
const catalog: ImageCatalog = {
  imageId: (name) => images.get(name)?.imageId,
  get: (name) => images.get(name),
  list: () => [...images.values()],
  build: async (file, log) => {
    const spec = readImageSpec(file);
    const lockFile = path.join(path.dirname(file), `${spec.name}.lock.json`);
    built.push({
      spec: JSON.parse(fs.readFileSync(file, "utf8")),
      lock: fs.existsSync(lockFile) ? JSON.parse(fs.readFileSync(lockFile, "utf8")) : null,
    });
    log?.(`gateway: image ${spec.name}: those wheels are built into a layer already (0.1 MB): nothing to install`);
    const image = { name: spec.name, description: spec.description, imageId: "c".repeat(64), specHash: "", warmup: [], parent: spec.from };
    images.set(spec.name, { ...image, packages: ["tabulate==0.9.0"], layerBytes: 100_000 });
    return images.get(spec.name)!;
  },
  buildLog: (name) =>
    name === "base"
      ? { name, status: "built", startedAt: "2026-12-05T07:00:00.000Z", finishedAt: "2026-12-05T07:00:01.000Z", lines: ["ok"], dropped: 0 }
      : undefined,
};

beforeAll(async () => {
  cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), "cellar-save-image-"));
  gateway = await startTestApp({
    deps: () => ({
      images: () => catalog.list().map(imageReply),
      imageBuildLog: (name) => catalog.buildLog(name) ?? null,
      saveNotebookImage: (request) => saveNotebookImage(catalog, cacheDir, request),
    }),
  });
});
afterAll(async () => {
  await gateway.close();
  fs.rmSync(cacheDir, { recursive: true, force: true });
});

async function member(role: "viewer" | "editor", notebookId: string): Promise<Record<string, string>> {
  const invite = await (await fetch(`${gateway.base}/api/invites`, { method: "POST", headers: owner, body: "{}" })).json();
  const email = `${role}-${notebookId}@example.com`;
  const signup = await fetch(`${gateway.base}/api/auth/signup`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ invite: invite.token, name: role, email, password: "a member password" }),
  });
  const userId = (await signup.json()).user.id;
  await gateway.db.shares.grant(notebookId, email, role);
  const token = newToken();
  await gateway.db.accounts.createSession({ id: tokenId(token), userId, expiresAt: sessionExpiry() });
  return { cookie: `${SESSION_COOKIE}=${token}`, origin: gateway.base, "content-type": "application/json" };
}

async function notebook(packages: NotebookPackages | null): Promise<string> {
  const id = (await (await fetch(`${gateway.base}/api/notebooks`, { method: "POST", headers: owner, body: "{}" })).json()).id;
  if (packages) await gateway.db.notebooks.setPackages(id, "pip-0123456789ab", packages);
  return id;
}

const save = async (id: string, body: unknown, headers: Record<string, string> = owner) => {
  const res = await fetch(`${gateway.base}/api/notebooks/${id}/save-image`, { method: "POST", headers, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
};

describe("GET /api/images/:name/log", () => {
  it("answers the last build's lines, and 404 for an image with none on record", async () => {
    const res = await fetch(`${gateway.base}/api/images/base/log`, { headers: owner });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ name: "base", status: "built", lines: ["ok"], dropped: 0 });
    expect((await fetch(`${gateway.base}/api/images/nothing/log`, { headers: owner })).status).toBe(404);
    expect((await fetch(`${gateway.base}/api/images/base/log`)).status).toBe(401);
  });
});

describe("POST /api/notebooks/:id/save-image", () => {
  it("writes the notebook's packages and lock as an uploaded spec, builds it, and lists the image", async () => {
    const id = await notebook({ from: "base", pip: ["tabulate"], lock: LOCK });
    const editor = await member("editor", id);
    const saved = await save(id, { name: "tables", description: "pretty tables" }, editor);
    expect(saved.status).toBe(200);
    expect(saved.body.image).toMatchObject({ name: "tables", parent: "base", packages: ["tabulate==0.9.0"], description: "pretty tables" });
    expect(saved.body.log).toEqual(["gateway: image tables: those wheels are built into a layer already (0.1 MB): nothing to install"]);
    expect(built.at(-1)).toEqual({ spec: { name: "tables", description: "pretty tables", from: "base", pip: ["tabulate"] }, lock: LOCK });
    // Where `cellar image build` puts its specs: one folder of uploads.
    expect(fs.existsSync(path.join(cacheDir, "images", "uploaded", "tables", "tables.json"))).toBe(true);
    const list = await (await fetch(`${gateway.base}/api/images`, { headers: owner })).json();
    expect(list.map((i: { name: string }) => i.name)).toContain("tables");
  });

  it("refuses a viewer (403), a notebook without packages (400), a taken or reserved name (409, 400) and a bad name (400)", async () => {
    const id = await notebook({ from: "base", pip: ["tabulate"], lock: LOCK });
    const viewer = await member("viewer", id);
    const builds = built.length;
    expect(await save(id, { name: "mine" }, viewer)).toEqual({ status: 403, body: { error: "Needs the editor role on this notebook" } });
    const bare = await notebook(null);
    expect((await save(bare, { name: "mine" })).status).toBe(400);
    expect((await save(bare, { name: "mine" })).body.error).toMatch(/no pip packages/);
    expect(await save(id, { name: "base" })).toEqual({ status: 409, body: { error: "An image named base exists already." } });
    expect((await save(id, { name: "pip-0123456789ab" })).status).toBe(400);
    expect((await save(id, { name: "Not A Name" })).status).toBe(400);
    expect(built.length).toBe(builds);
  });

  it("without a lock the spec goes alone, and the default description says what it holds", async () => {
    const id = await notebook({ from: "base", pip: ["tabulate", "tqdm"] });
    const saved = await save(id, { name: "untitled-lock" });
    expect(saved.status).toBe(200);
    expect(saved.body.image.description).toBe("tabulate, tqdm over base, saved from Untitled");
    expect(built.at(-1)?.lock).toBeNull();
  });
});
