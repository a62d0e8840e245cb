// The notebooks' shared documents open on this replica: one DocumentHub per notebook while a
// page has it open. A hub is loaded from the stored document (state + updates), or built from
// the Cell rows the first time a notebook is opened; it is closed (stored, written back,
// compacted) when its last page leaves. The other replicas' hubs of the same notebook hear every
// change through `serverSideEmit`, and a hub that opens asks them for what the database does
// not have yet.
import type { DocumentStore, StoredDocument } from "@cellar/db";
import {
  applyCells,
  cellsMap,
  cellText,
  docTitle,
  fromNotebook,
  notebookDevice,
  setTitle,
  toCells,
  type DocCell,
} from "@cellar/notebook-doc";
import { deviceInMetadata, type DeviceRequest, type Notebook, type NotebookUpdate } from "@cellar/protocol";
import * as Y from "yjs";
import { DocumentHub, type DocumentPeer } from "./document-hub";

/** Between replicas (socket.io serverSideEmit). */
export interface DocumentReplicaEvents {
  /** Bytes travel as base64 (see `wire`). */
  "cellar:doc-update": (p: { notebookId: string; update: string }) => void;
  "cellar:doc-awareness": (p: { notebookId: string; update: string }) => void;
  /** What a replica's hub has beyond `stateVector`, and its own state vector so the asker can
   * send back what it lacks (null when it has no hub open): Yjs' sync steps 1 and 2 between hubs. */
  "cellar:doc-missing": (p: { notebookId: string; stateVector: string }, ack: (answer: CatchUpAnswer | null) => void) => void;
  /** The second half of a catch-up: what the asker has beyond an answerer's state vector. */
  "cellar:doc-resync": (p: { notebookId: string; update: string }) => void;
}

interface CatchUpAnswer {
  update: string;
  stateVector: string;
}

/** The part of a socket.io server the hubs use to reach the other replicas. */
export interface ReplicaChannel {
  serverSideEmit<E extends keyof DocumentReplicaEvents>(event: E, ...args: unknown[]): boolean;
  on<E extends keyof DocumentReplicaEvents>(event: E, listener: DocumentReplicaEvents[E]): unknown;
}

export interface DocumentHubsDeps {
  documents: Pick<DocumentStore, "load" | "create" | "append" | "compact">;
  notebooks: { get(id: string): Promise<Notebook | null> };
  /** Writes the document's cells to the Cell table (NotebookStore.update and what follows a save). */
  writeBack(notebookId: string, cells: DocCell[]): Promise<unknown>;
  /** Null on a lone replica (no Redis). */
  replicas: ReplicaChannel | null;
  compactEvery?: number;
  writeBackDelayMs?: number;
  log?: (line: string) => void;
}

interface Entry {
  hub: Promise<DocumentHub | null>;
  users: number;
  closing?: Promise<void>;
}

export class DocumentHubs {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly deps: DocumentHubsDeps) {
    const replicas = deps.replicas;
    if (!replicas) return;
    replicas.on(
      "cellar:doc-update",
      ({ notebookId, update }) => void this.live(notebookId)?.then((hub) => hub?.applyRemote(bytes(update))),
    );
    replicas.on(
      "cellar:doc-awareness",
      ({ notebookId, update }) => void this.live(notebookId)?.then((hub) => hub?.applyRemoteAwareness(bytes(update))),
    );
    replicas.on("cellar:doc-missing", ({ notebookId, stateVector }, ack) => {
      const live = this.live(notebookId);
      if (!live) return ack(null);
      void live.then((hub) =>
        ack(hub && { update: wire(Y.encodeStateAsUpdate(hub.doc, bytes(stateVector))), stateVector: wire(Y.encodeStateVector(hub.doc)) }),
      );
    });
    replicas.on(
      "cellar:doc-resync",
      ({ notebookId, update }) => void this.live(notebookId)?.then((hub) => hub?.applyResync(bytes(update))),
    );
  }

  /** The link between the replicas came (back) up: changes relayed while it was down are lost,
   * so each open hub catches up with the others' now, both ways. Why this and not, say, re-reading
   * the database every few seconds: it costs nothing while the link holds, it brings over what a
   * replica holds but has not stored yet (or could not: its database refused), and each replica's
   * link coming up runs it, so the last replica to reconnect, which finds every other one
   * listening, leaves them all with the same document. */
  resync(): void {
    for (const [notebookId, entry] of this.entries)
      if (!entry.closing) void entry.hub.then((hub) => hub && this.catchUp(notebookId, hub, "resync"));
  }

  /** Opens the notebook's document for a page; null when there is no such notebook. */
  async join(notebookId: string, peer: DocumentPeer, canWrite: boolean): Promise<DocumentHub | null> {
    const hub = await this.acquire(notebookId);
    hub?.join(peer, canWrite);
    if (hub) void this.reconcile(notebookId, hub);
    return hub;
  }

  /** A page (re)joins when its replica died, maybe before it stored what it had already relayed
   * here, or wrote the last changes back to the Cell table (it waits a second): what this hub
   * holds beyond the stored document is stored here, and a Cell table that lags it is written
   * back. (Storing an update twice, when that replica is alive and was about to, is harmless.) */
  private async reconcile(notebookId: string, hub: DocumentHub): Promise<void> {
    try {
      const [stored, notebook] = await Promise.all([this.deps.documents.load(notebookId), this.deps.notebooks.get(notebookId)]);
      if (stored) {
        const doc = loaded(stored);
        let missing = false;
        doc.on("update", () => (missing = true));
        const beyond = Y.encodeStateAsUpdate(hub.doc, Y.encodeStateVector(doc));
        Y.applyUpdate(doc, beyond);
        doc.destroy();
        if (missing) hub.store(beyond);
      }
      if (notebook && !sameCells(notebook.cells, toCells(hub.doc))) hub.writeBackSoon();
    } catch (error) {
      this.deps.log?.(`gateway: the document of ${notebookId} could not be compared with what is stored: ${(error as Error).message}`);
    }
  }

  leave(notebookId: string, peerId: string): void {
    const entry = this.entries.get(notebookId);
    if (!entry || entry.closing) return;
    void entry.hub.then((hub) => {
      hub?.leave(peerId);
      this.release(notebookId, entry);
    });
  }

  /** A cell's source in the notebook's live document on this replica (it has every change the
   * others have); undefined when no page has the document open here, null when it has no such cell. */
  async liveCellSource(notebookId: string, cellId: string): Promise<string | null | undefined> {
    const live = this.live(notebookId);
    const hub = live && (await live);
    if (!hub) return undefined;
    return cellText(hub.doc, cellId)?.toString() ?? null;
  }

  /** The device a cell of the live document here asks for: its own, else the notebook's default
   * (the document's settings, else `saved`, the stored nbformat metadata); undefined when no page
   * has the document open here. */
  async liveCellDevice(notebookId: string, cellId: string, saved: Record<string, unknown>): Promise<DeviceRequest | undefined | null> {
    const live = this.live(notebookId);
    const hub = live && (await live);
    if (!hub) return undefined;
    const cell = cellsMap(hub.doc).get(cellId);
    const metadata = (cell?.get("metadata") as Record<string, unknown> | undefined) ?? {};
    return deviceInMetadata(metadata) ?? notebookDevice(hub.doc, saved) ?? null;
  }

  /** A save through the API (PUT /api/notebooks/:id) becomes a change of the live document, so
   * it reaches every open page and is not overwritten by the next write-back. Cells only when the
   * save had cells: a title-only save must not put back the Cell table's older sources. A
   * notebook that has no document yet needs nothing: its first open builds one from the rows. */
  async saved(notebookId: string, update: NotebookUpdate, notebook: Notebook): Promise<void> {
    if (!this.entries.has(notebookId) && !(await this.deps.documents.load(notebookId))) return;
    const hub = await this.acquire(notebookId);
    if (!hub) return;
    const entry = this.entries.get(notebookId)!;
    try {
      hub.change((doc) => {
        if (update.cells) applyCells(doc, notebook.cells);
        if (docTitle(doc) !== notebook.title) setTitle(doc, notebook.title);
      });
    } finally {
      this.release(notebookId, entry);
    }
  }

  /** Closes every hub (the gateway is shutting down): pending changes are stored. */
  async closeAll(): Promise<void> {
    await Promise.all([...this.entries].map(([notebookId, entry]) => this.close(notebookId, entry)));
  }

  /** The notebook's hub on this replica, if one is open or opening. */
  private live(notebookId: string): Promise<DocumentHub | null> | undefined {
    const entry = this.entries.get(notebookId);
    return entry && !entry.closing ? entry.hub : undefined;
  }

  private async acquire(notebookId: string): Promise<DocumentHub | null> {
    let entry = this.entries.get(notebookId);
    // A hub that is closing is stored first, then a fresh one is loaded from what it stored.
    while (entry?.closing) {
      await entry.closing;
      entry = this.entries.get(notebookId);
    }
    if (!entry) {
      entry = { hub: this.open(notebookId), users: 0 };
      this.entries.set(notebookId, entry);
    }
    entry.users++;
    const hub = await entry.hub;
    if (!hub) this.release(notebookId, entry);
    return hub;
  }

  private release(notebookId: string, entry: Entry): void {
    if (--entry.users <= 0) void this.close(notebookId, entry);
  }

  private close(notebookId: string, entry: Entry): Promise<void> {
    entry.closing ??= entry.hub
      .then((hub) => hub?.close())
      .catch((error) => this.deps.log?.(`gateway: closing the document of ${notebookId} failed: ${(error as Error).message}`))
      .finally(() => {
        if (this.entries.get(notebookId) === entry) this.entries.delete(notebookId);
      });
    return entry.closing;
  }

  private async open(notebookId: string): Promise<DocumentHub | null> {
    const doc = await this.load(notebookId);
    if (!doc) return null;
    const { documents, replicas } = this.deps;
    const hub = new DocumentHub(doc, {
      append: (update) => documents.append(notebookId, update),
      compact: (fold) => documents.compact(notebookId, fold),
      writeBack: (cells) => this.deps.writeBack(notebookId, cells),
      relayUpdate: (update) => replicas?.serverSideEmit("cellar:doc-update", { notebookId, update: wire(update) }),
      relayAwareness: (update) => replicas?.serverSideEmit("cellar:doc-awareness", { notebookId, update: wire(update) }),
      compactEvery: this.deps.compactEvery ?? 200,
      writeBackDelayMs: this.deps.writeBackDelayMs ?? 1_000,
      log: this.deps.log,
    });
    // What other replicas' hubs have that is not stored yet (in flight when this one loaded).
    this.catchUp(notebookId, hub, "open");
    return hub;
  }

  /** Asks the other replicas' hubs of the notebook for what this one lacks and sends each what
   * it lacks. On open, what comes in is stored already (by the hub that had it); after the link
   * was down, it is stored and written back here as well (RESYNC). */
  private catchUp(notebookId: string, hub: DocumentHub, why: "open" | "resync"): void {
    const replicas = this.deps.replicas;
    replicas?.serverSideEmit(
      "cellar:doc-missing",
      { notebookId, stateVector: wire(Y.encodeStateVector(hub.doc)) },
      (_error: Error | null, answers: Array<CatchUpAnswer | null> | undefined) => {
        for (const answer of answers ?? []) {
          if (!answer) continue;
          if (why === "open") hub.applyRemote(bytes(answer.update));
          else hub.applyResync(bytes(answer.update));
          // Deletions do not show in a state vector, so the difference always goes.
          const update = Y.encodeStateAsUpdate(hub.doc, bytes(answer.stateVector));
          replicas.serverSideEmit("cellar:doc-resync", { notebookId, update: wire(update) });
        }
      },
    );
  }

  private async load(notebookId: string): Promise<Y.Doc | null> {
    const { documents, notebooks } = this.deps;
    let stored = await documents.load(notebookId);
    if (!stored) {
      const notebook = await notebooks.get(notebookId);
      if (!notebook) return null;
      const built = fromNotebook({ title: notebook.title, cells: notebook.cells, metadata: notebook.metadata });
      if (await documents.create(notebookId, Y.encodeStateAsUpdate(built))) return built;
      // Another replica built it first: use that one, or both would have their own cells.
      stored = await documents.load(notebookId);
      if (!stored) return null;
    }
    return loaded(stored);
  }
}

function loaded(stored: StoredDocument): Y.Doc {
  const doc = new Y.Doc();
  Y.applyUpdate(doc, stored.state);
  for (const { update } of stored.updates) Y.applyUpdate(doc, update);
  return doc;
}

function sameCells(stored: Notebook["cells"], cells: DocCell[]): boolean {
  return (
    stored.length === cells.length &&
    stored.every((c, i) => c.id === cells[i].id && c.cell_type === cells[i].cell_type && c.source === cells[i].source)
  );
}

/** The Redis adapter sends serverSideEmit's arguments as JSON, where bytes would become an array
 * of numbers (a Buffer) or an object (a Uint8Array): base64 is a third of that. */
function wire(data: Uint8Array): string {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("base64");
}

function bytes(data: string): Uint8Array {
  return Buffer.from(data, "base64");
}
