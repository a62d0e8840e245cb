import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { executeRequest, makeMessage, type JupyterMessage } from "@cellar/protocol";
import { KernelSession, type KernelSuspender } from "./kernel-session";
import type { KernelSandbox } from "../sandbox/kernel-sandbox";

/** Stands in for a sandbox: records what is sent, lets the test make it talk or exit. */
class FakeSandbox extends EventEmitter {
  sent: JupyterMessage[] = [];
  interrupted = 0;
  stopped = false;
  hasExited = false;
  terminals = Object.assign(new EventEmitter(), { request() {} });
  send(m: JupyterMessage) {
    this.sent.push(m);
  }
  interrupt() {
    this.interrupted++;
  }
  async stop() {
    this.stopped = true;
  }
}

function session() {
  const statuses: Array<[string, string | undefined]> = [];
  const messages: JupyterMessage[] = [];
  const s = new KernelSession("s1", { onMessage: (m) => messages.push(m), onStatus: (st, r) => statuses.push([st, r]) });
  return { s, statuses, messages };
}

describe("KernelSession", () => {
  it("queues requests sent while the sandbox boots and delivers them in order once ready", async () => {
    const { s, statuses } = session();
    const sandbox = new FakeSandbox();
    let ready!: (v: KernelSandbox) => void;
    const started = s.start(
      () =>
        new Promise((r) => {
          ready = r;
        }),
    );
    const a = executeRequest("a = 1");
    const b = executeRequest("print(a)");
    s.send(a);
    s.send(b);
    expect(sandbox.sent).toHaveLength(0);
    ready(sandbox as unknown as KernelSandbox);
    await started;
    expect(sandbox.sent.map((m) => m.content.code)).toEqual(["a = 1", "print(a)"]);
    expect(statuses.map(([st]) => st)).toEqual(["starting", "idle"]);
  });

  it("follows the kernel's busy/idle status and relays its messages", async () => {
    const { s, statuses, messages } = session();
    const sandbox = new FakeSandbox();
    await s.start(async () => sandbox as unknown as KernelSandbox);
    sandbox.emit("message", makeMessage("status", { execution_state: "busy" }, { channel: "iopub" }));
    sandbox.emit("message", makeMessage("status", { execution_state: "idle" }, { channel: "iopub" }));
    expect(statuses.map(([st]) => st)).toEqual(["starting", "idle", "busy", "idle"]);
    expect(messages).toHaveLength(2);
  });

  it("reports dead with the sandbox's reason when the kernel exits", async () => {
    const { s, statuses } = session();
    const sandbox = new FakeSandbox();
    await s.start(async () => sandbox as unknown as KernelSandbox);
    sandbox.emit("exit", { code: 1, signal: null, reason: "The kernel process exited with code 1" });
    expect(s.status).toBe("dead");
    expect(statuses.at(-1)).toEqual(["dead", "The kernel process exited with code 1"]);
  });

  it("reports a failed start as dead with the error", async () => {
    const { s, statuses } = session();
    await expect(
      s.start(async () => {
        throw new Error("image missing");
      }),
    ).rejects.toThrow("image missing");
    expect(statuses.at(-1)).toEqual(["dead", "The kernel failed to start: image missing"]);
  });

  it("an interrupt drops queued executions and reaches the sandbox", async () => {
    const { s } = session();
    const sandbox = new FakeSandbox();
    let ready!: (v: KernelSandbox) => void;
    const started = s.start(
      () =>
        new Promise((r) => {
          ready = r;
        }),
    );
    s.send(executeRequest("while True: pass"));
    s.interrupt();
    ready(sandbox as unknown as KernelSandbox);
    await started;
    expect(sandbox.sent).toHaveLength(0);
    s.interrupt();
    expect(sandbox.interrupted).toBe(1);
  });

  it("a session stopped while it boots ends the sandbox the boot brings, and reports nothing after dead", async () => {
    const { s, statuses } = session();
    const sandbox = new FakeSandbox();
    let ready!: (v: KernelSandbox) => void;
    const started = s.start(
      () =>
        new Promise((r) => {
          ready = r;
        }),
    );
    await s.stop();
    ready(sandbox as unknown as KernelSandbox);
    await started;
    expect(sandbox.stopped).toBe(true);
    sandbox.emit("message", makeMessage("status", { execution_state: "busy" }, { channel: "iopub" }));
    expect(statuses.map(([st]) => st)).toEqual(["starting", "dead"]);
    expect(s.state).toBe("dead");
  });

  it("a session stopped before its start boots nothing", async () => {
    const { s, statuses } = session();
    await s.stop();
    let booted = false;
    await s.start(async () => {
      booted = true;
      return new FakeSandbox() as unknown as KernelSandbox;
    });
    expect(booted).toBe(false);
    expect(statuses).toEqual([["dead", "The kernel was shut down."]]);
  });

  it("only a new session can adopt a suspended kernel", async () => {
    const { s } = session();
    await s.start(async () => new FakeSandbox() as unknown as KernelSandbox);
    expect(() => s.adoptSuspended({ checkpoint: "f".repeat(64) })).toThrow(/idle session cannot adopt/);
  });

  describe("suspend and resume (the checkpointing itself is tested with runsc in suspend-resume.test.ts)", () => {
    /** A suspender whose checkpoint and restore the test completes by hand. */
    function manualSuspender() {
      const calls: string[] = [];
      let finishSuspend!: (err?: Error) => void;
      let finishResume!: (sb: FakeSandbox | Error) => void;
      const suspender: KernelSuspender = {
        suspend: () => {
          calls.push("suspend");
          return new Promise((res, rej) => {
            finishSuspend = (err) => (err ? rej(err) : res({ checkpoint: "f".repeat(64) }));
          });
        },
        resume: () => {
          calls.push("resume");
          return new Promise((res, rej) => {
            finishResume = (sb) => (sb instanceof Error ? rej(sb) : res(sb as unknown as KernelSandbox));
          });
        },
        discard: async () => {
          calls.push("discard");
        },
      };
      return {
        suspender,
        calls,
        finishSuspend: (err?: Error) => finishSuspend(err),
        finishResume: (sb: FakeSandbox | Error) => finishResume(sb),
      };
    }

    function suspendable() {
      const m = manualSuspender();
      const statuses: Array<[string, string | undefined]> = [];
      const s = new KernelSession("s1", { onMessage: () => {}, onStatus: (st, r) => statuses.push([st, r]) }, { suspender: m.suspender });
      return { ...m, s, statuses };
    }
    const tick = () => new Promise((r) => setTimeout(r, 0));

    it("queues requests that arrive while suspending and resumes to deliver them in order", async () => {
      const t = suspendable();
      await t.s.start(async () => new FakeSandbox() as unknown as KernelSandbox);
      const suspended = t.s.suspend();
      await tick();
      t.s.send(executeRequest("a"));
      t.s.send(executeRequest("b"));
      t.finishSuspend();
      expect(await suspended).toBe(true);
      await tick();
      expect(t.calls).toEqual(["suspend", "resume"]);
      const back = new FakeSandbox();
      t.finishResume(back);
      await tick();
      expect(back.sent.map((m) => m.content.code)).toEqual(["a", "b"]);
      expect(t.statuses.map(([st]) => st)).toEqual(["starting", "idle", "suspended", "resuming", "idle"]);
    });

    it("does not suspend while a request awaits its reply", async () => {
      const t = suspendable();
      const sandbox = new FakeSandbox();
      await t.s.start(async () => sandbox as unknown as KernelSandbox);
      const req = makeMessage("complete_request", { code: "x", cursor_pos: 1 });
      t.s.send(req);
      expect(await t.s.suspend()).toBe(false);
      sandbox.emit("message", makeMessage("complete_reply", { status: "ok", matches: [] }, { parent: req }));
      const suspended = t.s.suspend();
      await tick();
      t.finishSuspend();
      expect(await suspended).toBe(true);
    });

    it("waits for a comm message's idle status, since it has no reply, and then suspends", async () => {
      const t = suspendable();
      const sandbox = new FakeSandbox();
      await t.s.start(async () => sandbox as unknown as KernelSandbox);
      const msg = makeMessage("comm_msg", { comm_id: "c1", data: { value: 3 } });
      t.s.send(msg);
      expect(await t.s.suspend()).toBe(false);
      // The handler's echo is no end of it; the kernel's idle after it is.
      sandbox.emit("message", makeMessage("comm_msg", { comm_id: "c1", data: { value: 3 } }, { channel: "iopub", parent: msg }));
      expect(await t.s.suspend()).toBe(false);
      sandbox.emit("message", makeMessage("status", { execution_state: "idle" }, { channel: "iopub", parent: msg }));
      const suspended = t.s.suspend();
      await tick();
      t.finishSuspend();
      expect(await suspended).toBe(true);
    });

    it("keeps running when the checkpoint fails, and delivers what was queued meanwhile", async () => {
      const t = suspendable();
      const sandbox = new FakeSandbox();
      await t.s.start(async () => sandbox as unknown as KernelSandbox);
      const suspended = t.s.suspend();
      await tick();
      t.s.send(executeRequest("a"));
      t.finishSuspend(new Error("endpoint still has waiters"));
      expect(await suspended).toBe(false);
      expect(t.s.status).toBe("idle");
      expect(sandbox.sent.map((m) => m.content.code)).toEqual(["a"]);
    });

    it("ignores the kernel's own busy/idle while it is being checkpointed", async () => {
      const t = suspendable();
      const sandbox = new FakeSandbox();
      await t.s.start(async () => sandbox as unknown as KernelSandbox);
      const suspended = t.s.suspend();
      await tick();
      expect(t.s.state).toBe("suspending");
      expect(t.s.status).toBe("idle");
      sandbox.emit("message", makeMessage("status", { execution_state: "busy" }, { channel: "iopub" }));
      expect(t.s.state).toBe("suspending");
      t.finishSuspend();
      expect(await suspended).toBe(true);
      expect(t.statuses.map(([st]) => st)).toEqual(["starting", "idle", "suspended"]);
    });

    it("a stop while the checkpoint is taken ends the kernel and discards the checkpoint", async () => {
      const t = suspendable();
      await t.s.start(async () => new FakeSandbox() as unknown as KernelSandbox);
      const suspended = t.s.suspend();
      await tick();
      await t.s.stop();
      t.finishSuspend();
      expect(await suspended).toBe(true);
      expect(t.calls).toEqual(["suspend", "discard"]);
      expect(t.statuses.map(([st]) => st)).toEqual(["starting", "idle", "dead"]);
    });

    it("a released session resumes nothing", async () => {
      const t = suspendable();
      t.s.adoptSuspended({ checkpoint: "f".repeat(64) });
      t.s.release();
      t.s.send(executeRequest("a"));
      await tick();
      expect(t.calls).toEqual([]);
      expect(t.statuses).toEqual([]);
    });

    it("a failed resume reports dead with a reason the user can act on", async () => {
      const t = suspendable();
      t.s.adoptSuspended({ checkpoint: "f".repeat(64) });
      t.s.send(executeRequest("a"));
      await tick();
      t.finishResume(new Error("runsc could not restore its checkpoint: exit 128"));
      await tick();
      expect(t.statuses.at(-1)).toEqual([
        "dead",
        expect.stringMatching(
          /could not be resumed, so its variables are lost; restart the kernel\. \(runsc could not restore its checkpoint: exit 128\)/,
        ),
      ]);
    });
  });
});
