import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { executeRequest, makeMessage, type JupyterMessage } from "@cellar/protocol";
import { KernelSession } from "./kernel-session";
import type { KernelSandbox } from "../sandbox/kernel-sandbox";

/** Stands in for a sandbox: records what is sent, lets the test make it talk or exit. */
class FakeSandbox extends EventEmitter {
  sent: JupyterMessage[] = [];
  interrupted = 0;
  stopped = false;
  send(m: JupyterMessage) { this.sent.push(m); }
  interrupt() { this.interrupted++; }
  async stop() { this.stopped = true; }
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
    const started = s.start(() => new Promise((r) => { ready = r; }));
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
    await expect(s.start(async () => { throw new Error("image missing"); })).rejects.toThrow("image missing");
    expect(statuses.at(-1)).toEqual(["dead", "The kernel failed to start: image missing"]);
  });

  it("an interrupt drops queued executions and reaches the sandbox", async () => {
    const { s } = session();
    const sandbox = new FakeSandbox();
    let ready!: (v: KernelSandbox) => void;
    const started = s.start(() => new Promise((r) => { ready = r; }));
    s.send(executeRequest("while True: pass"));
    s.interrupt();
    ready(sandbox as unknown as KernelSandbox);
    await started;
    expect(sandbox.sent).toHaveLength(0);
    s.interrupt();
    expect(sandbox.interrupted).toBe(1);
  });
});
