// One kernel's life on this worker: starting -> idle <-> busy -> dead. Requests that arrive
// while the sandbox boots are queued and sent once it is ready, so a user may run a cell the
// moment the notebook opens.
import type { JupyterMessage, KernelStatus } from "@cellar/protocol";
import type { KernelSandbox } from "../sandbox/kernel-sandbox";

export type WorkerKernelStatus = Extract<KernelStatus, "starting" | "idle" | "busy" | "dead">;

export interface KernelSessionEvents {
  onMessage(msg: JupyterMessage): void;
  onStatus(status: WorkerKernelStatus, reason?: string): void;
}

export class KernelSession {
  private sandbox: KernelSandbox | null = null;
  private queue: JupyterMessage[] = [];
  private _status: WorkerKernelStatus = "starting";
  private stopped = false;

  constructor(readonly sessionId: string, private readonly events: KernelSessionEvents) {}

  get status(): WorkerKernelStatus {
    return this._status;
  }

  /** Boots the sandbox with `boot`; resolves when the kernel is ready, rejects if it cannot start. */
  async start(boot: () => Promise<KernelSandbox>): Promise<void> {
    this.events.onStatus("starting");
    let sandbox: KernelSandbox;
    try {
      sandbox = await boot();
    } catch (err) {
      this.setStatus("dead", `The kernel failed to start: ${(err as Error).message}`);
      throw err;
    }
    if (this.stopped) {
      await sandbox.stop();
      return;
    }
    this.sandbox = sandbox;
    sandbox.on("message", (msg: JupyterMessage) => this.onKernelMessage(msg));
    sandbox.on("exit", (info: { reason: string }) => {
      this.sandbox = null;
      if (!this.stopped) this.setStatus("dead", info.reason);
    });
    this.setStatus("idle");
    for (const msg of this.queue.splice(0)) sandbox.send(msg);
  }

  send(msg: JupyterMessage): void {
    if (this._status === "dead") return;
    if (!this.sandbox) this.queue.push(msg);
    else this.sandbox.send(msg);
  }

  interrupt(): void {
    if (this.queue.length) this.queue = this.queue.filter((m) => m.header.msg_type !== "execute_request");
    this.sandbox?.interrupt();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.queue = [];
    const sandbox = this.sandbox;
    this.sandbox = null;
    if (sandbox) await sandbox.stop();
    this.setStatus("dead", "The kernel was shut down.");
  }

  private onKernelMessage(msg: JupyterMessage): void {
    if (msg.header.msg_type === "status") {
      const state = msg.content?.execution_state;
      if (state === "busy" || state === "idle") this.setStatus(state);
    }
    this.events.onMessage(msg);
  }

  private setStatus(status: WorkerKernelStatus, reason?: string): void {
    if (this._status === status && !reason) return;
    if (this._status === "dead") return;
    this._status = status;
    this.events.onStatus(status, reason);
  }
}
