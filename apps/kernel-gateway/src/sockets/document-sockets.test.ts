// Live editing through real socket.io servers and clients, a real database (SQLite) and, for the
// cross-replica case, a real redis-server: pages speak doc:sync / doc:awareness through the same
// DocumentProvider the web uses.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import net, { type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase, type Database } from "@cellar/db";
import { cellText, DocumentProvider, toCells } from "@cellar/notebook-doc";
import type { NotebookRole } from "@cellar/protocol";
import { io as connect, type Socket } from "socket.io-client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import * as Y from "yjs";
import { DocumentHubs } from "../documents/document-hubs";
import { attachDocumentSockets } from "./document-sockets";
import { createSocketServer } from "./socket-server";

let dir: string;
let db: Database;
const cleanups: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "cellar-docs-"));
  db = await openDatabase(`file:${join(dir, "db.sqlite")}`, { log: () => {} });
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A gateway's socket server with document hubs; each page says its role in its handshake
 * (standing in for notebook:open, which fills socket.data.roles the same way). */
async function replica(opts: { redisUrl?: string; compactEvery?: number; database?: Database } = {}) {
  const database = opts.database ?? db;
  const server = http.createServer();
  const identity = {
    resolve: async () => ({ user: { id: "u", name: "U", email: null, role: "owner" as const, createdAt: new Date() } }),
  };
  const sockets = createSocketServer(server, identity, { roleOf: async () => null }, opts.redisUrl);
  sockets.io.on("connection", (socket) => {
    const { notebookId, role } = socket.handshake.auth as { notebookId: string; role: NotebookRole };
    socket.data.roles.set(notebookId, role);
  });
  const hubs = new DocumentHubs({
    documents: database.documents,
    notebooks: database.notebooks,
    writeBack: (id, cells) => database.notebooks.update(id, { cells }),
    replicas: sockets.redis ? sockets.io : null,
    compactEvery: opts.compactEvery ?? 50,
    writeBackDelayMs: 20,
  });
  attachDocumentSockets(sockets.io, hubs);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const close = async () => {
    await hubs.closeAll();
    await new Promise<void>((r) => sockets.io.close(() => r()));
    await sockets.redis?.close();
  };
  cleanups.push(close);
  return { url, hubs, redis: sockets.redis };
}

async function page(url: string, notebookId: string, role: NotebookRole, name: string = role) {
  const socket: Socket = connect(url, { transports: ["websocket"], forceNew: true, auth: { notebookId, role } });
  await new Promise<void>((r) => socket.once("connect", () => r()));
  const doc = new Y.Doc();
  const provider = new DocumentProvider(socket, notebookId, doc);
  provider.awareness.setLocalStateField("user", { name, color: "#f00" });
  const refusals: string[] = [];
  provider.onRefusal((reason) => refusals.push(reason));
  provider.start();
  await provider.whenSynced();
  cleanups.push(() => {
    provider.destroy();
    socket.close();
  });
  return { socket, doc, provider, refusals, text: (cellId: string) => cellText(doc, cellId)! };
}

async function until(check: () => boolean | Promise<boolean>, what: string, ms = 10_000) {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function notebook(source = "") {
  const nb = await db.notebooks.create(db.localUserId);
  const cellId = nb.cells[0].id;
  if (source) await db.notebooks.update(nb.id, { cells: [{ id: cellId, cell_type: "code", source }] });
  return { id: nb.id, cellId };
}

describe("live editing on one replica", () => {
  it("two editors typing into one cell at once end with the same text holding both inputs, and the Cell table follows", async () => {
    const { url } = await replica();
    const nb = await notebook("print()");
    const a = await page(url, nb.id, "editor");
    const b = await page(url, nb.id, "owner");
    expect(a.text(nb.cellId).toString()).toBe("print()");
    for (let i = 0; i < 20; i++) {
      a.text(nb.cellId).insert(0, "a");
      b.text(nb.cellId).insert(b.text(nb.cellId).length, "b");
    }
    await until(() => a.text(nb.cellId).toString() === b.text(nb.cellId).toString() && a.text(nb.cellId).length === 47, "convergence");
    expect(a.text(nb.cellId).toString()).toBe(`${"a".repeat(20)}print()${"b".repeat(20)}`);
    await until(async () => (await db.notebooks.get(nb.id))?.cells[0].source === a.text(nb.cellId).toString(), "the write-back");
  });

  it("a flush answers once the changes sent before it are stored and in the Cell table", async () => {
    const { url } = await replica();
    const nb = await notebook("a");
    const a = await page(url, nb.id, "editor");
    a.text(nb.cellId).insert(1, "bc");
    await a.provider.flush();
    expect((await db.notebooks.get(nb.id))?.cells[0].source).toBe("abc");
    // Offline, it waits a while for the connection to come back, then says so.
    a.socket.disconnect();
    await expect(a.provider.flush()).rejects.toThrow("Not connected");
  }, 10_000);

  it("a viewer's and a runner's changes are dropped by the gateway, and each is told once", async () => {
    const { url } = await replica();
    const nb = await notebook("x = 1");
    const editor = await page(url, nb.id, "editor");
    for (const role of ["viewer", "runner"] as const) {
      const reader = await page(url, nb.id, role);
      reader.text(nb.cellId).insert(0, "HACK ");
      reader.text(nb.cellId).insert(0, "AGAIN ");
      await until(() => reader.refusals.length > 0, `the ${role} to be told`);
      expect(reader.refusals).toEqual(["You may not edit this notebook: your changes are not saved."]);
    }
    // An edit that is allowed reaches a fresh page; the refused ones never did.
    editor.text(nb.cellId).insert(5, "0");
    const fresh = await page(url, nb.id, "viewer");
    await until(() => fresh.text(nb.cellId).toString() === "x = 10", "the editor's change");
    await new Promise((r) => setTimeout(r, 100));
    expect((await db.notebooks.get(nb.id))?.cells[0].source).toBe("x = 10");
  });

  it("sends who is here (names) to the others, and takes a page's cursor away when it leaves", async () => {
    const { url } = await replica();
    const nb = await notebook();
    const a = await page(url, nb.id, "editor", "Ada");
    const b = await page(url, nb.id, "viewer", "Bob");
    const names = (p: typeof a) =>
      [...p.provider.awareness.getStates().values()].map((s) => (s.user as { name: string } | undefined)?.name);
    await until(() => names(a).includes("Bob") && names(b).includes("Ada"), "both presences");
    b.provider.destroy();
    b.socket.close();
    await until(() => !names(a).includes("Bob"), "Bob's presence to go");
  });

  it("an API save becomes a change of the live document; a title-only save leaves the sources alone", async () => {
    const { url, hubs } = await replica();
    const nb = await notebook("old");
    const a = await page(url, nb.id, "editor");
    a.text(nb.cellId).insert(3, " typed");
    await until(async () => (await db.notebooks.get(nb.id))?.cells[0].source === "old typed", "the write-back");
    const saved = (await db.notebooks.update(nb.id, { cells: [{ id: nb.cellId, cell_type: "markdown", source: "new" }] }))!;
    await hubs.saved(nb.id, { cells: saved.cells }, saved);
    await until(() => toCells(a.doc)[0]?.source === "new" && toCells(a.doc)[0].cell_type === "markdown", "the save in the page");
    const renamed = (await db.notebooks.update(nb.id, { title: "Renamed" }))!;
    await hubs.saved(nb.id, { title: "Renamed" }, renamed);
    await until(() => a.doc.getMap("meta").get("title") === "Renamed", "the title");
    expect(toCells(a.doc)[0].source).toBe("new");
  });

  it("an edit made while offline is merged on reconnect, not lost or offered back", async () => {
    const { url } = await replica();
    const nb = await notebook("base");
    const a = await page(url, nb.id, "editor");
    const b = await page(url, nb.id, "editor");
    a.socket.disconnect();
    a.text(nb.cellId).insert(0, "offline ");
    b.text(nb.cellId).insert(4, " online");
    a.socket.connect();
    await new Promise<void>((r) => a.socket.once("connect", () => r()));
    a.provider.start();
    await until(
      () => b.text(nb.cellId).toString() === "offline base online" && a.text(nb.cellId).toString() === "offline base online",
      "the merge",
    );
  });

  it("compaction keeps the stored document bounded however long people edit", async () => {
    const { url, hubs } = await replica({ compactEvery: 10 });
    const nb = await notebook();
    const a = await page(url, nb.id, "editor");
    const text = a.text(nb.cellId);
    let most = 0;
    for (let round = 0; round < 60; round++) {
      text.insert(0, "x".repeat(200));
      await new Promise((r) => setTimeout(r, 5));
      text.delete(0, 200);
      await new Promise((r) => setTimeout(r, 5));
      const size = await db.documents.size(nb.id);
      most = Math.max(most, size!.updates);
    }
    // 60 × 200 characters were typed and deleted: 24 kB of updates without compaction.
    expect(most).toBeLessThan(30);
    a.provider.destroy();
    a.socket.close();
    await until(async () => (await db.documents.size(nb.id))?.updates === 0, "the compaction on close");
    const size = (await db.documents.size(nb.id))!;
    expect(size.stateBytes).toBeLessThan(2_000);
    await hubs.closeAll();
    // What was stored reopens as the same document.
    const again = await page(url, nb.id, "viewer");
    expect(again.text(nb.cellId).toString()).toBe("");
  });
});

describe("live editing across replicas", () => {
  let redis: ChildProcess;
  let redisUrl: string;
  beforeAll(async () => {
    const s = net.createServer();
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
    const port = (s.address() as AddressInfo).port;
    await new Promise((r) => s.close(r));
    redisUrl = `redis://127.0.0.1:${port}`;
    redis = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
  });
  afterAll(() => {
    redis?.kill("SIGKILL");
  });

  it("pages on two replicas converge, and the second replica's hub catches up on open", async () => {
    const a = await replica({ redisUrl });
    const other = await openDatabase(`file:${join(dir, "db.sqlite")}`, { log: () => {} });
    cleanups.push(() => other.close());
    const b = await replica({ redisUrl, database: other });
    await until(() => a.redis?.problem() === null && b.redis?.problem() === null, "both Redis links");
    await a.redis?.subscribed();
    await b.redis?.subscribed();
    const nb = await notebook("cell");
    const onA = await page(a.url, nb.id, "editor");
    onA.text(nb.cellId).insert(4, " from A");
    const onB = await page(b.url, nb.id, "editor");
    await until(() => onB.text(nb.cellId).toString() === "cell from A", "B to have A's edit");
    for (let i = 0; i < 10; i++) {
      onA.text(nb.cellId).insert(0, "a");
      onB.text(nb.cellId).insert(onB.text(nb.cellId).length, "b");
    }
    const expected = `${"a".repeat(10)}cell from A${"b".repeat(10)}`;
    await until(() => onA.text(nb.cellId).toString() === expected && onB.text(nb.cellId).toString() === expected, "convergence");
  });

  it("what a replica relayed but never stored is stored by the replica its page moves to", async () => {
    // A's database takes none of its appends (as if it died before storing them); B's is fine.
    const other = await openDatabase(`file:${join(dir, "db.sqlite")}`, { log: () => {} });
    cleanups.push(() => other.close());
    let aStores = false;
    const refusing = {
      ...db,
      documents: {
        ...db.documents,
        append: async (id: string, update: Uint8Array) => {
          if (!aStores) throw new Error("not stored");
          return db.documents.append(id, update);
        },
      },
    } as Database;
    const a = await replica({ redisUrl, database: refusing });
    const b = await replica({ redisUrl, database: other });
    await until(() => a.redis?.problem() === null && b.redis?.problem() === null, "both Redis links");
    await a.redis?.subscribed();
    await b.redis?.subscribed();
    // However the test ends, A's database takes its appends again, so A's hub can close.
    cleanups.push(() => {
      aStores = true;
    });
    const nb = await notebook("x");
    const onB = await page(b.url, nb.id, "editor");
    const onA = await page(a.url, nb.id, "editor");
    onA.text(nb.cellId).insert(1, " from A");
    await until(() => onB.text(nb.cellId).toString() === "x from A", "B's hub (and page) to have A's edit");
    // The page leaves A and opens the notebook on B, with nothing B lacks.
    onA.socket.disconnect();
    const moved = await page(b.url, nb.id, "editor");
    expect(moved.text(nb.cellId).toString()).toBe("x from A");
    const stored = async () => {
      const doc = await db.documents.load(nb.id);
      if (!doc) return undefined;
      const y = new Y.Doc();
      Y.applyUpdate(y, doc.state);
      for (const { update } of doc.updates) Y.applyUpdate(y, update);
      return y.getMap("cells").size > 0 ? cellText(y, nb.cellId)?.toString() : undefined;
    };
    await until(async () => (await stored()) === "x from A", "B to store what it held beyond the database");
    await until(async () => (await db.notebooks.get(nb.id))?.cells[0].source === "x from A", "and to write it back");
  });
});
