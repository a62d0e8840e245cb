// "Saved work is never lost" while people edit one cell together on replicated gateways: a
// replica killed hard, Redis gone for a while, the database refusing writes. Real gateways (one
// of them in a process of its own, so it can be killed with SIGKILL), a real redis-server, a real
// SQLite database shared by the replicas, and pages speaking the document protocol through the
// web's own kernel client and DocumentProvider (harness.editor). Each page types numbered tokens
// at the end of the cell; at the end both pages, the stored document and the Cell table must
// hold every token, once, each page's in the order typed.
import type { ChildProcess } from "node:child_process";
import { cellText } from "@cellar/notebook-doc";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import * as Y from "yjs";
import { openDatabase, type Database } from "@cellar/db";
import { type Editor, GatewayHarness, startRedis as startRedisOn, TOKEN, until } from "../testing/gateway-harness";

const harness = new GatewayHarness();
let redis: ChildProcess;
let redisPort: number | undefined;
let redisUrl: string;

/** Redis (again on the same port, as after a restart). */
async function startRedis(): Promise<void> {
  const started = await startRedisOn(redisPort);
  redis = started.process;
  redisPort = started.port;
  redisUrl = started.url;
}

beforeAll(startRedis);
afterEach(() => harness.reset());
afterAll(async () => {
  redis?.kill("SIGKILL");
  await harness.close();
});

/** Types a token (`<name:n>`) at the end of the cell every few milliseconds, connected or not. */
function typist(page: Editor, cellId: string, name: string) {
  const typed: string[] = [];
  /** Types `token` now; true, so that a wait can type the moment it sees what it waits for. */
  const type = (token: string) => {
    page.type(cellId, token);
    typed.push(token);
    return true;
  };
  const stop = () => {
    clearInterval(timer);
    return true;
  };
  const timer = setInterval(() => type(`<${name}:${typed.length}>`), 15);
  return {
    typed,
    /** Types `count` more tokens, then stops. */
    finish: (count: number) => {
      const target = typed.length + count;
      return until(() => typed.length >= target && stop(), `${name} to type ${count} more`);
    },
    type,
  };
}

/** Every token typed is in `text` exactly once, each typist's in its order. */
function holdsEverything(text: string | undefined, ...typists: Array<{ typed: string[] }>): boolean {
  if (text === undefined) return false;
  const tokens = text.match(/<[^>]+>/g) ?? [];
  if (tokens.join("") !== text) return false;
  return typists.every(({ typed }) => {
    const mine = new Set(typed);
    const seen = tokens.filter((t) => mine.has(t));
    return seen.length === typed.length && seen.every((t, i) => t === typed[i]);
  });
}

async function storedText(db: Database, notebookId: string, cellId: string): Promise<string | undefined> {
  const stored = await db.documents.load(notebookId);
  if (!stored) return undefined;
  const doc = new Y.Doc();
  Y.applyUpdate(doc, stored.state);
  for (const { update } of stored.updates) Y.applyUpdate(doc, update);
  return cellText(doc, cellId)?.toString();
}

async function cellSource(db: Database, notebookId: string): Promise<string | undefined> {
  return (await db.notebooks.get(notebookId))?.cells[0]?.source;
}

/** Both pages end with the same text holding every token, and the database with it too: in the
 * stored document and, after the write-back, in the Cell table. */
async function expectNothingLost(db: Database, notebookId: string, cellId: string, pages: Editor[], typists: Array<{ typed: string[] }>) {
  const final = await until(
    () => {
      const text = pages[0].text(cellId);
      return pages.every((p) => p.text(cellId) === text) && holdsEverything(text, ...typists) && text;
    },
    "every page to hold every token",
    20_000,
  );
  await until(async () => (await storedText(db, notebookId, cellId)) === final, "the stored document to hold every token", 20_000);
  await until(async () => (await cellSource(db, notebookId)) === final, "the Cell table to hold every token", 20_000);
}

async function sharedNotebook(db: Database) {
  const notebook = await db.notebooks.create(db.localUserId, "together");
  await db.notebooks.update(notebook.id, { cells: [{ id: notebook.cells[0].id, cell_type: "code", source: "" }] });
  return { id: notebook.id, cellId: notebook.cells[0].id };
}

const synced = (page: Editor, cellId: string) => page.provider.isSynced && page.text(cellId) !== undefined;

describe("nothing typed together is lost", () => {
  it("a replica killed hard while two pages type into one cell on it: they redial to it restarted, with what they typed offline", async () => {
    // B runs the kernel (its worker); A, in its own process, serves both pages through a balancer.
    const b = await harness.startGateway(redisUrl);
    const worker = harness.scriptedWorker(b.url, "w1");
    await until(() => worker.connected(), "the worker to connect to B");
    // Made before A starts: A's process migrating the shared SQLite file makes B's writes wait.
    const nb = await sharedNotebook(b.db);
    const a = await harness.startGatewayProcess(redisUrl);
    const lb = await harness.balancer(() => [a.port]);
    const one = harness.editor(lb, nb.id);
    const two = harness.editor(lb, nb.id);
    await until(() => synced(one, nb.cellId) && synced(two, nb.cellId), "both pages to sync");
    const first = typist(one, nb.cellId, "one");
    const second = typist(two, nb.cellId, "two");
    await until(() => first.typed.length >= 20 && second.typed.length >= 20, "some typing");

    await a.kill();
    // Typed while the page knows it is offline: kept in its document, merged when it is back.
    await until(() => !one.socket.connected && first.type("<one:offline>"), "page one to see A gone");
    await until(() => !two.socket.connected && second.type("<two:offline>"), "page two to see A gone");
    await harness.startGatewayProcess(redisUrl, a.port);
    await until(() => one.opens() >= 2 && two.opens() >= 2, "both pages to reopen the notebook on A restarted", 20_000);
    await Promise.all([first.finish(20), second.finish(20)]);
    await expectNothingLost(b.db, nb.id, nb.cellId, [one, two], [first, second]);
  }, 60_000);

  it("Redis down for a while as pages on two replicas type: the replicas' documents converge once it is back, nobody reopening", async () => {
    const a = await harness.startGateway(redisUrl);
    const b = await harness.startGateway(redisUrl);
    const worker = harness.scriptedWorker(b.url, "w1");
    await until(() => worker.connected(), "the worker to connect to B");
    const nb = await sharedNotebook(a.db);
    const onA = harness.editor(a.url, nb.id);
    const onB = harness.editor(b.url, nb.id);
    await until(() => synced(onA, nb.cellId) && synced(onB, nb.cellId), "both pages to sync");
    const first = typist(onA, nb.cellId, "a");
    const second = typist(onB, nb.cellId, "b");
    await until(() => first.typed.length >= 10 && second.typed.length >= 10, "some typing");

    redis.kill("SIGKILL");
    const ready = async (url: string) => (await fetch(`${url}/api/ready`, { headers: { authorization: `Bearer ${TOKEN}` } })).status;
    await until(async () => (await ready(a.url)) === 503 && (await ready(b.url)) === 503, "both replicas to lose Redis");
    // Typed on both sides while the replicas cannot hear each other.
    const during = [first.typed.length, second.typed.length];
    await until(() => first.typed.length >= during[0] + 20 && second.typed.length >= during[1] + 20, "typing during the outage");
    expect(onA.text(nb.cellId)).not.toContain(second.typed.at(-1));

    await startRedis();
    await until(async () => (await ready(a.url)) === 200 && (await ready(b.url)) === 200, "both replicas to reach Redis again", 20_000);
    await Promise.all([first.finish(10), second.finish(10)]);
    await expectNothingLost(a.db, nb.id, nb.cellId, [onA, onB], [first, second]);
    // Caught up by the replicas themselves: neither page reconnected or reopened the notebook.
    expect([onA.opens(), onB.opens()]).toEqual([1, 1]);
  }, 60_000);

  it("the database refusing writes for a while as two pages type: every update and the Cell table are stored once it takes them again", async () => {
    const a = await harness.startGateway();
    const worker = harness.scriptedWorker(a.url, "w1");
    await until(() => worker.connected(), "the worker to connect");
    const nb = await sharedNotebook(a.db);
    const one = harness.editor(a.url, nb.id);
    const two = harness.editor(a.url, nb.id);
    await until(() => synced(one, nb.cellId) && synced(two, nb.cellId), "both pages to sync");
    const first = typist(one, nb.cellId, "one");
    const second = typist(two, nb.cellId, "two");
    await until(() => first.typed.length >= 10 && second.typed.length >= 10, "some typing");

    // Another connection holds SQLite's write lock: every write of the gateway is refused (busy).
    const locker = await openDatabase(harness.databaseUrl(), { log: () => {} });
    let release = () => {};
    let locked = () => {};
    const isLocked = new Promise<void>((r) => (locked = r));
    const held = locker.prisma.$transaction(
      async (tx) => {
        await tx.$executeRawUnsafe("UPDATE Notebook SET title = title");
        locked();
        await new Promise<void>((r) => (release = r));
      },
      { timeout: 60_000 },
    );
    await isLocked;
    try {
      await Promise.all([first.finish(20), second.finish(20)]);
      await expect(a.db.notebooks.update(nb.id, { title: "refused" })).rejects.toThrow();
      // Both pages have it all; the database has not.
      await until(() => one.text(nb.cellId) === two.text(nb.cellId) && holdsEverything(one.text(nb.cellId), first, second), "the pages");
      expect(await storedText(a.db, nb.id, nb.cellId)).not.toContain(second.typed.at(-1));
    } finally {
      release();
      await held;
      await locker.close();
    }
    // Nobody types again: the gateway's own retries store it.
    await expectNothingLost(a.db, nb.id, nb.cellId, [one, two], [first, second]);
    await one.provider.flush();
  }, 60_000);
});
