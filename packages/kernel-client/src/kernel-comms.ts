// The comms of one kernel link, by comm_id, and the targets this client offers the kernel, by
// name: the one place that knows which comms exist (as KernelFutures is for requests). Every
// iopub message is offered to `handle`, which opens, feeds and closes comms; the kernel's comm
// messages are handled one after another, each callback awaited, so a widget sees its model's
// open before its updates, in order, even when a callback is async. Transport-agnostic: the link
// says how a message goes out.
import { isComm, type JupyterMessage } from "@cellar/protocol";
import { callback, type CommLink, type CommOpenMsg, KernelComm } from "./kernel-comm";
import type { KernelFuture } from "./kernel-future";

/** Called when the kernel opens a comm to this target (`comm_open`): `comm` is live, and gets
 * the kernel's messages from then on. Awaited before the next comm message is handled. */
export type CommTargetCallback = (comm: KernelComm, msg: CommOpenMsg) => void | PromiseLike<void>;

export class CommExistsError extends Error {
  override name = "CommExistsError";
}

export class KernelComms {
  private readonly comms = new Map<string, KernelComm>();
  private readonly targets = new Map<string, CommTargetCallback>();
  /** The kernel's comm messages, handled in order. */
  private chain: Promise<void> = Promise.resolve();
  private readonly link: CommLink;

  constructor(
    session: string,
    /** Puts a message without a reply on the wire (comm_open, comm_msg, comm_close). */
    send: (msg: JupyterMessage) => KernelFuture<null>,
  ) {
    this.link = {
      session,
      sendCommMessage: send,
      forget: (comm) => {
        if (this.comms.get(comm.commId) === comm) this.comms.delete(comm.commId);
      },
    };
  }

  /** Offers the kernel a target: a `comm_open` naming it calls `callback` (a second register of
   * the name replaces the first). A comm_open for a target nobody registered here is ignored:
   * the kernel's comm stays open for the other pages of the notebook, which may have it. */
  registerCommTarget(targetName: string, callback: CommTargetCallback): void {
    this.targets.set(targetName, callback);
  }

  /** Withdraws a target, if `callback` is still the one registered. */
  removeCommTarget(targetName: string, callback: CommTargetCallback): void {
    if (this.targets.get(targetName) === callback) this.targets.delete(targetName);
  }

  /** A comm to `targetName` in the kernel. Not opened yet: `open()` sends its comm_open; with the
   * `commId` of a comm the kernel already has (from `comm_info_request`), send on it at once
   * instead. Throws a CommExistsError if this client already has a comm of that id. */
  createComm(targetName: string, commId: string = globalThis.crypto.randomUUID()): KernelComm {
    if (this.comms.has(commId)) throw new CommExistsError(`comm ${commId} already exists`);
    const comm = new KernelComm(targetName, commId, this.link);
    this.comms.set(commId, comm);
    return comm;
  }

  hasComm(commId: string): boolean {
    return this.comms.has(commId);
  }

  get size(): number {
    return this.comms.size;
  }

  /** Takes a kernel message; returns whether it was a comm message (then it is handled in turn,
   * after the comm messages before it). */
  handle(msg: JupyterMessage): boolean {
    if (!isComm(msg) || msg.channel !== "iopub") return false;
    this.chain = this.chain.then(() => this.dispatch(msg));
    return true;
  }

  /** Resolves once every comm message handed in so far is handled. */
  settled(): Promise<void> {
    return this.chain;
  }

  /** Disposes every comm (the kernel restarted, died or the link is closing): no onClose, since
   * nothing was closed; the targets stay, for the next kernel. */
  disposeAll(): void {
    for (const comm of [...this.comms.values()]) comm.dispose();
  }

  private async dispatch(msg: JupyterMessage<"comm_open" | "comm_msg" | "comm_close">): Promise<void> {
    const id = msg.content.comm_id;
    if (msg.header.msg_type === "comm_open") {
      const open = msg as CommOpenMsg;
      const target = this.targets.get(open.content.target_name);
      if (!target || this.comms.has(id)) return;
      const comm = this.createComm(open.content.target_name, id);
      // A target that failed has no use for the comm; the kernel's stays (another page may serve it).
      if (!(await callback(`comm target ${open.content.target_name}`, () => target(comm, open)))) comm.dispose();
      return;
    }
    const comm = this.comms.get(id);
    if (!comm) return;
    if (msg.header.msg_type === "comm_msg") {
      const onMsg = comm.onMsg;
      if (onMsg) await callback(`comm ${id} (${comm.targetName}): onMsg`, () => onMsg(msg as JupyterMessage<"comm_msg">));
      return;
    }
    const onClose = comm.onClose;
    comm.dispose();
    if (onClose) await callback(`comm ${id} (${comm.targetName}): onClose`, () => onClose(msg as JupyterMessage<"comm_close">));
  }
}
