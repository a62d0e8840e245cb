// The life of one request that is not a run (complete_request, inspect_request): it owns the
// msg id, matches the kernel's reply by its parent header, and settles with a clear outcome when
// no reply can come (kernel busy or not running, the gateway refused it, or nothing in time).
// Like JupyterLab's future.ts, but for one reply and nothing else.
import { makeMessage, type JupyterMessage } from "@cellar/protocol";

export type RequestFailure = "busy" | "not-running" | "refused" | "timeout";

export type RequestOutcome<C> =
  | { ok: true; content: C }
  | { ok: false; failure: RequestFailure; message: string };

export interface KernelRequestDeps {
  /** Sends the message to the kernel; resolves with the gateway's answer. */
  send(message: JupyterMessage): Promise<{ ok: true } | { ok: false; error: string }>;
  /** Whether the kernel can answer now: an in-process kernel answers only between cells. */
  availability(): "ready" | "busy" | "not-running";
  session: string;
  timeoutMs?: number;
}

interface Pending {
  replyType: string;
  settle(outcome: RequestOutcome<any>): void;
}

const DEFAULT_TIMEOUT_MS = 10_000;

export class KernelRequests {
  private readonly pending = new Map<string, Pending>();

  constructor(private readonly deps: KernelRequestDeps) {}

  /** Sends `msgType` with `content` on the shell channel and waits for the matching reply. */
  request<C>(msgType: `${string}_request`, content: Record<string, unknown>): Promise<RequestOutcome<C>> {
    const availability = this.deps.availability();
    if (availability === "busy") return Promise.resolve(failure("busy", "The kernel is busy running a cell."));
    if (availability === "not-running") return Promise.resolve(failure("not-running", "The kernel is not running."));
    const message = makeMessage(msgType, content, { channel: "shell", session: this.deps.session });
    const msgId = message.header.msg_id;
    return new Promise<RequestOutcome<C>>((resolve) => {
      const timer = setTimeout(
        () => this.settle(msgId, failure("timeout", "The kernel did not answer in time.")),
        this.deps.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      );
      this.pending.set(msgId, {
        replyType: msgType.replace(/_request$/, "_reply"),
        settle: (outcome) => {
          clearTimeout(timer);
          resolve(outcome);
        },
      });
      this.deps.send(message).then(
        (ack) => { if (!ack.ok) this.settle(msgId, failure("refused", ack.error)); },
        () => this.settle(msgId, failure("refused", "The gateway did not answer.")),
      );
    });
  }

  /** Takes the kernel's message if it answers one of ours; returns whether it did. Other messages
   * a request causes (busy/idle status) are left to the caller. */
  receive(message: JupyterMessage): boolean {
    const pending = this.pending.get(message.parent_header?.msg_id ?? "");
    if (!pending || message.header.msg_type !== pending.replyType) return false;
    const content = message.content as { status?: string; evalue?: string };
    this.settle(
      message.parent_header.msg_id!,
      content.status === "ok" ? { ok: true, content } : failure("refused", content.evalue || "The kernel could not answer."),
    );
    return true;
  }

  /** The kernel that took the requests is gone (restart, death, lost connection). */
  abandonAll(): void {
    for (const id of [...this.pending.keys()]) this.settle(id, failure("not-running", "The kernel stopped before answering."));
  }

  private settle(msgId: string, outcome: RequestOutcome<unknown>) {
    const pending = this.pending.get(msgId);
    if (!pending) return;
    this.pending.delete(msgId);
    pending.settle(outcome);
  }
}

function failure(kind: RequestFailure, message: string): { ok: false; failure: RequestFailure; message: string } {
  return { ok: false, failure: kind, message };
}
