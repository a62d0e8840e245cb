// The open requests of one kernel link, by msg_id. Every message a kernel sends is handed to
// `route`, which gives it to the request it answers: this is the one place that reads a
// message's parent header to find its request.
import type { JupyterMessage } from "@cellar/protocol";
import { KernelFuture, KernelFutureError, type KernelFutureFailure, type KernelFutureOptions } from "./kernel-future";

/** Puts a message on the wire. A throw or a rejection fails the request it carries (a
 * KernelFutureError keeps its kind; anything else counts as "refused"). */
export type SendMessage = (msg: JupyterMessage) => void | Promise<void>;

/** The msg_id of the request a kernel message answers or was caused by, if any. */
export function parentIdOf(msg: JupyterMessage): string | undefined {
  return msg.parent_header?.msg_id || undefined;
}

export class KernelFutures {
  private readonly open = new Map<string, KernelFuture<any>>();

  constructor(private readonly send: SendMessage) {}

  /** Sends `msg` and returns the future that follows it to the end. */
  request<Reply extends JupyterMessage | null = JupyterMessage>(
    msg: JupyterMessage,
    options: KernelFutureOptions = {},
  ): KernelFuture<Reply> {
    const future = this.add(new KernelFuture<Reply>(msg, options));
    let sent: void | Promise<void>;
    try {
      sent = this.send(msg);
    } catch (error) {
      failWith(future, error);
      return future;
    }
    if (sent) sent.catch((error: unknown) => failWith(future, error));
    return future;
  }

  /** Follows a request sent some other way. */
  add<F extends KernelFuture<any>>(future: F): F {
    this.open.get(future.msgId)?.dispose();
    this.open.set(future.msgId, future);
    future.whenSettled(() => {
      if (this.open.get(future.msgId) === future) this.open.delete(future.msgId);
    });
    return future;
  }

  /** Hands a kernel message to the open request it belongs to; returns that request, or
   * undefined when none is open here (another client's request, or one already done). */
  route(msg: JupyterMessage): KernelFuture<any> | undefined {
    const id = parentIdOf(msg);
    const future = id === undefined ? undefined : this.open.get(id);
    future?.handle(msg);
    return future;
  }

  get(msgId: string): KernelFuture<any> | undefined {
    return this.open.get(msgId);
  }

  get size(): number {
    return this.open.size;
  }

  /** Ends every open request: the kernel that took them is gone, or the link is closing. */
  failAll(kind: KernelFutureFailure, message: string): void {
    for (const future of [...this.open.values()]) future.fail(kind, message);
  }
}

function failWith(future: KernelFuture<any>, error: unknown) {
  if (error instanceof KernelFutureError) future.fail(error.kind, error.message);
  else future.fail("refused", error instanceof Error ? error.message : String(error));
}

/** Something that carries one kernel's messages both ways, as an event emitter does (a worker's
 * KernelSandbox, or an adapter over a KernelSession's callbacks). */
export interface MessageLink {
  send(msg: JupyterMessage): void;
  on(event: "message", listener: (msg: JupyterMessage) => void): unknown;
  /** A link that can end (a sandbox exiting) fails the requests still open on it. */
  once?(event: "exit", listener: (exit: { reason: string }) => void): unknown;
}

const linked = new WeakMap<MessageLink, KernelFutures>();

/** The registry of a link, made on first use and fed by its "message" events from then on. */
export function futuresFor(link: MessageLink): KernelFutures {
  let futures = linked.get(link);
  if (!futures) {
    const created = new KernelFutures((msg) => link.send(msg));
    link.on("message", (msg) => created.route(msg));
    link.once?.("exit", (exit) => created.failAll("kernel-lost", exit.reason));
    linked.set(link, (futures = created));
  }
  return futures;
}
