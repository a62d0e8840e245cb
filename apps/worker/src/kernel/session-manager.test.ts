import { EventEmitter } from "node:events";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { StartSession, WorkerStatus } from "@cellar/protocol";
import type { KernelSandbox } from "../sandbox/kernel-sandbox";
import type { KernelSuspender } from "./kernel-session";
import { SessionManager, type SessionManagerDeps } from "./session-manager";

/** Stands in for a sandbox: enough for a KernelSession to run and stop it. */
class FakeSandbox extends EventEmitter {
  stopped = false;
  hasExited = false;
  terminals = Object.assign(new EventEmitter(), { request() {} });
  send() {}
  interrupt() {}
  async stop() {
    this.stopped = true;
  }
}

let home: string;
beforeEach(async () => {
  home = await mkdtemp(path.join(tmpdir(), "cellar-sessions-"));
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

const LIMITS = { memoryBytes: 2 * 1024 ** 3, pids: 256 };
const request = (sessionId: string, notebookId = "nb1", extra: Partial<StartSession> = {}): StartSession => ({
  sessionId,
  notebookId,
  image: "base",
  imageId: "i".repeat(64),
  limits: LIMITS,
  ...extra,
});

/** A manager whose image attacher, snapshots, pool and cold boot record what they are asked. */
function manager(opts: { warmSnapshots?: boolean; poolFails?: Error; layOutFails?: Error } = {}) {
  const calls: string[] = [];
  const statuses: Array<[string, WorkerStatus]> = [];
  const sandboxes: FakeSandbox[] = [];
  const boot = () => {
    const sb = new FakeSandbox();
    sandboxes.push(sb);
    return sb as unknown as KernelSandbox;
  };
  const suspender: KernelSuspender = {
    suspend: async () => ({ checkpoint: "f".repeat(64) }),
    resume: async () => boot(),
    discard: async () => {},
  };
  const deps: SessionManagerDeps = {
    config: { home, stateRoot: path.join(home, "runsc"), platform: "ptrace", warmSnapshots: opts.warmSnapshots ?? true, suspendAfterMs: 0 },
    images: {
      attach: async (id, o) => {
        calls.push(`attach ${id.slice(0, 1)} forRestore=${o?.forRestore ?? false}`);
        return "/rootfs";
      },
    },
    snapshots: {
      prefetch: async () => {
        calls.push("prefetch");
        return true;
      },
    },
    pool: () => ({
      start: async (_spec, rootfs, session, { claim = true } = {}) => {
        calls.push(`pool ${session.sessionId} ${rootfs} claim=${claim}`);
        if (opts.poolFails) throw opts.poolFails;
        return { sandbox: boot(), source: "pool", claimMs: 1 };
      },
    }),
    suspendedKernels: { for: () => suspender },
    workspaces: {
      store: async (dir) => {
        calls.push(`store ${path.relative(home, dir)}`);
        return "w".repeat(64);
      },
      layOut: async (id, dir) => {
        calls.push(`layOut ${id.slice(0, 1)} ${path.relative(home, dir)}`);
        if (opts.layOutFails) throw opts.layOutFails;
      },
    },
    events: (sessionId) => ({ onMessage() {}, onStatus: (st) => statuses.push([sessionId, st]) }),
    coldBoot: async (o) => {
      calls.push(`cold ${o.sessionId} ${o.imageRootfs}`);
      return boot();
    },
    log: () => {},
  };
  return { sessions: new SessionManager(deps), calls, statuses, sandboxes };
}

describe("SessionManager.start with a workspace from another worker", () => {
  it("lays the workspace out in the notebook's folder before the kernel starts, pool kernel included", async () => {
    const t = manager();
    expect(await t.sessions.start(request("s1", "nb1", { workspace: "w".repeat(64) }))).toEqual({ ok: true, isolation: "gvisor" });
    expect(t.calls).toEqual(["layOut w workspaces/nb1", "prefetch", "attach i forRestore=true", "pool s1 /rootfs claim=true"]);
  });

  it("fails the start with the reason when the workspace cannot be laid out, and starts no kernel", async () => {
    const t = manager({ layOutFails: new Error("chunk abc is missing") });
    const r = await t.sessions.start(request("s1", "nb1", { workspace: "w".repeat(64) }));
    expect(r).toEqual({ ok: false, error: "The notebook's workspace could not be laid out on this worker: chunk abc is missing" });
    expect(t.calls).toEqual(["layOut w workspaces/nb1"]);
    expect(t.sessions.get("s1")).toBeUndefined();
  });

  it("leaves the folder alone when a live kernel of the notebook already has it mounted here", async () => {
    const t = manager();
    await t.sessions.start(request("s1", "nb1"));
    t.calls.length = 0;
    expect(await t.sessions.start(request("s2", "nb1", { workspace: "w".repeat(64) }))).toEqual({ ok: true, isolation: "gvisor" });
    expect(t.calls.some((c) => c.startsWith("layOut"))).toBe(false);
  });
});

describe("SessionManager state moves", () => {
  it("refuses to export from a kernel this worker does not have", async () => {
    const t = manager();
    expect(await t.sessions.exportState("nope", "m1")).toEqual({ ok: false, error: "No such kernel on this worker." });
    expect(await t.sessions.importState("nope", "m1")).toEqual({ ok: false, error: "No such kernel on this worker." });
  });
});

describe("SessionManager.start", () => {
  it("fetches the warm snapshot before attaching the image for a restore, then takes the kernel from the pool", async () => {
    const t = manager();
    expect(await t.sessions.start(request("s1"))).toEqual({ ok: true, isolation: "gvisor" });
    expect(t.calls).toEqual(["prefetch", "attach i forRestore=true", "pool s1 /rootfs claim=true"]);
    expect(t.statuses).toEqual([
      ["s1", "starting"],
      ["s1", "idle"],
    ]);
    expect((await stat(path.join(home, "workspaces", "nb1"))).isDirectory()).toBe(true);
    expect(t.sessions.get("s1")?.status).toBe("idle");
  });

  it("does not claim a pool kernel while another live session of the notebook holds its workspace", async () => {
    const t = manager();
    await t.sessions.start(request("s1"));
    await t.sessions.start(request("s2"));
    expect(t.calls.at(-1)).toBe("pool s2 /rootfs claim=false");
    await t.sessions.stop("s1");
    await t.sessions.stop("s2");
    await t.sessions.start(request("s3"));
    expect(t.calls.at(-1)).toBe("pool s3 /rootfs claim=true");
  });

  it("boots cold, without snapshots or the pool, when warm snapshots are off", async () => {
    const t = manager({ warmSnapshots: false });
    expect(await t.sessions.start(request("s1"))).toEqual({ ok: true, isolation: "gvisor" });
    expect(t.calls).toEqual(["attach i forRestore=false", "cold s1 /rootfs"]);
  });

  it("adopts a suspended kernel without attaching or booting anything", async () => {
    const t = manager();
    expect(await t.sessions.start(request("s1", "nb1", { resume: { checkpoint: "f".repeat(64) } }))).toEqual({ ok: true });
    expect(t.calls).toEqual([]);
    expect(t.statuses).toEqual([]);
    expect(t.sessions.get("s1")?.state).toBe("suspended");
  });

  it("refuses a session id it already has", async () => {
    const t = manager();
    await t.sessions.start(request("s1"));
    expect(await t.sessions.start(request("s1"))).toEqual({ ok: false, error: "session already exists" });
  });

  it("a start that fails answers why, reports the kernel dead and forgets the session", async () => {
    const t = manager({ poolFails: new Error("runsc restore failed") });
    expect(await t.sessions.start(request("s1"))).toEqual({ ok: false, error: "runsc restore failed" });
    expect(t.statuses.at(-1)).toEqual(["s1", "dead"]);
    expect(t.sessions.get("s1")).toBeUndefined();
  });

  it("counts only live sessions in the memory their sandboxes may use", async () => {
    const t = manager();
    await t.sessions.start(request("s1"));
    await t.sessions.start(request("s2", "nb2"));
    const two = t.sessions.liveSessionsMemory();
    await t.sessions.stop("s2");
    expect(t.sessions.liveSessionsMemory()).toBe(two / 2);
  });

  it("dropAll stops running kernels and only forgets suspended ones", async () => {
    const t = manager();
    await t.sessions.start(request("s1"));
    await t.sessions.start(request("s2", "nb2", { resume: { checkpoint: "f".repeat(64) } }));
    await t.sessions.dropAll();
    expect(t.sandboxes[0].stopped).toBe(true);
    expect(t.statuses.filter(([id]) => id === "s2")).toEqual([]);
    expect(t.sessions.size).toBe(0);
  });

  it("reports the kernels it has, as a gateway that reconnects must adopt them: running and suspended, not stopped", async () => {
    const t = manager();
    await t.sessions.start(request("s1"));
    await t.sessions.start(request("s2", "nb2", { resume: { checkpoint: "f".repeat(64) } }));
    await t.sessions.start(request("s3", "nb3"));
    await t.sessions.stop("s3");
    expect(t.sessions.report()).toEqual([
      { sessionId: "s1", notebookId: "nb1", status: "idle" },
      { sessionId: "s2", notebookId: "nb2", status: "suspended", suspended: { checkpoint: "f".repeat(64) } },
    ]);
  });

  it("suspend says why a kernel that is not idle was not suspended", async () => {
    const t = manager();
    expect(await t.sessions.suspend("nope")).toEqual({ ok: false, error: "No such kernel on this worker." });
    await t.sessions.start(request("s1"));
    t.sandboxes[0].emit("message", {
      header: { msg_type: "status" },
      parent_header: {},
      content: { execution_state: "busy" },
      channel: "iopub",
      metadata: {},
    });
    expect(await t.sessions.suspend("s1")).toEqual({ ok: false, error: "The kernel is busy; only an idle kernel can be suspended." });
  });
});
