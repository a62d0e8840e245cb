// The worker's workspace file requests against real temp directories: what a user does (list,
// upload, save, read, make folders, rename, delete) and what a kernel might try (symlinks out of
// the workspace, "..", absolute paths).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WorkspaceFilesEvents } from "@cellar/protocol";
import { serveWorkspaceFiles } from "./files-handler";

type Handlers = Partial<WorkspaceFilesEvents>;

/** Calls a registered handler the way socket.io would and resolves with its ack. */
function requester(handlers: Handlers) {
  return <E extends keyof WorkspaceFilesEvents>(event: E, payload: unknown): Promise<any> =>
    new Promise((resolve) => (handlers[event] as any)(payload, resolve));
}

describe("workspace files on the worker", () => {
  let home: string;
  let outside: string;
  let ws: string;
  const handlers: Handlers = {};
  const ask = requester(handlers);
  const nb = "nb-files-1";
  // As root (as the worker runs) new files go to the sandbox user; otherwise to ourselves.
  const owner = process.getuid!() === 0 ? { uid: 1000, gid: 1000 } : { uid: process.getuid!(), gid: process.getgid!() };

  beforeAll(() => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), "cellar-files-"));
    outside = fs.mkdtempSync(path.join(os.tmpdir(), "cellar-outside-"));
    fs.writeFileSync(path.join(outside, "secret.txt"), "do not read");
    ws = path.join(home, nb);
    serveWorkspaceFiles(
      { on: (e: string, h: any) => ((handlers as any)[e] = h) },
      {
        workspacesDir: home,
        owner,
      },
    );
  });
  afterAll(() => {
    fs.rmSync(home, { recursive: true, force: true });
    fs.rmSync(outside, { recursive: true, force: true });
  });

  it("lists an empty workspace that has never been used, creating it", async () => {
    expect(await ask("files:list", { notebookId: nb, path: "" })).toEqual({ ok: true, entries: [] });
    expect(fs.statSync(ws).isDirectory()).toBe(true);
  });

  it("writes, lists and reads back files and folders", async () => {
    const put = await ask("files:write", { notebookId: nb, path: "data.csv", content: Buffer.from("a,b\n1,2\n") });
    expect(put).toMatchObject({ ok: true, entry: { name: "data.csv", path: "data.csv", kind: "file", size: 8 } });
    expect(await ask("files:mkdir", { notebookId: nb, path: "results" })).toMatchObject({ ok: true, entry: { kind: "directory" } });
    await ask("files:write", { notebookId: nb, path: "results/out.bin", content: new Uint8Array([0, 1, 2, 255]) });

    const root = await ask("files:list", { notebookId: nb, path: "" });
    expect(root.entries.map((e: any) => [e.path, e.kind])).toEqual([
      ["results", "directory"],
      ["data.csv", "file"],
    ]);
    const sub = await ask("files:list", { notebookId: nb, path: "results/" });
    expect(sub.entries.map((e: any) => e.path)).toEqual(["results/out.bin"]);

    const read = await ask("files:read", { notebookId: nb, path: "./results/out.bin", maxBytes: 100 });
    expect(read.ok).toBe(true);
    expect([...read.content]).toEqual([0, 1, 2, 255]);
    expect(fs.readFileSync(path.join(ws, "data.csv"), "utf8")).toBe("a,b\n1,2\n");
  });

  it("gives new files and folders to the sandbox user, so the kernel can change them", async () => {
    expect(fs.statSync(path.join(ws, "data.csv")).uid).toBe(owner.uid);
    expect(fs.statSync(path.join(ws, "results")).gid).toBe(owner.gid);
    expect(fs.statSync(ws).uid).toBe(owner.uid);
  });

  it("saves over an existing file, but an upload marked create-only does not", async () => {
    expect(await ask("files:write", { notebookId: nb, path: "data.csv", content: Buffer.from("x\n") })).toMatchObject({ ok: true });
    expect(fs.readFileSync(path.join(ws, "data.csv"), "utf8")).toBe("x\n");
    const again = await ask("files:write", { notebookId: nb, path: "data.csv", content: Buffer.from("y"), createOnly: true });
    expect(again).toMatchObject({ ok: false, code: "exists" });
    expect(fs.readFileSync(path.join(ws, "data.csv"), "utf8")).toBe("x\n");
  });

  it("answers clear errors for missing things, folders and files over the limit", async () => {
    expect(await ask("files:read", { notebookId: nb, path: "nope.txt", maxBytes: 10 })).toMatchObject({ ok: false, code: "not_found" });
    expect(await ask("files:read", { notebookId: nb, path: "results", maxBytes: 10 })).toMatchObject({ ok: false, code: "is_a_directory" });
    expect(await ask("files:list", { notebookId: nb, path: "data.csv" })).toMatchObject({ ok: false, code: "not_a_directory" });
    expect(await ask("files:read", { notebookId: nb, path: "data.csv", maxBytes: 1 })).toMatchObject({ ok: false, code: "too_large" });
    expect(await ask("files:mkdir", { notebookId: nb, path: "results" })).toMatchObject({ ok: false, code: "exists" });
    expect(await ask("files:write", { notebookId: nb, path: "no/such/dir.txt", content: Buffer.from("") })).toMatchObject({
      ok: false,
      code: "not_found",
    });
    expect(await ask("files:write", { notebookId: nb, path: "results", content: Buffer.from("") })).toMatchObject({
      ok: false,
      code: "is_a_directory",
    });
  });

  it("renames and deletes files and whole folders", async () => {
    await ask("files:mkdir", { notebookId: nb, path: "tmp" });
    await ask("files:write", { notebookId: nb, path: "tmp/a.txt", content: Buffer.from("a") });
    expect(await ask("files:rename", { notebookId: nb, from: "tmp", to: "tmp2" })).toMatchObject({ ok: true, entry: { path: "tmp2" } });
    expect(fs.readFileSync(path.join(ws, "tmp2/a.txt"), "utf8")).toBe("a");
    expect(await ask("files:rename", { notebookId: nb, from: "tmp2", to: "tmp2/inner" })).toMatchObject({
      ok: false,
      code: "invalid_path",
    });
    expect(await ask("files:rename", { notebookId: nb, from: "tmp2", to: "data.csv" })).toMatchObject({ ok: false, code: "exists" });
    expect(await ask("files:delete", { notebookId: nb, path: "tmp2" })).toEqual({ ok: true });
    expect(fs.existsSync(path.join(ws, "tmp2"))).toBe(false);
    expect(await ask("files:delete", { notebookId: nb, path: "tmp2" })).toMatchObject({ ok: false, code: "not_found" });
  });

  it.each([
    ["..", "files:list"],
    ["../" + "x", "files:read"],
    ["/etc/passwd", "files:read"],
    ["a/../../x", "files:write"],
  ] as const)("refuses the path %j before touching the disk", async (p, event) => {
    const r = await ask(event, { notebookId: nb, path: p, maxBytes: 10, content: Buffer.from("x") });
    expect(r).toMatchObject({ ok: false, code: "invalid_path" });
  });

  it("refuses a bad notebook id, which would name another directory", async () => {
    expect(await ask("files:list", { notebookId: "../other", path: "" })).toMatchObject({ ok: false, code: "invalid_path" });
  });

  describe("symlinks the kernel made", () => {
    beforeAll(() => {
      fs.symlinkSync(outside, path.join(ws, "escape-dir"));
      fs.symlinkSync(path.join(outside, "secret.txt"), path.join(ws, "escape-file"));
      fs.symlinkSync("data.csv", path.join(ws, "alias.csv"));
    });

    it("lists them as symlinks without following them", async () => {
      const root = await ask("files:list", { notebookId: nb, path: "" });
      const kinds = Object.fromEntries(root.entries.map((e: any) => [e.name, e.kind]));
      expect(kinds).toMatchObject({ "escape-dir": "symlink", "escape-file": "symlink", "alias.csv": "symlink" });
    });

    it("never reads, lists or writes through one that leads outside", async () => {
      expect(await ask("files:read", { notebookId: nb, path: "escape-file", maxBytes: 100 })).toMatchObject({
        ok: false,
        code: "outside_workspace",
      });
      expect(await ask("files:list", { notebookId: nb, path: "escape-dir" })).toMatchObject({ ok: false, code: "outside_workspace" });
      expect(await ask("files:read", { notebookId: nb, path: "escape-dir/secret.txt", maxBytes: 100 })).toMatchObject({
        ok: false,
        code: "outside_workspace",
      });
      expect(await ask("files:write", { notebookId: nb, path: "escape-dir/new.txt", content: Buffer.from("x") })).toMatchObject({
        ok: false,
        code: "outside_workspace",
      });
      expect(await ask("files:write", { notebookId: nb, path: "escape-file", content: Buffer.from("overwritten") })).toMatchObject({
        ok: false,
        code: "outside_workspace",
      });
      expect(await ask("files:mkdir", { notebookId: nb, path: "escape-dir/sub" })).toMatchObject({ ok: false, code: "outside_workspace" });
      expect(await ask("files:rename", { notebookId: nb, from: "data.csv", to: "escape-dir/stolen.csv" })).toMatchObject({
        ok: false,
        code: "outside_workspace",
      });
      expect(fs.readFileSync(path.join(outside, "secret.txt"), "utf8")).toBe("do not read");
      expect(fs.readdirSync(outside)).toEqual(["secret.txt"]);
    });

    it("deletes the link itself, never what it points to", async () => {
      expect(await ask("files:delete", { notebookId: nb, path: "escape-dir" })).toEqual({ ok: true });
      expect(fs.existsSync(path.join(ws, "escape-dir"))).toBe(false);
      expect(fs.readFileSync(path.join(outside, "secret.txt"), "utf8")).toBe("do not read");
    });

    it("follows one that stays inside the workspace", async () => {
      const r = await ask("files:read", { notebookId: nb, path: "alias.csv", maxBytes: 100 });
      expect(Buffer.from(r.content).toString()).toBe("x\n");
    });
  });
});
