// Terminals between browsers and kernel sandboxes. Each terminal belongs to the browser
// connection that opened it (its output goes there only) and to one kernel session: when that
// kernel restarts, dies or is suspended, the terminal ends and its browser is told why.
import { randomUUID } from "node:crypto";
import type { KernelStatus, TerminalEvent, TerminalRequest } from "@cellar/protocol";

/** Where a terminal's events go: the browser connection that opened it. */
export interface TerminalOwner {
  readonly id: string;
  send(notebookId: string, event: TerminalEvent): void;
}

type TerminalSent = { ok: true; sessionId: string } | { ok: false; error: string };
/** Relays a request to the worker holding the notebook's kernel (on another replica, it answers
 * later); says which kernel session got it. */
export type TerminalSend = (notebookId: string, req: TerminalRequest) => TerminalSent | Promise<TerminalSent>;

interface OpenTerminal {
  notebookId: string;
  sessionId: string;
  owner: TerminalOwner;
}

/** Kernel statuses that end the terminals of the kernel, with the words the terminal shows. */
const ENDED_BY: Partial<Record<KernelStatus, string>> = {
  restarting: "kernel restarted",
  dead: "kernel died",
  suspended: "kernel suspended",
  disconnected: "kernel disconnected",
};

export class TerminalRelay {
  private readonly open = new Map<string, OpenTerminal>();

  /** `send` relays a request to the worker holding the notebook's kernel, and `ensureKernel`
   * starts one if the notebook has none (both KernelManager's). */
  constructor(
    private readonly send: TerminalSend,
    private readonly ensureKernel: (notebookId: string) => Promise<unknown> = async () => {},
  ) {}

  async openTerminal(
    owner: TerminalOwner,
    notebookId: string,
    cols: number,
    rows: number,
  ): Promise<{ ok: true; terminalId: string } | { ok: false; error: string }> {
    try {
      await this.ensureKernel(notebookId);
    } catch (error) {
      return { ok: false, error: (error as Error).message };
    }
    const terminalId = randomUUID();
    const sent = await this.trySend(notebookId, { type: "open", id: terminalId, cols, rows });
    if (!sent.ok) return sent;
    this.open.set(terminalId, { notebookId, sessionId: sent.sessionId, owner });
    return { ok: true, terminalId };
  }

  /** Input, resize or close from the terminal's own browser connection; others are ignored. */
  forward(owner: TerminalOwner, notebookId: string, req: Exclude<TerminalRequest, { type: "open" }>): void {
    const t = this.open.get(req.id);
    if (!t || t.owner.id !== owner.id || t.notebookId !== notebookId) return;
    void this.trySend(notebookId, req).then((sent) => {
      // The notebook's kernel is another one by now: this terminal's shell is gone with the old one.
      if (!sent.ok || sent.sessionId !== t.sessionId) this.end(req.id, sent.ok ? "kernel restarted" : sent.error);
    });
  }

  /** An event from the worker holding `sessionId`. False when no terminal here is its (it may be
   * open through another replica). */
  onWorkerEvent(sessionId: string, event: TerminalEvent): boolean {
    const t = this.open.get(event.id);
    if (!t || t.sessionId !== sessionId) return false;
    if (event.type === "exit") this.open.delete(event.id);
    t.owner.send(t.notebookId, event);
    return true;
  }

  onKernelStatus(notebookId: string, status: KernelStatus): void {
    const reason = ENDED_BY[status];
    if (!reason) return;
    for (const [id, t] of this.open) if (t.notebookId === notebookId) this.end(id, reason);
  }

  /** The browser connection went away: nobody can see its shells any more, so they are hung up. */
  onOwnerGone(owner: TerminalOwner): void {
    for (const [id, t] of this.open) {
      if (t.owner.id !== owner.id) continue;
      this.open.delete(id);
      void this.trySend(t.notebookId, { type: "close", id });
    }
  }

  /** `send`, with a failure (the kernel's replica unreachable) as an answer rather than a throw. */
  private async trySend(notebookId: string, req: TerminalRequest): Promise<TerminalSent> {
    try {
      return await this.send(notebookId, req);
    } catch (error) {
      return { ok: false, error: (error as Error).message };
    }
  }

  private end(id: string, reason: string): void {
    const t = this.open.get(id);
    if (!t) return;
    this.open.delete(id);
    t.owner.send(t.notebookId, { type: "exit", id, reason });
  }
}
