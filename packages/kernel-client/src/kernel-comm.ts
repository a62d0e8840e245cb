// One comm: a channel between an object in this client and one in the kernel (an ipywidget's
// view and its model), in either direction, named by its comm_id
// (https://jupyter-client.readthedocs.io/en/stable/messaging.html#custom-messages). Modelled on
// JupyterLab services' CommHandler: `open`, `send` and `close` put a shell message on the wire and
// return its future; what the kernel sends arrives through `onMsg` and `onClose`, handed over by
// the kernel's registry (KernelComms), which alone knows which comms exist.
import { makeMessage, type JupyterMessage } from "@cellar/protocol";
import type { KernelFuture } from "./kernel-future";

/** A comm's payload: a JSON object (a widget's state, a method call). */
export type CommData = Record<string, unknown>;
/** A binary part of a comm message, as the caller has it (a widget's image bytes). */
export type CommBuffer = ArrayBuffer | ArrayBufferView;

export type CommMsg = JupyterMessage<"comm_msg">;
export type CommOpenMsg = JupyterMessage<"comm_open">;
export type CommCloseMsg = JupyterMessage<"comm_close">;

/** Where a comm's messages go: the kernel link that holds it. */
export interface CommLink {
  /** The Jupyter session id of this client's messages. */
  readonly session: string;
  /** Sends a shell message that has no reply; its future is done at the kernel's idle status. */
  sendCommMessage(msg: JupyterMessage): KernelFuture<null>;
  /** The comm is disposed (closed by either side, or the kernel is gone): forget it. */
  forget(comm: KernelComm): void;
}

export class CommClosedError extends Error {
  override name = "CommClosedError";
}

/**
 * A comm of one kernel, made by `createComm` (this side opens it, or attaches to a comm the
 * kernel already has) or handed to a comm target's callback (the kernel opened it).
 *
 * Lifecycle: live until it is closed, by `close()` here or a `comm_close` from the kernel
 * (`onClose` runs either way), or disposed: the kernel restarted or died, the client was closed,
 * or `dispose()`. A disposed comm sends nothing (`open`, `send` and `close` throw a
 * CommClosedError) and hears nothing; its id may be used again.
 */
export class KernelComm {
  /** A `comm_msg` from the kernel for this comm (every one, also those caused by another page's
   * message). Awaited: the kernel's comm messages are handled one after another, in order. */
  onMsg?: (msg: CommMsg) => void | PromiseLike<void>;
  /** The comm was closed: by the kernel's `comm_close`, or by `close()` here (then with the
   * message sent). Awaited, as `onMsg`. */
  onClose?: (msg: CommCloseMsg) => void | PromiseLike<void>;
  private disposed = false;

  constructor(
    readonly targetName: string,
    readonly commId: string,
    private readonly link: CommLink,
  ) {}

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Opens the comm in the kernel: its target `targetName` gets `data`. */
  open(data: CommData = {}, metadata: Record<string, unknown> = {}, buffers?: CommBuffer[]): KernelFuture<null> {
    return this.sendMessage(
      makeMessage("comm_open", { comm_id: this.commId, target_name: this.targetName, data }, { session: this.link.session, metadata }),
      buffers,
    );
  }

  /** Sends `data` to the comm's object in the kernel. What its handler sends back is iopub
   * `comm_msg` parented to this message: the future's `onIOPub` gets it, and `onMsg` too. */
  send(data: CommData, metadata: Record<string, unknown> = {}, buffers?: CommBuffer[]): KernelFuture<null> {
    return this.sendMessage(makeMessage("comm_msg", { comm_id: this.commId, data }, { session: this.link.session, metadata }), buffers);
  }

  /** Closes the comm on both sides: the kernel gets `comm_close`, `onClose` runs here, and the
   * comm is disposed. */
  close(data: CommData = {}, metadata: Record<string, unknown> = {}, buffers?: CommBuffer[]): KernelFuture<null> {
    const msg = makeMessage("comm_close", { comm_id: this.commId, data }, { session: this.link.session, metadata });
    const future = this.sendMessage(msg, buffers);
    const onClose = this.onClose;
    this.dispose();
    if (onClose) void callback(`comm ${this.commId} (${this.targetName}): onClose`, () => onClose(msg));
    return future;
  }

  /** Forgets the comm here without telling the kernel. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.onMsg = undefined;
    this.onClose = undefined;
    this.link.forget(this);
  }

  private sendMessage(msg: JupyterMessage, buffers: CommBuffer[] | undefined): KernelFuture<null> {
    if (this.disposed) throw new CommClosedError(`comm ${this.commId} (${this.targetName}) is closed`);
    if (buffers?.length) msg.buffers = buffers.map(encodeBuffer);
    return this.link.sendCommMessage(msg);
  }
}

/** Runs a comm callback, sync or async; resolves whether it succeeded. A failure is logged with
 * `what`, never thrown at the kernel link (one widget's bug must not stop the next message). */
export async function callback(what: string, run: () => void | PromiseLike<void>): Promise<boolean> {
  try {
    await run();
    return true;
  } catch (error) {
    console.error(`${what} failed:`, error);
    return false;
  }
}

/** A binary buffer as the wire carries it (base64: the messages travel as JSON). */
export function encodeBuffer(buffer: CommBuffer): string {
  const bytes = ArrayBuffer.isView(buffer) ? new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength) : new Uint8Array(buffer);
  let binary = "";
  // In chunks: String.fromCharCode takes its bytes as arguments, and engines cap how many.
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** A message's binary buffers as bytes (what JupyterLab hands a widget: DataViews), in order;
 * none: an empty list. */
export function decodeBuffers(msg: JupyterMessage): DataView[] {
  return (msg.buffers ?? []).map((b64) => {
    const binary = atob(b64);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return new DataView(bytes.buffer);
  });
}
