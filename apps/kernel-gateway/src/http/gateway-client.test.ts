// GatewayClient against the gateway's real HTTP app (its route table, handlers, schemas and error
// handling), with every reply checked against its route's schema. Only the worker behind the
// files routes is a double: the files relay is the gateway's, what a worker does with a
// directory is apps/worker's (tested there).
import type { FilesWorker } from "./workspace-files-api";
import { startTestApp, TEST_TOKEN as token, type TestApp } from "./test-app";
import type { Notebook, NotebookSummary, WorkspaceEntry } from "@cellar/protocol";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { GatewayClient, GatewayError, isNotFound, isUnauthorized } from "@cellar/kernel-client";

let gateway: TestApp;
let client: GatewayClient;
const asked: Array<{ event: string; payload: any }> = [];
const entry = (path: string, kind: WorkspaceEntry["kind"] = "file"): WorkspaceEntry => ({
  name: path.split("/").pop()!,
  path,
  kind,
  size: 2,
  modifiedMs: 1,
});
const worker: FilesWorker = {
  ask: async (event, payload: any) => {
    asked.push({ event, payload });
    if (payload.path === "missing") return { ok: false, code: "not_found", error: "No such file" } as any;
    switch (event) {
      case "files:list":
        return { ok: true, entries: [entry("d/a.txt")] } as any;
      case "files:read":
        return { ok: true, content: new Uint8Array([1, 2]), entry: entry(payload.path) } as any;
      case "files:mkdir":
        return { ok: true, entry: entry(payload.path, "directory") } as any;
      case "files:rename":
        return { ok: true, entry: entry(payload.to) } as any;
      case "files:write":
        return { ok: true, entry: entry(payload.path) } as any;
      default:
        return { ok: true } as any;
    }
  },
};

beforeAll(async () => {
  gateway = await startTestApp({
    deps: (db) => ({
      images: () => [{ name: "base", description: "Python" }],
      workers: () => [
        {
          id: "w1",
          resources: { cpus: 2, memoryBytes: 1, gpus: [], labels: {} },
          sessions: 0,
          workerClass: "CPU",
          freeGpus: [],
          draining: false,
          local: true,
        },
      ],
      kernels: { suspendKernel: async () => ({ ok: true }) },
      workspaceFiles: { notebookExists: async (id) => (await db.notebooks.get(id)) !== null, workerFor: () => worker },
    }),
  });
  client = new GatewayClient({ baseUrl: gateway.base, token, checkReplies: true });
});
afterAll(() => gateway.close());

describe("GatewayClient against the gateway", () => {
  it("creates, saves, renames, lists, duplicates, exports and deletes notebooks", async () => {
    const nb = await client.notebooks.create("T");
    expect(nb.title).toBe("T");
    const saved = await client.notebooks.update(nb.id, { cells: [{ id: "c1", cell_type: "code", source: "1+1" }] });
    expect(saved.cells.map((c) => [c.id, c.source])).toEqual([["c1", "1+1"]]);
    await client.notebooks.rename(nb.id, "Renamed");
    // Typed as the protocol's Notebook: the web app hands these to code that expects one.
    const back: Notebook = await client.notebooks.get(nb.id);
    expect(back.title).toBe("Renamed");
    const list: NotebookSummary[] = await client.notebooks.list();
    expect(list.map((s) => s.id)).toContain(nb.id);
    const copy = await client.notebooks.duplicate(nb.id);
    expect(copy.url).toContain(copy.id);
    expect(JSON.parse(await client.notebooks.export(nb.id)).cells[0].source).toEqual(["1+1"]);
    await client.notebooks.remove(copy.id);
    expect(isNotFound(await client.notebooks.get(copy.id).catch((e) => e))).toBe(true);
  });

  it("imports .ipynb text, and a refused one throws the gateway's problems", async () => {
    const stored = await client.notebooks.import(
      JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [] }),
      "my file.ipynb",
    );
    expect(stored.title).toBe("my file");
    const err = await client.notebooks
      .import(
        JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [{ cell_type: "code", metadata: {}, source: "1" }] }),
        "bad",
      )
      .catch((e) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect(err.status).toBe(400);
    expect(err.problems.join("\n")).toMatch(/outputs/);
  });

  it("answers the gateway-wide routes", async () => {
    expect(await client.health()).toEqual({ ok: true });
    expect(await client.images.list()).toEqual([{ name: "base", description: "Python" }]);
    expect((await client.workers.list())[0]!.id).toBe("w1");
    const nb = await client.notebooks.create();
    expect(await client.kernels.suspend(nb.id)).toEqual({ ok: true });
  });

  it("relays the files routes", async () => {
    const { id } = await client.notebooks.create("files");
    asked.length = 0;
    expect(await client.files.list(id, "d")).toEqual({ path: "d", entries: [entry("d/a.txt")] });
    expect(await client.files.read(id, "d/a b.bin")).toEqual(new Uint8Array([1, 2]));
    expect((await client.files.write(id, "new.txt", "hi", { createOnly: true })).path).toBe("new.txt");
    expect((await client.files.mkdir(id, "sub")).kind).toBe("directory");
    expect((await client.files.rename(id, "new.txt", "old.txt")).path).toBe("old.txt");
    await client.files.remove(id, "old.txt");
    expect(asked.map((a) => a.event)).toEqual(["files:list", "files:read", "files:write", "files:mkdir", "files:rename", "files:delete"]);
    expect(asked[1]!.payload.path).toBe("d/a b.bin");
    expect(asked[2]!.payload).toMatchObject({ createOnly: true });
    expect(Buffer.from(asked[2]!.payload.content).toString()).toBe("hi");
    await expect(client.files.read(id, "missing")).rejects.toMatchObject({ status: 404, message: "No such file" });
  });

  it("shares a notebook with a teammate and by a link, and a link's holder opens it signed out", async () => {
    const { id } = await client.notebooks.create("Shared");
    const invite = await client.invites.create();
    const teammate = await new GatewayClient({ baseUrl: gateway.base }).auth.signup({
      invite: invite.token,
      name: "Tea",
      email: "tea@example.com",
      password: "a member password",
    });
    const grant = await client.shares.grant(id, "tea@example.com", "runner");
    expect(grant).toMatchObject({ userId: teammate.user.id, role: "runner" });
    expect((await client.shares.changeRole(id, grant.userId, "editor")).role).toBe("editor");
    expect((await client.shares.grants(id)).map((g) => g.role)).toEqual(["editor"]);
    await client.shares.removeGrant(id, grant.userId);
    const link = await client.shares.createLink(id, "viewer", 1);
    expect((await client.shares.links(id)).map((l) => l.id)).toEqual([link.id]);
    const guest = new GatewayClient({ baseUrl: gateway.base, shareLink: () => link.secret, checkReplies: true });
    expect(await guest.notebooks.get(id)).toMatchObject({ id, role: "viewer" });
    await client.shares.revokeLink(id, link.id);
    expect(isNotFound(await guest.notebooks.get(id).catch((e) => e))).toBe(true);
  });

  it("tells a refused token to onUnauthorized", async () => {
    const onUnauthorized = vi.fn();
    const err = await new GatewayClient({ baseUrl: gateway.base, token: "wrong", onUnauthorized }).notebooks.list().catch((e) => e);
    expect(isUnauthorized(err)).toBe(true);
    expect(onUnauthorized).toHaveBeenCalledTimes(1);
  });
});
