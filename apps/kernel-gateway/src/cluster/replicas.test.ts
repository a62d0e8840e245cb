// Two real gateways (createGateway) sharing one database and a real redis-server: a page on
// replica A runs code on a kernel whose worker is connected to replica B, and sees its output.
// The worker here is a scripted socket.io client speaking the worker protocol (the real worker
// and sandbox are covered by the e2e suite's cluster test).
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { io as connect, type Socket } from "socket.io-client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type Database } from "@cellar/db";
import { openBlobStore } from "@cellar/fs-client";
import { makeMessage, WORKER_NAMESPACE, type JupyterMessage, type TerminalRequest, type WorkerSessionReport } from "@cellar/protocol";
import type { GatewayConfig } from "../config";
import { createGateway, type Gateway } from "../gateway";

const TOKEN = "cluster-token";
const SECRET = "cluster-secret";
const IMAGE_ID = "a".repeat(64);

let dir: string;
let redis: ChildProcess;
let redisPort: number;
let redisUrl: string;
let dbs: Database[] = [];
let gateways: Array<{ gateway: Gateway; url: string }> = [];
let clients: Socket[] = [];
let cluster = 0;

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function until<T>(check: () => T | undefined | false | Promise<T | undefined | false>, what: string, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A gateway replica; those of one test share a database (`cluster` numbers the tests). */
async function startGateway(): Promise<{ gateway: Gateway; url: string; db: Database }> {
  const db = await openDatabase(`file:${join(dir, `db-${cluster}.sqlite`)}`, { log: () => {} });
  dbs.push(db);
  const config: GatewayConfig = {
    host: "127.0.0.1",
    port: 0,
    home: dir,
    webDir: join(dir, "web"),
    imagesDir: join(dir, "images"),
    cacheDir: dir,
    casDir: join(dir, "cas"),
    sessionMemoryBytes: 1 << 30,
    sessionPids: 100,
    kernelStartTimeoutMs: 30_000,
    lostWorkerGraceMs: 30_000,
    redisUrl,
    gcIntervalMs: 0,
    gcGraceMs: 3_600_000,
  };
  const gateway = createGateway({
    config,
    store: db.notebooks,
    sessions: db.kernels,
    accounts: db.accounts,
    accessTokens: db.accessTokens,
    documents: db.documents,
    userId: db.localUserId,
    token: TOKEN,
    workerSecret: SECRET,
    blobStore: openBlobStore({ localDir: join(dir, "cas") }),
    images: {
      imageId: () => IMAGE_ID,
      get: (name) => ({ name, description: "", imageId: IMAGE_ID, specHash: "", warmup: [] }),
      list: () => [{ name: "base", description: "", imageId: IMAGE_ID, specHash: "", warmup: [] }],
    },
  });
  const { port } = await gateway.listen();
  const entry = { gateway, url: `http://127.0.0.1:${port}`, db };
  gateways.push(entry);
  return entry;
}

/** A worker that runs every cell by printing its code back. */
function scriptedWorker(url: string, workerId: string, sessions: WorkerSessionReport[] = []) {
  const socket = connect(`${url}${WORKER_NAMESPACE}`, {
    auth: { secret: SECRET, workerId, resources: { cpus: 1, memoryBytes: 1, gpus: [] }, sessions },
    transports: ["websocket"],
    forceNew: true,
  });
  clients.push(socket);
  const started: string[] = [];
  const ran: string[] = [];
  let seq = 0;
  const send = (sessionId: string, message: JupyterMessage, cellId?: string) =>
    socket.emit("session:message", { sessionId, message, seq: ++seq, epoch: "e1", cellId });
  socket.on("session:start", (p: { sessionId: string }, ack: (r: { ok: true }) => void) => {
    started.push(p.sessionId);
    ack({ ok: true });
    socket.emit("session:status", { sessionId: p.sessionId, status: "idle" });
  });
  socket.on("session:send", ({ sessionId, message }: { sessionId: string; message: JupyterMessage }) => {
    if (message.header.msg_type !== "execute_request") return;
    const cellId = message.metadata.cellId as string | undefined;
    const code = (message.content as { code: string }).code;
    ran.push(code);
    const opts = { channel: "iopub" as const, parent: message };
    send(sessionId, makeMessage("status", { execution_state: "busy" }, opts), cellId);
    send(sessionId, makeMessage("stream", { name: "stdout", text: `ran ${code}\n` }, opts), cellId);
    send(
      sessionId,
      makeMessage("execute_reply", { status: "ok", execution_count: 1, user_expressions: {} }, { channel: "shell", parent: message }),
      cellId,
    );
    send(sessionId, makeMessage("status", { execution_state: "idle" }, opts), cellId);
  });
  // A terminal that greets and echoes what is typed into it.
  socket.on("session:terminal", ({ sessionId, request }: { sessionId: string; request: TerminalRequest }) => {
    const data = request.type === "open" ? "hello" : request.type === "input" ? Buffer.from(request.data, "base64").toString() : null;
    if (data !== null)
      socket.emit("session:terminal", { sessionId, event: { type: "output", id: request.id, data: Buffer.from(data).toString("base64") } });
  });
  return { socket, started, ran, connected: () => socket.connected };
}

function page(url: string) {
  const socket = connect(url, { extraHeaders: { authorization: `Bearer ${TOKEN}` }, transports: ["websocket"], forceNew: true });
  clients.push(socket);
  const messages: JupyterMessage[] = [];
  const statuses: string[] = [];
  const terminal: string[] = [];
  socket.on("terminal:event", (p: { event: { type: string; data?: string } }) => {
    if (p.event.type === "output" && p.event.data) terminal.push(Buffer.from(p.event.data, "base64").toString());
  });
  let workers = -1;
  socket.on("kernel:message", (p: { message: JupyterMessage }) => messages.push(p.message));
  socket.on("kernel:status", (p: { status: string }) => statuses.push(p.status));
  socket.on("workers:count", (p: { connected: number }) => {
    workers = p.connected;
  });
  return {
    socket,
    messages,
    statuses,
    terminal,
    workers: () => workers,
    open: (notebookId: string) => socket.timeout(10_000).emitWithAck("notebook:open", { notebookId }),
    run: (notebookId: string, code: string, cellId: string) =>
      socket.timeout(10_000).emitWithAck("kernel:send", {
        notebookId,
        message: makeMessage(
          "execute_request",
          { code, silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: true },
          {
            channel: "shell",
            metadata: { cellId },
          },
        ),
      }),
  };
}

const printed = (p: ReturnType<typeof page>) =>
  p.messages.filter((m) => m.header.msg_type === "stream").map((m) => (m.content as { text: string }).text);

async function startRedis(): Promise<void> {
  redis = spawn("redis-server", ["--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
    stdio: "ignore",
  });
  await until(
    () =>
      new Promise<boolean>((resolve) => {
        const c = net.connect(redisPort, "127.0.0.1", () => resolve(!!c.end()));
        c.on("error", () => resolve(false));
      }),
    "redis-server to listen",
  );
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "cellar-replicas-"));
  mkdirSync(join(dir, "web"));
  redisPort = await freePort();
  redisUrl = `redis://127.0.0.1:${redisPort}`;
  await startRedis();
});

afterEach(async () => {
  for (const c of clients) c.disconnect();
  for (const g of gateways) await g.gateway.close().catch(() => {});
  for (const db of dbs) await db.close().catch(() => {});
  clients = [];
  gateways = [];
  dbs = [];
  cluster++;
});

afterAll(async () => {
  redis?.kill();
  rmSync(dir, { recursive: true, force: true });
});

describe("gateway replicas sharing Redis and a database", () => {
  it("a page on replica A starts a kernel on a worker connected to B, runs a cell and sees its output", async () => {
    const a = await startGateway();
    const b = await startGateway();
    const worker = scriptedWorker(b.url, "w-b");
    await until(() => worker.connected(), "the worker to connect to B");
    const notebook = await a.db.notebooks.create(a.db.localUserId, "across");

    const browser = page(a.url);
    await until(() => browser.workers() === 1, "replica A to count B's worker");
    const opened = await browser.open(notebook.id);
    expect(opened).toMatchObject({ ok: true });
    await until(() => worker.started.length === 1, "B's worker to be asked to start the kernel");
    await until(() => browser.statuses.includes("idle"), "the kernel's idle to reach the page on A");

    expect(await browser.run(notebook.id, "1 + 1", "cell-1")).toEqual({ ok: true });
    await until(() => printed(browser).includes("ran 1 + 1\n"), "the output to reach the page on A");
    // The kernel's row names B's worker; the outputs were recorded by B, the replica that relays it.
    expect(await a.db.kernels.get(notebook.id)).toMatchObject({ workerId: "w-b" });

    // A second page, on B, opens the same notebook: the same kernel, and it sees A's next run.
    const other = page(b.url);
    await until(() => other.socket.connected, "the page on B to connect");
    await other.open(notebook.id);
    expect(await browser.run(notebook.id, "2 + 2", "cell-1")).toEqual({ ok: true });
    await until(() => printed(other).includes("ran 2 + 2\n"), "A's run to show on the page on B");
    await until(() => printed(browser).includes("ran 2 + 2\n"), "and on A");
    expect(worker.started).toHaveLength(1);
    expect(printed(browser).filter((t) => t === "ran 2 + 2\n")).toHaveLength(1);
  }, 30_000);

  it("when the worker's replica dies and the worker redials another, that one adopts the kernel and the page goes on", async () => {
    const a = await startGateway();
    const b = await startGateway();
    const before = scriptedWorker(b.url, "w1");
    await until(() => before.connected(), "the worker to connect to B");
    const notebook = await a.db.notebooks.create(a.db.localUserId, "failover");
    const browser = page(a.url);
    await browser.open(notebook.id);
    await until(() => browser.statuses.includes("idle"), "the kernel to start on B's worker");
    await browser.run(notebook.id, "x = 1", "cell-1");
    await until(() => printed(browser).includes("ran x = 1\n"), "the first run's output");
    const sessionId = before.started[0];

    await b.gateway.close();
    // The same worker process, redialled to A with the kernel it still runs.
    const after = scriptedWorker(a.url, "w1", [{ sessionId, notebookId: notebook.id, status: "idle" }]);
    await until(() => after.connected(), "the worker to connect to A");
    await until(
      async () => (await a.db.kernels.get(notebook.id))?.workerId === "w1" && browser.statuses.at(-1) === "idle",
      "A to adopt the kernel",
    );
    expect(await browser.run(notebook.id, "print(x)", "cell-2")).toEqual({ ok: true });
    await until(() => printed(browser).includes("ran print(x)\n"), "the run after the failover");
    // Adopted, not started again: the kernel's variables are where they were.
    expect(after.started).toEqual([]);
    expect(after.ran).toEqual(["print(x)"]);
    expect(await a.db.kernels.get(notebook.id)).toMatchObject({ sessionId, workerId: "w1" });
  }, 30_000);

  it("places kernels on the least-loaded worker of the whole cluster, whichever replica the page is on", async () => {
    const a = await startGateway();
    const b = await startGateway();
    const onA = scriptedWorker(a.url, "wa");
    const onB = scriptedWorker(b.url, "wb");
    await until(() => onA.connected() && onB.connected(), "both workers to connect");
    const browser = page(a.url);
    await until(() => browser.workers() === 2, "replica A to count both workers");
    for (let i = 0; i < 4; i++) {
      const notebook = await a.db.notebooks.create(a.db.localUserId, `n${i}`);
      expect(await browser.open(notebook.id)).toMatchObject({ ok: true });
      await until(() => onA.started.length + onB.started.length === i + 1, `kernel ${i + 1} to start`);
    }
    expect([onA.started.length, onB.started.length]).toEqual([2, 2]);
  }, 30_000);

  it("a terminal opened through replica A on a kernel whose worker is on B shows its output on A", async () => {
    const a = await startGateway();
    const b = await startGateway();
    const worker = scriptedWorker(b.url, "w1");
    await until(() => worker.connected(), "the worker to connect to B");
    const notebook = await a.db.notebooks.create(a.db.localUserId, "terminal");
    const browser = page(a.url);
    await browser.open(notebook.id);
    await until(() => browser.statuses.includes("idle"), "the kernel to start on B's worker");
    const opened = await browser.socket.timeout(10_000).emitWithAck("terminal:open", { notebookId: notebook.id, cols: 80, rows: 24 });
    expect(opened).toMatchObject({ ok: true });
    await until(() => browser.terminal.includes("hello"), "the terminal's greeting on A");
    browser.socket.emit("terminal:input", {
      notebookId: notebook.id,
      terminalId: opened.terminalId,
      data: Buffer.from("ls").toString("base64"),
    });
    await until(() => browser.terminal.includes("ls"), "the echo of what was typed");
  }, 30_000);

  it("while Redis is down a replica says so at once for kernels it does not run, and works again once Redis is back", async () => {
    const a = await startGateway();
    const b = await startGateway();
    const worker = scriptedWorker(b.url, "w1");
    await until(() => worker.connected(), "the worker to connect to B");
    const notebook = await a.db.notebooks.create(a.db.localUserId, "redis");
    const browser = page(a.url);
    await browser.open(notebook.id);
    await until(() => browser.statuses.includes("idle"), "the kernel to start on B's worker");

    redis.kill("SIGKILL");
    await until(
      async () => (await fetch(`${a.url}/api/ready`, { headers: { authorization: `Bearer ${TOKEN}` } })).status === 503,
      "A's readiness to fail",
    );
    const started = Date.now();
    expect(await browser.run(notebook.id, "1", "cell-1")).toEqual({
      ok: false,
      error: expect.stringMatching(/replicas cannot be reached/),
    });
    expect(Date.now() - started).toBeLessThan(5_000);

    await startRedis();
    await until(
      async () => (await fetch(`${a.url}/api/ready`, { headers: { authorization: `Bearer ${TOKEN}` } })).status === 200,
      "A to reconnect to Redis",
      20_000,
    );
    expect(await browser.run(notebook.id, "2", "cell-1")).toEqual({ ok: true });
    await until(() => printed(browser).includes("ran 2\n"), "the output once Redis is back");
  }, 60_000);
});
