// One notebook's shared document on this replica: the Y.Doc its pages edit, who is here
// (awareness), and where each change goes. A change from a page is applied, sent to this
// replica's other pages, relayed to the other replicas and appended to the database; a change
// relayed from another replica (REMOTE) only reaches this replica's pages, since its own replica
// stores it. The cells are written back to the Cell table shortly after each change, so export,
// runs and the API read what people typed.
import { type AwarenessChange, encodeWith, toCells, type DocCell } from "@cellar/notebook-doc";
import * as decoding from "lib0/decoding";
import * as awarenessProtocol from "y-protocols/awareness";
import * as syncProtocol from "y-protocols/sync";
import * as Y from "yjs";

/** The origin of changes another replica (or the database) already has. */
export const REMOTE = Symbol("remote");
/** The origin of what a catch-up between replicas brought in after their link broke
 * (DocumentHubs.resync): stored and written back here too, since the replica that first had it
 * may have died before doing so (storing an update twice is harmless), but not relayed. */
export const RESYNC = Symbol("resync");

/** A page with the document open on this replica. */
export interface DocumentPeer {
  id: string;
  sendSync(message: Uint8Array): void;
  sendAwareness(update: Uint8Array): void;
}

export interface DocumentHubDeps {
  /** Appends one (merged) update to the stored document. */
  append(update: Uint8Array): Promise<unknown>;
  /** Folds the stored updates into the stored state; `fold` gets them and returns the state. */
  compact(fold: (stored: { state: Uint8Array; updates: Array<{ update: Uint8Array }> }) => Uint8Array): Promise<unknown>;
  /** The cells, in order, for the Cell table. */
  writeBack(cells: DocCell[]): Promise<unknown>;
  /** To the other replicas' hubs of this notebook. */
  relayUpdate(update: Uint8Array): void;
  relayAwareness(update: Uint8Array): void;
  /** Compact after this many appended updates. */
  compactEvery: number;
  writeBackDelayMs: number;
  log?: (line: string) => void;
}

export type SyncResult = "ok" | "refused" | "malformed";

/** How long a failed append waits before the next try. */
const RETRY_MS = 500;

export class DocumentHub {
  readonly awareness: awarenessProtocol.Awareness;
  private readonly peers = new Map<string, { peer: DocumentPeer; clients: Set<number> }>();
  private pending: Uint8Array[] = [];
  private flushing: Promise<void> | null = null;
  private appended = 0;
  private compacting: Promise<void> | null = null;
  private writeBackTimer: NodeJS.Timeout | null = null;
  private dirty = false;
  private closed = false;

  constructor(
    readonly doc: Y.Doc,
    private readonly deps: DocumentHubDeps,
  ) {
    this.awareness = new awarenessProtocol.Awareness(doc);
    // The gateway itself is nobody's presence.
    this.awareness.setLocalState(null);
    doc.on("update", (update: Uint8Array, origin: unknown) => this.onUpdate(update, origin));
    this.awareness.on("update", (change: AwarenessChange, origin: unknown) => this.onAwareness(change, origin));
  }

  get peerCount(): number {
    return this.peers.size;
  }

  /** A page opened the document: it gets who is here, and (if it may write) a sync step 1, so it
   * answers with whatever it changed while offline. */
  join(peer: DocumentPeer, canWrite: boolean): void {
    this.peers.set(peer.id, { peer, clients: new Set() });
    if (canWrite) peer.sendSync(encodeWith((e) => syncProtocol.writeSyncStep1(e, this.doc)));
    const present = [...this.awareness.getStates().keys()];
    if (present.length > 0) peer.sendAwareness(awarenessProtocol.encodeAwarenessUpdate(this.awareness, present));
  }

  /** The page left: its cursors go with it, for everyone. */
  leave(peerId: string): void {
    const entry = this.peers.get(peerId);
    if (!entry) return;
    this.peers.delete(peerId);
    if (entry.clients.size > 0) awarenessProtocol.removeAwarenessStates(this.awareness, [...entry.clients], null);
  }

  /** A y-protocols sync message from a page. Step 1 is answered whatever the role; step 2 and
   * updates change the document only when `canWrite`. */
  receiveSync(peerId: string, message: Uint8Array, canWrite: boolean): SyncResult {
    const entry = this.peers.get(peerId);
    if (!entry) return "refused";
    try {
      const decoder = decoding.createDecoder(message);
      const type = decoding.readVarUint(decoder);
      if (type === syncProtocol.messageYjsSyncStep1) {
        entry.peer.sendSync(encodeWith((e) => syncProtocol.readSyncStep1(decoder, e, this.doc)));
        return "ok";
      }
      if (type !== syncProtocol.messageYjsSyncStep2 && type !== syncProtocol.messageYjsUpdate) return "malformed";
      if (!canWrite) return "refused";
      // The peer is the origin: the change goes to everyone but it.
      Y.applyUpdate(this.doc, decoding.readVarUint8Array(decoder), entry.peer);
      return "ok";
    } catch (error) {
      this.deps.log?.(`gateway: a malformed document message was dropped: ${(error as Error).message}`);
      return "malformed";
    }
  }

  receiveAwareness(peerId: string, update: Uint8Array): SyncResult {
    const entry = this.peers.get(peerId);
    if (!entry) return "refused";
    try {
      awarenessProtocol.applyAwarenessUpdate(this.awareness, update, entry.peer);
      return "ok";
    } catch {
      return "malformed";
    }
  }

  /** A change from another replica (or from the database). */
  applyRemote(update: Uint8Array): void {
    Y.applyUpdate(this.doc, update, REMOTE);
  }

  /** What another replica's hub had that this one missed while the link between them was down. */
  applyResync(update: Uint8Array): void {
    Y.applyUpdate(this.doc, update, RESYNC);
  }

  applyRemoteAwareness(update: Uint8Array): void {
    awarenessProtocol.applyAwarenessUpdate(this.awareness, update, REMOTE);
  }

  /** A change made here (an API save applied into the document), under `origin`. */
  change(fn: (doc: Y.Doc) => void): void {
    this.doc.transact(() => fn(this.doc), "gateway");
  }

  /** Resolves once every change applied so far is stored and written back to the Cell table. */
  async persist(): Promise<void> {
    await this.flush();
    if (!this.dirty) return;
    if (this.writeBackTimer) clearTimeout(this.writeBackTimer);
    this.writeBackTimer = null;
    await this.writeBackNow();
    if (this.dirty) throw new Error("The cells could not be stored; try again.");
  }

  /** Stores what is pending, writes the cells back and compacts; the hub is unusable afterwards. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.writeBackTimer) clearTimeout(this.writeBackTimer);
    await this.flush();
    await this.compacting;
    if (this.dirty) await this.writeBackNow();
    await this.compactNow();
    this.awareness.destroy();
    this.doc.destroy();
  }

  private onUpdate(update: Uint8Array, origin: unknown): void {
    const message = encodeWith((e) => syncProtocol.writeUpdate(e, update));
    for (const { peer } of this.peers.values()) if (peer !== origin) peer.sendSync(message);
    if (origin === REMOTE) return;
    if (origin !== RESYNC) this.deps.relayUpdate(update);
    this.pending.push(update);
    void this.flush();
    this.writeBackSoon();
  }

  /** Stores an update this hub holds that the database lacks (see DocumentHubs.reconcile). */
  store(update: Uint8Array): void {
    this.pending.push(update);
    void this.flush();
  }

  /** Writes the cells back to the Cell table shortly (after a change; or when the table lags
   * what this hub holds, e.g. a replica died before its write-back). */
  writeBackSoon(delayMs = this.deps.writeBackDelayMs): void {
    this.dirty = true;
    if (!this.closed && !this.writeBackTimer)
      this.writeBackTimer = setTimeout(() => {
        this.writeBackTimer = null;
        void this.writeBackNow();
      }, delayMs);
  }

  private onAwareness({ added, updated, removed }: AwarenessChange, origin: unknown): void {
    const changed = [...added, ...updated, ...removed];
    const from = [...this.peers.values()].find((p) => p.peer === origin);
    if (from) {
      for (const id of added) from.clients.add(id);
      for (const id of removed) from.clients.delete(id);
    }
    const update = awarenessProtocol.encodeAwarenessUpdate(this.awareness, changed);
    for (const { peer } of this.peers.values()) if (peer !== origin) peer.sendAwareness(update);
    // Timeouts happen on every replica by themselves.
    if (origin !== REMOTE && origin !== "timeout") this.deps.relayAwareness(update);
  }

  /** Resolves once everything pending is stored. One append at a time; what arrives meanwhile
   * is merged into the next, so a burst of keystrokes is one row, not one per key. A refused
   * append is kept and tried again until the database takes it: every caller waits for that, so
   * a flush (a page's Save) never answers before its changes are stored. */
  private flush(): Promise<void> {
    if (!this.flushing) {
      if (this.pending.length === 0) return Promise.resolve();
      this.flushing = this.appendPending().finally(() => (this.flushing = null));
    }
    // Another waiter may have started the next append already: that one is waited for too.
    return this.flushing.then(() => (this.flushing || this.pending.length > 0 ? this.flush() : undefined));
  }

  private async appendPending(): Promise<void> {
    const batch = this.pending.length === 1 ? this.pending[0] : Y.mergeUpdates(this.pending);
    this.pending = [];
    try {
      await this.deps.append(batch);
      if (++this.appended >= this.deps.compactEvery) this.compacting ??= this.compactNow().finally(() => (this.compacting = null));
    } catch (error) {
      // Kept, in front of what came meanwhile: the pages already have it, and the next open
      // loads what is stored.
      this.deps.log?.(`gateway: a document update was not stored (trying again): ${(error as Error).message}`);
      this.pending.unshift(batch);
      await new Promise((r) => setTimeout(r, RETRY_MS));
    }
  }

  private async compactNow(): Promise<void> {
    this.appended = 0;
    try {
      await this.deps.compact(({ state, updates }) => {
        // Whatever another replica stored and this one has not seen yet is folded in too (and
        // reaches this replica's pages), so the new state loses nothing.
        this.applyRemote(state);
        for (const { update } of updates) this.applyRemote(update);
        return Y.encodeStateAsUpdate(this.doc);
      });
    } catch (error) {
      this.deps.log?.(`gateway: compacting a document failed: ${(error as Error).message}`);
    }
  }

  private async writeBackNow(): Promise<void> {
    this.dirty = false;
    try {
      await this.deps.writeBack(toCells(this.doc));
    } catch (error) {
      // Tried again: nobody may type again to set it off.
      this.deps.log?.(`gateway: the cells were not written back (trying again): ${(error as Error).message}`);
      this.writeBackSoon(Math.max(RETRY_MS, this.deps.writeBackDelayMs));
    }
  }
}
