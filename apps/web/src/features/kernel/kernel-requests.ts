// Requests that are not runs (complete_request, inspect_request), as the editor wants them: a
// clear outcome, never a throw. The kernel client core owns the request itself (its msg id, the
// reply that answers it, the time limit); this adds the page's own check first (an in-process
// kernel answers only between cells, so asking during a run would only wait) and turns the
// reply or the failure into an outcome.
import { KernelFutureError, type KernelFuture, type KernelFutureOptions } from "@cellar/kernel-client";
import type { JupyterMessage } from "@cellar/protocol";

export type RequestFailure = "busy" | "not-running" | "refused" | "timeout";

export type RequestOutcome<C> = { ok: true; content: C } | { ok: false; failure: RequestFailure; message: string };

export interface KernelRequestDeps {
  /** Sends a shell request to the kernel (GatewayKernel.request). */
  request(msgType: `${string}_request`, content: Record<string, unknown>, options: KernelFutureOptions): KernelFuture<JupyterMessage>;
  /** Whether the kernel can answer now: an in-process kernel answers only between cells. */
  availability(): "ready" | "busy" | "not-running";
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;

export class KernelRequests {
  constructor(private readonly deps: KernelRequestDeps) {}

  /** Sends `msgType` with `content` on the shell channel and waits for its reply. */
  async request<C>(msgType: `${string}_request`, content: Record<string, unknown>): Promise<RequestOutcome<C>> {
    const availability = this.deps.availability();
    if (availability === "busy") return failure("busy", "The kernel is busy running a cell.");
    if (availability === "not-running") return failure("not-running", "The kernel is not running.");
    const future = this.deps.request(msgType, content, { timeoutMs: this.deps.timeoutMs ?? DEFAULT_TIMEOUT_MS });
    try {
      // The editor wants the answer as soon as it is in, not the idle status after it.
      const reply = await future.replied;
      const answer = reply.content as { status?: string; evalue?: string };
      return answer.status === "ok"
        ? { ok: true, content: answer as C }
        : failure("refused", answer.evalue || "The kernel could not answer.");
    } catch (error) {
      return failureOf(error);
    }
  }
}

function failureOf(error: unknown): RequestOutcome<never> {
  if (!(error instanceof KernelFutureError)) return failure("refused", String(error));
  switch (error.kind) {
    case "timeout":
      return failure("timeout", "The kernel did not answer in time.");
    case "kernel-lost":
    case "disposed":
      return failure("not-running", "The kernel stopped before answering.");
    case "unanswered":
      return failure("refused", "The gateway did not answer.");
    default:
      return failure("refused", error.message);
  }
}

function failure(kind: RequestFailure, message: string): { ok: false; failure: RequestFailure; message: string } {
  return { ok: false, failure: kind, message };
}
