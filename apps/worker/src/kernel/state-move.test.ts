// Integration test of a state move between two workers (issue 15): two SessionManagers with their
// own homes (two workers' disks), one CAS over HTTP, real kernels in real runsc sandboxes on the
// base image. Export on the first, start a kernel on the second with the stored workspace, import
// there. Needs root and the base image with dill (scripts/build-base-image.sh); fails, not skips,
// without them.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BlobFetcher, createBlobHandler, LocalDirStore } from "@cellar/fs-client";
import type { JupyterMessage, StartSession } from "@cellar/protocol";
import { layOutWorkspace, storeWorkspace } from "../files/workspace-transfer";
import { reapOrphanSandboxes, startKernelSandbox } from "../sandbox/kernel-sandbox";
import { execute } from "../testing/kernel-run";
import { MoveFiles } from "./move-files";
import { startMoveServer } from "./move-server";
import { SessionManager } from "./session-manager";
import { SuspendedKernels } from "./suspended-kernels";

const IMAGE = process.env.CELLAR_BASE_IMAGE ?? path.join(process.env.CELLAR_CACHE ?? "/var/cache/cellar", "images/base/rootfs");
const LIMITS = { memoryBytes: 2 * 1024 ** 3, pids: 256 };
const TOKEN = "Bearer state-move-test";
const RUN_ID = randomBytes(3).toString("hex");
const NOTEBOOK = `nb-${RUN_ID}`;
const TOKEN_OF_MOVE = `token-${RUN_ID}-0123456789`;

let work: string;
let server: Server;
let fetcher: BlobFetcher;
const workers: Array<{ sessions: SessionManager; stateRoot: string }> = [];

/** One worker: its own home and sessions, the shared CAS; cold boots (no snapshots, no pool). */
function worker(name: string) {
  const home = path.join(work, name);
  const stateRoot = path.join(home, "run");
  const listeners = new Map<string, Set<(m: JupyterMessage) => void>>();
  const moves = new MoveFiles(home, { uid: 1000, gid: 1000 });
  const sessions = new SessionManager({
    config: { home, stateRoot, platform: "ptrace", warmSnapshots: false, suspendAfterMs: 0 },
    images: { attach: async () => IMAGE },
    snapshots: { prefetch: async () => false },
    pool: () => {
      throw new Error("no pool in this test");
    },
    suspendedKernels: new SuspendedKernels({
      dir: path.join(home, "suspended"),
      remote: fetcher,
      log: (l) => console.log(`[${name}] ${l}`),
    }),
    workspaces: { store: (dir) => storeWorkspace(dir, fetcher), layOut: (id, dir) => layOutWorkspace(id, dir, fetcher) },
    moves,
    events: (sessionId) => ({
      onMessage: (m) => {
        for (const l of listeners.get(sessionId) ?? []) l(m);
      },
      onStatus: () => {},
    }),
    coldBoot: startKernelSandbox,
    log: (l) => console.log(`[${name}] ${l}`),
  });
  const w = {
    home,
    stateRoot,
    sessions,
    moves,
    workspace: path.join(home, "workspaces", NOTEBOOK),
    start: (sessionId: string, extra: Partial<StartSession> = {}) =>
      sessions.start({ sessionId, notebookId: NOTEBOOK, image: "base", imageId: "i".repeat(64), limits: LIMITS, ...extra }),
    /** Runs a cell; resolves with its stdout and errors, and its execution count. */
    async run(sessionId: string, code: string, timeoutMs = 120_000) {
      const link = {
        send: (m: JupyterMessage) => sessions.get(sessionId)!.send(m),
        on: (_: "message", l: (m: JupyterMessage) => void) => {
          if (!listeners.has(sessionId)) listeners.set(sessionId, new Set());
          listeners.get(sessionId)!.add(l);
        },
      };
      const r = await execute(link, code, { timeoutMs });
      return { text: r.text(), count: r.reply.content.execution_count as number };
    },
  };
  workers.push(w);
  return w;
}

beforeAll(async () => {
  if (!existsSync(path.join(IMAGE, "usr/bin/python3"))) throw new Error(`base image missing at ${IMAGE}: run scripts/build-base-image.sh`);
  if (!existsSync(path.join(IMAGE, "usr/lib/python3/dist-packages/dill")))
    throw new Error(`the base image at ${IMAGE} has no dill: rebuild it (scripts/build-base-image.sh)`);
  work = await mkdtemp(path.join(tmpdir(), "cellar-state-move-test-"));
  const authorize = (req: { headers: { authorization?: string } }) => req.headers.authorization === TOKEN;
  const handle = createBlobHandler(new LocalDirStore(path.join(work, "cas")), { authorize, authorizeWrite: authorize });
  server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  fetcher = new BlobFetcher({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, authorization: TOKEN });
});

afterAll(async () => {
  for (const w of workers) {
    await w.sessions.dropAll().catch(() => {});
    await reapOrphanSandboxes(w.stateRoot).catch(() => {});
  }
  fetcher?.close();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  if (work) await rm(work, { recursive: true, force: true });
});

describe("moving a kernel's state to a kernel on another worker (real runsc)", () => {
  it("carries arrays, notebook classes, module aliases and the workspace's files; names a socket that could not move", async () => {
    const a = worker("worker-a");
    const b = worker("worker-b");
    const from = `t${RUN_ID}-a`;
    const to = `t${RUN_ID}-b`;
    expect(await a.start(from)).toEqual({ ok: true, isolation: "gvisor" });
    const setup = await a.run(
      from,
      [
        "import numpy as np, socket",
        "arr = np.arange(1_000_000, dtype=np.int64)",
        "class Point:",
        "    def __init__(self, x): self.x = x",
        "p = Point(7)",
        "sq = lambda v: v * v",
        "sock = socket.socket()",
        "open('/workspace/result.txt', 'w').write('written on A')",
        "print('ready')",
      ].join("\n"),
    );
    expect(setup.text).toBe("ready\n");

    // Refused while a cell runs, at once: the user's cell is not cut into.
    const sleeping = a.run(from, "import time; time.sleep(2); print('slept')");
    await new Promise((r) => setTimeout(r, 300));
    const busy = await a.sessions.exportState(from, "m-busy");
    expect(busy).toEqual({ ok: false, error: "A cell is running: the kernel's variables can only move while it is idle." });
    expect((await sleeping).text).toBe("slept\n");

    const exported = await a.sessions.exportState(from, `m-${RUN_ID}`, false, TOKEN_OF_MOVE);
    if (!exported.ok) throw new Error(exported.error);
    const names = exported.report.names.map((n) => n.name).sort();
    expect(names).toEqual(["Point", "arr", "p", "sq"]);
    expect(exported.report.names.find((n) => n.name === "arr")?.bytes).toBeGreaterThanOrEqual(8_000_000);
    expect(exported.report.modules).toEqual(
      expect.arrayContaining([
        { name: "np", module: "numpy" },
        { name: "socket", module: "socket" },
      ]),
    );
    expect(exported.report.skipped).toEqual([{ name: "sock", type: "socket.socket", reason: expect.stringContaining("cannot pickle") }]);
    expect(exported.workspace).toMatch(/^[0-9a-f]{64}$/);
    // The move's files are out of the workspace (what the CAS stored is the user's files only),
    // listed for the gateway to carry.
    expect(existsSync(path.join(a.workspace, ".cellar", "moves", `m-${RUN_ID}`))).toBe(false);
    const files = exported.files ?? [];
    expect(files.map((f) => f.name)).toEqual(expect.arrayContaining(["manifest.json", expect.stringMatching(/^\d{5}\.buf$/)]));
    const buf = files.find((f) => f.name.endsWith(".buf"))!;
    expect(buf.size).toBeGreaterThanOrEqual(8_000_000);
    // Neither history nor the execution count saw the export.
    expect((await a.run(from, "print(len(In))")).count).toBe(setup.count + 2);

    // What the other worker had for this notebook is replaced: a file deleted on A goes.
    await mkdir(b.workspace, { recursive: true });
    await writeFile(path.join(b.workspace, "stale.txt"), "left from an earlier session");
    expect(await b.start(to, { workspace: exported.workspace })).toEqual({ ok: true, isolation: "gvisor" });
    // B fetches the move's files from A's move server, with the token A was given (move:fetch).
    const server = await startMoveServer(a.moves, { port: 0, advertiseHost: "127.0.0.1" });
    try {
      expect(await b.moves.fetch(`m-${RUN_ID}`, server.url, TOKEN_OF_MOVE, files)).toBe(files.reduce((n, f) => n + f.size, 0));
    } finally {
      await server.close();
    }
    const imported = await b.sessions.importState(to, `m-${RUN_ID}`);
    if (!imported.ok) throw new Error(imported.error);
    expect(imported.report.failed).toEqual([]);
    expect(imported.report.names.sort()).toEqual(["Point", "arr", "np", "p", "socket", "sq", "time"]);
    const check = await b.run(
      to,
      "print(int(arr.sum()), isinstance(p, Point), p.x, sq(9), open('/workspace/result.txt').read(), 'sock' in dir())",
    );
    expect(check.text).toBe("499999500000 True 7 81 written on A False\n");
    // `arr` sits on a copy-on-write mapping of its file, not read into memory (cellar_mapped.py).
    // runsc will not checkpoint a mapped deleted file: a suspend copies it into memory first.
    expect(imported.report.mapped_bytes).toBeGreaterThanOrEqual(8_000_000);
    const kernel = b.sessions.get(to)!;
    expect(await kernel.suspend()).toBe(true);
    expect(kernel.suspendFailure).toBeNull();
    expect(kernel.state).toBe("suspended");
    const resumed = await b.run(to, "arr[0] = 5\nprint(int(arr.sum()), p.x, sq(3))");
    expect(resumed.text).toBe("499999500005 7 9\n");
    expect(await readdir(b.workspace)).not.toContain("stale.txt");
    expect((await stat(path.join(b.workspace, "result.txt"))).uid).toBe(1000);
    // The import cleaned up after itself; the old worker's copy goes when the gateway says so.
    expect(await readdir(path.join(b.workspace, ".cellar", "moves"))).toEqual([]);
    expect(await readdir(path.join(b.home, "moves", "in"))).toEqual([]);
    expect(await readdir(path.join(a.home, "moves", "out"))).toEqual([`m-${RUN_ID}`]);
    await a.moves.drop(`m-${RUN_ID}`);
    expect(await readdir(path.join(a.home, "moves", "out"))).toEqual([]);
  }, 300_000);
});
