// Integration test of suspend and resume: a real kernel in a real runsc sandbox on the base image,
// checkpoints stored in a real CAS over HTTP (fs-client's blob handler on a local directory), as
// the worker runs them. Needs root and the base image (scripts/build-base-image.sh); fails, not
// skips, without them.
import { randomBytes } from "node:crypto";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BlobFetcher, createBlobHandler, LocalDirStore } from "@cellar/fs-client";
import { executeRequest, type JupyterMessage, type SuspendedKernelRef } from "@cellar/protocol";
import { containerIdFor } from "../sandbox/bundle";
import { reapOrphanSandboxes, startKernelSandbox } from "../sandbox/kernel-sandbox";
import { runscList } from "../sandbox/runsc";
import type { WorkerStatus } from "@cellar/protocol";
import { KernelSession } from "./kernel-session";
import { refKeyOf, SuspendedKernels } from "./suspended-kernels";
import { execute } from "../testing/kernel-run";

const IMAGE = process.env.CELLAR_BASE_IMAGE ?? path.join(process.env.CELLAR_CACHE ?? "/var/cache/cellar", "images/base/rootfs");
const LIMITS = { memoryBytes: 2 * 1024 ** 3, pids: 256 };
const TOKEN = "Bearer suspend-test";
const RUN_ID = randomBytes(3).toString("hex");

let work: string;
let stateRoot: string;
let server: Server;
let fetcher: BlobFetcher;
const sessions: KernelSession[] = [];

/** A worker's view of one session: its statuses, and each request's stdout once replied. */
function newSession(sessionId: string, workerDir: string, suspendAfterMs = 0, dir = path.join(work, workerDir)) {
  const statuses: WorkerStatus[] = [];
  let suspended: SuspendedKernelRef | undefined;
  let reason: string | undefined;
  const listeners = new Set<(m: JupyterMessage) => void>();
  const statusWaiters = new Set<() => void>();
  const workspaceDir = path.join(work, "ws", sessionId);
  const store = new SuspendedKernels({ dir, remote: fetcher, log: (l) => console.log(l) });
  const resumeOptions = async () => ({ sessionId, imageRootfs: IMAGE, workspaceDir, stateRoot, limits: LIMITS });
  const session = new KernelSession(
    sessionId,
    {
      onMessage: (m) => {
        for (const l of listeners) l(m);
      },
      onStatus: (st, why, ref) => {
        statuses.push(st);
        if (ref) suspended = ref;
        if (why) reason = why;
        for (const w of statusWaiters) w();
      },
    },
    { suspendAfterMs, suspender: store.for(sessionId, resumeOptions) },
  );
  sessions.push(session);
  const link = { send: (m: JupyterMessage) => session.send(m), on: (_: "message", l: (m: JupyterMessage) => void) => listeners.add(l) };
  return {
    session,
    statuses,
    workspaceDir,
    resumeOptions,
    store,
    get suspended() {
      return suspended;
    },
    get reason() {
      return reason;
    },
    /** Resolves once the session has reported `status`. */
    until(status: WorkerStatus, timeoutMs = 120_000): Promise<void> {
      if (statuses.includes(status)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${status} status; saw ${statuses.join(", ")}`)), timeoutMs);
        const check = () => {
          if (!statuses.includes(status)) return;
          clearTimeout(timer);
          statusWaiters.delete(check);
          resolve();
        };
        statusWaiters.add(check);
      });
    },
    /** Sends a cell; resolves with its stdout (and error text) once it is done. */
    async run(code: string): Promise<string> {
      try {
        return (await execute(link, code, { timeoutMs: 180_000 })).text();
      } catch (error) {
        throw new Error(`${(error as Error).message}; statuses ${statuses.join(", ")}; ${reason ?? ""}`);
      }
    },
  };
}

async function listed(sessionId: string): Promise<boolean> {
  return (await runscList({ stateRoot })).some((c) => c.id === containerIdFor(sessionId));
}

beforeAll(async () => {
  if (!existsSync(path.join(IMAGE, "usr/bin/python3"))) throw new Error(`base image missing at ${IMAGE}: run scripts/build-base-image.sh`);
  work = await mkdtemp(path.join(tmpdir(), "cellar-suspend-test-"));
  stateRoot = path.join(work, "state");
  const authorize = (req: { headers: { authorization?: string } }) => req.headers.authorization === TOKEN;
  const handle = createBlobHandler(new LocalDirStore(path.join(work, "cas")), { authorize, authorizeWrite: authorize });
  server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  fetcher = new BlobFetcher({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, authorization: TOKEN });
});

afterAll(async () => {
  await Promise.all(sessions.map((s) => s.stop().catch(() => {})));
  if (stateRoot) await reapOrphanSandboxes(stateRoot).catch(() => {});
  fetcher?.close();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  if (work) await rm(work, { recursive: true, force: true });
});

describe("suspend and resume of an idle kernel (real runsc)", () => {
  const sessionId = `t${RUN_ID}-susp`;

  it("suspends an idle kernel after the idle timeout, stops its sandbox, and the next cell resumes it with its variables", async () => {
    const s = newSession(sessionId, "worker-a", 2_000);
    await s.session.start(async () => startKernelSandbox({ ...(await s.resumeOptions()) }));
    expect(await s.run("x = 42\nopen('/workspace/note.txt', 'w').write('kept')\nprint('set')")).toBe("set\n");

    await s.until("suspended");
    expect(s.suspended?.checkpoint).toMatch(/^[0-9a-f]{64}$/);
    expect(await listed(sessionId)).toBe(false);
    // The checkpoint goes to the CAS under its own ref after the status, so that any worker can
    // resume it.
    await s.store.settle();
    expect(await fetcher.fetchRef(`suspended-kernel/${refKeyOf(sessionId, s.suspended!.checkpoint)}`)).toMatch(/^[0-9a-f]{64}$/);

    const out = await s.run("print(x, open('/workspace/note.txt').read())");
    expect(out).toBe("42 kept\n");
    expect(s.statuses.slice(s.statuses.indexOf("suspended"))).toEqual(["suspended", "resuming", "idle", "busy", "idle"]);
    expect(await listed(sessionId)).toBe(true);
    await s.session.stop();
  }, 300_000);

  it("a kernel that is busy is not suspended until its cell is done", async () => {
    const s = newSession(`t${RUN_ID}-busy`, "worker-a", 1_000);
    await s.session.start(async () => startKernelSandbox({ ...(await s.resumeOptions()) }));
    expect(await s.run("import time\ntime.sleep(4)\ny = 7\nprint('slept')")).toBe("slept\n");
    expect(s.statuses).not.toContain("suspended");
    await s.until("suspended");
    expect(await s.run("print(y)")).toBe("7\n");
    await s.session.stop();
  }, 300_000);

  it("another worker with an empty disk resumes the kernel from the CAS", async () => {
    const a = newSession(`t${RUN_ID}-move`, "worker-b");
    await a.session.start(async () => startKernelSandbox({ ...(await a.resumeOptions()) }));
    expect(await a.run("import numpy as np\nz = np.arange(5) * 2\nprint(z.sum())")).toBe("20\n");
    expect(await a.session.suspend()).toBe(true);
    expect(await listed(`t${RUN_ID}-move`)).toBe(false);
    const ref = a.suspended!;
    await a.store.settle();
    // worker-b's process goes away (its kernel stays suspended) and its disk is lost.
    a.session.release();
    await rm(path.join(work, "worker-b"), { recursive: true, force: true });

    const b = newSession(`t${RUN_ID}-move`, "worker-c");
    b.session.adoptSuspended(ref);
    expect(await b.run("print(z.tolist())")).toBe("[0, 2, 4, 6, 8]\n");
    expect(b.statuses).toEqual(["resuming", "idle", "busy", "idle"]);
    await b.session.stop();
  }, 300_000);

  it("a checkpoint that cannot be found ends the kernel with a reason, instead of hanging", async () => {
    const s = newSession(`t${RUN_ID}-lost`, "worker-d");
    s.session.adoptSuspended({ checkpoint: "0".repeat(64) });
    s.session.send(executeRequest("print(1)"));
    await s.until("dead");
    expect(s.reason).toMatch(/could not be resumed.*restart the kernel/);
  }, 60_000);

  it("a suspend that runs out of disk fails with the reason, and the kernel runs on with its variables", async () => {
    // A 16 MiB tmpfs: an idle kernel's uncompressed checkpoint is about 80 MB.
    const small = await mkdtemp(path.join(tmpdir(), "cellar-full-disk-"));
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=16m", "tmpfs", small]);
    try {
      const s = newSession(`t${RUN_ID}-full`, "worker-e", 0, small);
      await s.session.start(async () => startKernelSandbox({ ...(await s.resumeOptions()) }));
      expect(await s.run("x = 41\nprint('set')")).toBe("set\n");
      expect(await s.session.suspend()).toBe(false);
      expect(s.session.suspendFailure).toMatch(/no space left on device/);
      expect(s.statuses).not.toContain("suspended");
      expect(await s.run("print(x + 1)")).toBe("42\n");
      expect(s.statuses.at(-1)).toBe("idle");
      await s.session.stop();
    } finally {
      execFileSync("umount", ["-l", small]);
      await rm(small, { recursive: true, force: true });
    }
  }, 120_000);
});
