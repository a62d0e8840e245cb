// Real gateways (createGateway) on a real database, for tests that speak to them over socket.io
// as pages and workers do. The worker here is a scripted socket.io client speaking the worker
// protocol (the real worker and sandbox are covered by the e2e suites).
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { io as connect, type Socket } from "socket.io-client";
import * as Y from "yjs";
import { openDatabase, type Database } from "@cellar/db";
import { createGatewaySocket, GatewayKernel } from "@cellar/kernel-client";
import { cellText, DocumentProvider } from "@cellar/notebook-doc";
import {
  makeMessage,
  WORKER_NAMESPACE,
  type JupyterMessage,
  type StartSession,
  type TerminalRequest,
  type WorkerResources,
  type WorkerSessionReport,
} from "@cellar/protocol";
import type { Gateway } from "../gateway";
import { createTestGateway, testGatewayConfig } from "./test-gateway";

export const TOKEN = "test-instance-token";
const SECRET = "test-worker-secret";

export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

export async function until<T>(check: () => T | undefined | false | Promise<T | undefined | false>, what: string, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A redis-server on a free port, for replicas to share. */
export async function startRedis(port?: number): Promise<{ url: string; port: number; process: ChildProcess }> {
  const p = port ?? (await freePort());
  const process = spawn("redis-server", ["--port", String(p), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
    stdio: "ignore",
  });
  await until(
    () =>
      new Promise<boolean>((resolve) => {
        const c = net.connect(p, "127.0.0.1", () => resolve(!!c.end()));
        c.on("error", () => resolve(false));
      }),
    "redis-server to listen",
  );
  return { url: `redis://127.0.0.1:${p}`, port: p, process };
}

export type Page = ReturnType<GatewayHarness["page"]>;
export type ScriptedWorker = ReturnType<GatewayHarness["scriptedWorker"]>;
export type Editor = ReturnType<GatewayHarness["editor"]>;

/** Gateways, pages and workers of one test file; `reset` after each test, `close` after all. */
/** What scripted workers' exports wrote, by workspace id: another scripted worker lays it out. */
const exported = new Map<string, string[]>();

export class GatewayHarness {
  readonly dir = mkdtempSync(join(tmpdir(), "cellar-gateway-test-"));
  private dbs: Database[] = [];
  private gateways: Gateway[] = [];
  private clients: Socket[] = [];
  /** Gateway processes and balancers to stop, editors to end. */
  private processes: Array<() => Promise<void> | void> = [];
  /** Numbers the tests: the replicas of one test share a database. */
  private round = 0;

  constructor() {
    mkdirSync(join(this.dir, "web"));
    mkdirSync(join(this.dir, "output-frame"));
  }

  /** A gateway; those started in one test share a database, and Redis when `redisUrl` is given. */
  async startGateway(
    redisUrl?: string,
    opts: { schedules?: boolean; leaseMs?: number } = {},
  ): Promise<{ gateway: Gateway; url: string; port: number; db: Database }> {
    const dir = this.dir;
    const db = await openDatabase(this.databaseUrl(), { log: () => {} });
    this.dbs.push(db);
    const gateway = createTestGateway({
      db,
      config: testGatewayConfig({ home: dir, redisUrl }),
      token: TOKEN,
      workerSecret: SECRET,
      schedules: opts.schedules,
      leaseMs: opts.leaseMs,
    });
    const { port } = await gateway.listen();
    this.gateways.push(gateway);
    return { gateway, url: `http://127.0.0.1:${port}`, port, db };
  }

  /** A gateway in a process of its own on this test's database (or `databaseUrl`) and Redis,
   * which `kill` stops hard: no graceful close, so nothing pending is stored on the way out
   * (a frozen one too: SIGKILL ends a stopped process).
   * `port` 0: any. `schedules`: its scheduler ticks. */
  async startGatewayProcess(
    redisUrl: string,
    port = 0,
    opts: { databaseUrl?: string; schedules?: boolean; leaseMs?: number } = {},
  ): Promise<{ url: string; port: number; kill(): Promise<void>; freeze(): void; thaw(): void }> {
    const script = fileURLToPath(new URL("./gateway-process.ts", import.meta.url));
    const args = [
      opts.databaseUrl ?? this.databaseUrl(),
      this.dir,
      String(port),
      redisUrl,
      TOKEN,
      SECRET,
      opts.schedules ? `schedules${opts.leaseMs ? `:${opts.leaseMs}` : ""}` : "",
    ];
    const child = spawn(process.execPath, ["--import", "tsx", script, ...args], { stdio: ["ignore", "pipe", "inherit"] });
    const kill = async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGKILL");
      await exited;
    };
    this.processes.push(kill);
    const listening = await new Promise<number>((resolve, reject) => {
      child.once("exit", (code) => reject(new Error(`the gateway process exited (${code}) before it was ready`)));
      let out = "";
      child.stdout!.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        const ready = /ready (\d+)/.exec(out);
        if (ready) resolve(Number(ready[1]));
      });
    });
    return {
      url: `http://127.0.0.1:${listening}`,
      port: listening,
      kill,
      /** SIGSTOP: alive but silent (no renewals, no replies), as a gateway stalled by its host. */
      freeze: () => void child.kill("SIGSTOP"),
      thaw: () => void child.kill("SIGCONT"),
    };
  }

  /** A plain TCP load balancer: each connection goes to the first of `ports()` that accepts it,
   * as a balancer's health check would pick, so a page's socket redials to a live replica. */
  async balancer(ports: () => number[]): Promise<string> {
    const server = net.createServer((incoming) => {
      incoming.pause();
      const tryPort = (left: number[]) => {
        const [port, ...rest] = left;
        if (port === undefined) return incoming.destroy();
        const outgoing = net.connect(port, "127.0.0.1");
        outgoing.once("error", () => tryPort(rest));
        outgoing.once("connect", () => {
          outgoing.removeAllListeners("error");
          incoming.pipe(outgoing).pipe(incoming);
          incoming.resume();
          const end = () => {
            incoming.destroy();
            outgoing.destroy();
          };
          incoming.on("error", end).on("close", end);
          outgoing.on("error", end).on("close", end);
        });
      };
      tryPort(ports());
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    this.processes.push(() => new Promise((r) => server.close(() => r())));
    return `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  }

  /** A page editing one notebook live, as the web's does: the kernel client opens the notebook
   * (again after every reconnect, wherever the socket lands) and the document provider then
   * syncs; what is typed while disconnected stays in its doc and merges on the next sync. */
  editor(url: string, notebookId: string) {
    const socket = createGatewaySocket({ url, token: TOKEN });
    const kernel = new GatewayKernel(socket, notebookId);
    const doc = new Y.Doc();
    const provider = new DocumentProvider(socket, notebookId, doc);
    let opens = 0;
    kernel.on("open", () => {
      opens++;
      provider.start();
    });
    this.clients.push(socket);
    this.processes.push(() => {
      provider.destroy();
      kernel.dispose();
    });
    return {
      socket,
      doc,
      provider,
      /** How often the notebook was opened (1 + the reconnects). */
      opens: () => opens,
      text: (cellId: string) => cellText(doc, cellId)?.toString(),
      /** Types `chars` at the end of the cell. */
      type: (cellId: string, chars: string) => {
        const text = cellText(doc, cellId)!;
        text.insert(text.length, chars);
      },
    };
  }

  /** A worker that runs every cell by printing its code back. `replyAfterMs`: each cell is
   * answered that long after it is sent (a cell still running). `resources`: what it offers (a
   * CPU by default). A cell `NAME = …` binds NAME in its session's namespace, which the state
   * move's export and import carry (names starting with "sock" cannot move). */
  scriptedWorker(
    url: string,
    workerId: string,
    sessions: WorkerSessionReport[] = [],
    opts: {
      replyAfterMs?: number;
      resources?: WorkerResources;
      /** Announced as its move server; absent, the gateway must carry its moves' files. */
      moveUrl?: string;
      /** What the move's one file holds (`00000.buf`); none by default. */
      moveBytes?: Buffer;
      /** A `move:fetch` to this worker fails with this reason. */
      fetchFails?: string;
      /** A `move:fetch` to this worker is never answered (a worker that hangs or dies meanwhile). */
      fetchHangs?: boolean;
    } = {},
  ) {
    const socket = connect(`${url}${WORKER_NAMESPACE}`, {
      auth: {
        secret: SECRET,
        workerId,
        resources: opts.resources ?? { cpus: 1, memoryBytes: 1, gpus: [], labels: {} },
        sessions,
        ...(opts.moveUrl ? { moveUrl: opts.moveUrl } : {}),
      },
      transports: ["websocket"],
      forceNew: true,
    });
    this.clients.push(socket);
    const started: string[] = [];
    const starts: StartSession[] = [];
    const stopped: string[] = [];
    const ran: string[] = [];
    /** Each session's bound names, and what exports left for imports (by move id). */
    const namespaces = new Map<string, Set<string>>();
    const moves: Array<{ event: "export" | "import"; sessionId: string; moveId: string }> = [];
    /** The move:* events it got, in order, and the bytes the gateway wrote here by offset. */
    const moveFiles: Array<{ event: "fetch" | "read" | "write" | "drop"; moveId: string; url?: string }> = [];
    const written = new Map<number, Buffer>();
    const received: JupyterMessage[] = [];
    let seq = 0;
    const send = (sessionId: string, message: JupyterMessage, cellId?: string) =>
      socket.emit("session:message", { sessionId, message, seq: ++seq, epoch: "e1", cellId });
    socket.on("session:start", (p: StartSession, ack: (r: { ok: true }) => void) => {
      started.push(p.sessionId);
      starts.push(p);
      namespaces.set(p.sessionId, new Set(p.workspace ? (exported.get(p.workspace) ?? []) : []));
      ack({ ok: true });
      socket.emit("session:status", { sessionId: p.sessionId, status: "idle" });
    });
    socket.on("session:send", ({ sessionId, message }: { sessionId: string; message: JupyterMessage }) => {
      received.push(message);
      if (message.header.msg_type !== "execute_request") return;
      const cellId = message.metadata.cellId as string | undefined;
      const code = (message.content as { code: string }).code;
      ran.push(code);
      for (const m of code.matchAll(/^\s*([A-Za-z_]\w*)\s*=/gm)) namespaces.get(sessionId)?.add(m[1]);
      if (opts.replyAfterMs) {
        setTimeout(() => answer(sessionId, message, cellId, code), opts.replyAfterMs).unref();
        return;
      }
      answer(sessionId, message, cellId, code);
    });
    const answer = (sessionId: string, message: JupyterMessage, cellId: string | undefined, code: string) => {
      const opts = { channel: "iopub" as const, parent: message };
      send(sessionId, makeMessage("status", { execution_state: "busy" }, opts), cellId);
      send(sessionId, makeMessage("stream", { name: "stdout", text: `ran ${code}\n` }, opts), cellId);
      send(
        sessionId,
        makeMessage("execute_reply", { status: "ok", execution_count: 1, user_expressions: {} }, { channel: "shell", parent: message }),
        cellId,
      );
      send(sessionId, makeMessage("status", { execution_state: "idle" }, opts), cellId);
    };
    socket.on("session:stop", (p: { sessionId: string }, ack: (r: { ok: true }) => void) => {
      stopped.push(p.sessionId);
      ack({ ok: true });
    });
    socket.on("session:export-state", (p: { sessionId: string; moveId: string }, ack: (r: unknown) => void) => {
      moves.push({ event: "export", ...p });
      const names = [...(namespaces.get(p.sessionId) ?? [])];
      const movable = names.filter((n) => !n.startsWith("sock"));
      const workspace = `ws-${p.moveId}`;
      exported.set(workspace, movable);
      ack({
        ok: true,
        workspace,
        ...(opts.moveBytes ? { files: [{ name: "00000.buf", size: opts.moveBytes.length }] } : {}),
        report: {
          names: movable.map((name) => ({ name, type: "builtins.int", bytes: 28 })),
          skipped: names
            .filter((n) => n.startsWith("sock"))
            .map((name) => ({ name, type: "socket.socket", reason: "cannot pickle 'socket' object" })),
          modules: [],
          bytes: movable.length * 28,
          seconds: 0.01,
        },
      });
    });
    socket.on("session:import-state", (p: { sessionId: string; moveId: string }, ack: (r: unknown) => void) => {
      moves.push({ event: "import", ...p });
      ack({ ok: true, report: { names: [...(namespaces.get(p.sessionId) ?? [])], failed: [], seconds: 0.01 } });
    });
    socket.on("move:fetch", (p: { moveId: string; url: string }, ack: (r: unknown) => void) => {
      moveFiles.push({ event: "fetch", moveId: p.moveId, url: p.url });
      if (opts.fetchHangs) return;
      ack(opts.fetchFails ? { ok: false, error: opts.fetchFails } : { ok: true, bytes: 0 });
    });
    socket.on("move:read", (p: { moveId: string; offset: number; length: number }, ack: (r: unknown) => void) => {
      moveFiles.push({ event: "read", moveId: p.moveId });
      ack({ ok: true, data: (opts.moveBytes ?? Buffer.alloc(0)).subarray(p.offset, p.offset + p.length) });
    });
    socket.on("move:write", (p: { moveId: string; offset: number; data: Uint8Array }, ack: (r: unknown) => void) => {
      moveFiles.push({ event: "write", moveId: p.moveId });
      written.set(p.offset, Buffer.from(p.data));
      ack({ ok: true });
    });
    socket.on("move:drop", (p: { moveId: string }, ack: (r: unknown) => void) => {
      moveFiles.push({ event: "drop", moveId: p.moveId });
      ack({ ok: true });
    });
    // A terminal that greets and echoes what is typed into it.
    socket.on("session:terminal", ({ sessionId, request }: { sessionId: string; request: TerminalRequest }) => {
      const data = request.type === "open" ? "hello" : request.type === "input" ? Buffer.from(request.data, "base64").toString() : null;
      if (data !== null)
        socket.emit("session:terminal", {
          sessionId,
          event: { type: "output", id: request.id, data: Buffer.from(data).toString("base64") },
        });
    });
    return {
      socket,
      started,
      starts,
      stopped,
      ran,
      received,
      moves,
      moveFiles,
      namespaces,
      /** The bytes the gateway wrote here, in offset order. */
      writtenBytes: () => Buffer.concat([...written.entries()].sort((a, b) => a[0] - b[0]).map(([, b]) => b)),
      connected: () => socket.connected,
    };
  }

  /** A browser page; `headers` sign it in (the instance token, the owner's, by default), and a
   * signed-out page's `auth` may carry a share link. */
  page(url: string, headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` }, auth?: Record<string, string>) {
    const socket = connect(url, { extraHeaders: headers, auth, transports: ["websocket"], forceNew: true });
    this.clients.push(socket);
    const messages: JupyterMessage[] = [];
    const statuses: string[] = [];
    const terminal: string[] = [];
    const events: Array<{ event: string; payload: unknown }> = [];
    socket.on("terminal:event", (p: { event: { type: string; data?: string } }) => {
      if (p.event.type === "output" && p.event.data) terminal.push(Buffer.from(p.event.data, "base64").toString());
    });
    let workers = -1;
    let refused: string | null = null;
    socket.on("connect_error", (e: Error) => {
      refused = e.message;
    });
    socket.on("kernel:message", (p: { message: JupyterMessage }) => messages.push(p.message));
    socket.on("kernel:status", (p: { status: string }) => statuses.push(p.status));
    socket.on("workers:count", (p: { connected: number }) => {
      workers = p.connected;
    });
    socket.onAny((event: string, payload: unknown) => events.push({ event, payload }));
    return {
      socket,
      messages,
      statuses,
      terminal,
      /** Every event the gateway sent, in order. */
      events,
      workers: () => workers,
      /** Why the gateway refused the connection, if it did. */
      refused: () => refused,
      open: (notebookId: string, link?: string) => socket.timeout(10_000).emitWithAck("notebook:open", { notebookId, link }),
      run: (notebookId: string, code: string, cellId: string) =>
        socket.timeout(10_000).emitWithAck("kernel:send", {
          notebookId,
          message: makeMessage(
            "execute_request",
            { code, silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: true },
            { channel: "shell", metadata: { cellId } },
          ),
        }),
      printed: () => messages.filter((m) => m.header.msg_type === "stream").map((m) => (m.content as { text: string }).text),
    };
  }

  /** The database this test's gateways share. */
  databaseUrl(): string {
    return `file:${join(this.dir, `db-${this.round}.sqlite`)}`;
  }

  /** Ends this test's pages, workers, gateways and databases. */
  async reset(): Promise<void> {
    for (const stop of this.processes.splice(0).reverse()) await stop();
    for (const c of this.clients) c.disconnect();
    for (const g of this.gateways) await g.close().catch(() => {});
    for (const db of this.dbs) await db.close().catch(() => {});
    this.clients = [];
    this.gateways = [];
    this.dbs = [];
    this.round++;
  }

  async close(): Promise<void> {
    await this.reset();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
