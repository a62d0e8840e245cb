// Keeps a Y.Doc in step with the gateway's copy of a notebook over the browser socket (doc:sync,
// doc:awareness): the page's editors, the bench's headless clients and the gateway's tests all
// speak through this one class. The socket is any socket.io client socket; the notebook must be
// opened on it (notebook:open) before `start()`, and again after each reconnect, since the
// gateway keeps roles per connection. Changes made while disconnected stay in the doc and go up
// in the sync exchange of the next `start()`: Yjs merges them, nothing is offered back.
import type { Ack, DocAwarenessMessage, DocSyncMessage } from "@cellar/protocol";
import * as decoding from "lib0/decoding";
import * as encoding from "lib0/encoding";
import { type AwarenessChange, encodeWith } from "./sync-encoding";
import * as awarenessProtocol from "y-protocols/awareness";
import * as syncProtocol from "y-protocols/sync";
import type * as Y from "yjs";

/** The part of a socket.io client socket the provider uses. */
export interface DocumentSocket {
  readonly connected: boolean;
  emit(event: "doc:sync", p: DocSyncMessage): unknown;
  emit(event: "doc:awareness", p: DocAwarenessMessage): unknown;
  emit(event: "doc:flush", p: { notebookId: string }, ack: Ack): unknown;
  on(event: "doc:sync", listener: (p: DocSyncMessage) => void): unknown;
  on(event: "doc:awareness", listener: (p: DocAwarenessMessage) => void): unknown;
  on(event: "doc:refused", listener: (p: { notebookId: string; reason: string }) => void): unknown;
  on(event: "disconnect", listener: () => void): unknown;
  off(event: "doc:sync", listener: (p: DocSyncMessage) => void): unknown;
  off(event: "doc:awareness", listener: (p: DocAwarenessMessage) => void): unknown;
  off(event: "doc:refused", listener: (p: { notebookId: string; reason: string }) => void): unknown;
  off(event: "disconnect", listener: () => void): unknown;
}

/** The origin of changes that came from the gateway (an UndoManager must not track them). */
export const FROM_GATEWAY = Symbol("from-gateway");

/** flush() could not reach the gateway: the changes stay in the doc and go up on reconnect. */
export class DocumentOfflineError extends Error {
  override name = "DocumentOfflineError";
}

/** How long flush() waits for a connection before saying the page is offline. */
const FLUSH_WAIT_MS = 5_000;

export class DocumentProvider {
  readonly awareness: awarenessProtocol.Awareness;
  private live = false;
  private synced = false;
  private readonly syncedWaiters: Array<() => void> = [];
  private readonly refusedListeners: Array<(reason: string) => void> = [];
  private readonly liveWaiters: Array<() => void> = [];
  /** Flushes waiting for their answer: a disconnect answers them "offline". */
  private readonly flushes = new Set<() => void>();

  constructor(
    private readonly socket: DocumentSocket,
    readonly notebookId: string,
    readonly doc: Y.Doc,
  ) {
    this.awareness = new awarenessProtocol.Awareness(doc);
    doc.on("update", this.onLocalUpdate);
    this.awareness.on("update", this.onLocalAwareness);
    socket.on("doc:sync", this.onSync);
    socket.on("doc:awareness", this.onAwareness);
    socket.on("doc:refused", this.onRefused);
    socket.on("disconnect", this.onDisconnect);
  }

  /** Starts (or, after a reconnect and notebook:open, restarts) the sync with the gateway. */
  start(): void {
    this.live = true;
    this.synced = false;
    this.send(encodeWith((e) => syncProtocol.writeSyncStep1(e, this.doc)));
    if (this.awareness.getLocalState() !== null)
      this.socket.emit("doc:awareness", {
        notebookId: this.notebookId,
        update: awarenessProtocol.encodeAwarenessUpdate(this.awareness, [this.doc.clientID]),
      });
  }

  /** Resolves once the gateway has stored every change this page sent before it (and written
   * the cells back); rejects with DocumentOfflineError while there is no connection. */
  async flush(): Promise<void> {
    // Synced, not only live: the gateway's step 1 comes before its step 2, so by then this page's
    // answer (what it changed offline) has gone up ahead of the flush.
    if (!this.live || !this.synced || !this.socket.connected) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const live = await new Promise<boolean>((resolve) => {
        this.liveWaiters.push(() => resolve(true));
        timer = setTimeout(() => resolve(false), FLUSH_WAIT_MS);
      });
      clearTimeout(timer);
      if (!live || !this.synced || !this.socket.connected) throw new DocumentOfflineError("Not connected to the gateway.");
    }
    const answer = await new Promise<{ ok: true } | { ok: false; error: string }>((resolve) => {
      const offline = () => finish({ ok: false, error: "offline" });
      const timer = setTimeout(offline, 10_000);
      const finish = (result: { ok: true } | { ok: false; error: string }) => {
        clearTimeout(timer);
        this.flushes.delete(offline);
        resolve(result);
      };
      this.flushes.add(offline);
      this.socket.emit("doc:flush", { notebookId: this.notebookId }, finish);
    });
    if (!answer.ok) throw answer.error === "offline" ? new DocumentOfflineError("Not connected to the gateway.") : new Error(answer.error);
  }

  /** Resolves once the gateway's copy has been received since the last start. */
  whenSynced(): Promise<void> {
    return this.synced ? Promise.resolve() : new Promise((resolve) => this.syncedWaiters.push(resolve));
  }

  get isSynced(): boolean {
    return this.synced;
  }

  /** The gateway dropped this page's changes (its role may not edit) or refused the document. */
  onRefusal(listener: (reason: string) => void): void {
    this.refusedListeners.push(listener);
  }

  destroy(): void {
    // Others see this page's cursors go at once rather than after the 30 s timeout.
    awarenessProtocol.removeAwarenessStates(this.awareness, [this.doc.clientID], "destroy");
    this.doc.off("update", this.onLocalUpdate);
    this.awareness.off("update", this.onLocalAwareness);
    this.socket.off("doc:sync", this.onSync);
    this.socket.off("doc:awareness", this.onAwareness);
    this.socket.off("doc:refused", this.onRefused);
    this.socket.off("disconnect", this.onDisconnect);
    this.awareness.destroy();
    this.live = false;
  }

  private send(message: Uint8Array): void {
    if (this.live && this.socket.connected) this.socket.emit("doc:sync", { notebookId: this.notebookId, message });
  }

  private readonly onLocalUpdate = (update: Uint8Array, origin: unknown) => {
    if (origin !== FROM_GATEWAY) this.send(encodeWith((e) => syncProtocol.writeUpdate(e, update)));
  };

  private readonly onLocalAwareness = ({ added, updated, removed }: AwarenessChange, origin: unknown) => {
    if (origin === FROM_GATEWAY || !this.live || !this.socket.connected) return;
    const mine = [...added, ...updated, ...removed].filter((id) => id === this.doc.clientID);
    if (mine.length > 0)
      this.socket.emit("doc:awareness", {
        notebookId: this.notebookId,
        update: awarenessProtocol.encodeAwarenessUpdate(this.awareness, mine),
      });
  };

  private readonly onSync = ({ notebookId, message }: DocSyncMessage) => {
    if (notebookId !== this.notebookId) return;
    const decoder = decoding.createDecoder(new Uint8Array(message));
    const reply = encoding.createEncoder();
    const type = syncProtocol.readSyncMessage(decoder, reply, this.doc, FROM_GATEWAY);
    if (encoding.length(reply) > 0) this.send(encoding.toUint8Array(reply));
    if (type === syncProtocol.messageYjsSyncStep2 && !this.synced) {
      this.synced = true;
      for (const resolve of this.syncedWaiters.splice(0)) resolve();
      for (const resolve of this.liveWaiters.splice(0)) resolve();
    }
  };

  private readonly onAwareness = ({ notebookId, update }: DocAwarenessMessage) => {
    if (notebookId === this.notebookId) awarenessProtocol.applyAwarenessUpdate(this.awareness, new Uint8Array(update), FROM_GATEWAY);
  };

  private readonly onRefused = ({ notebookId, reason }: { notebookId: string; reason: string }) => {
    if (notebookId === this.notebookId) for (const listener of this.refusedListeners) listener(reason);
  };

  private readonly onDisconnect = () => {
    this.live = false;
    for (const offline of [...this.flushes]) offline();
  };
}
