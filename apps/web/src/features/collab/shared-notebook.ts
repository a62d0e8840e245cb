// The open notebook's shared document on this page: a Y.Doc kept in step with the gateway's
// (DocumentProvider over the page's socket) and with this browser's IndexedDB (y-indexeddb), so
// edits made offline, or in a tab that was closed before they went up, merge when the page next
// talks to the gateway. The store mirrors the document: what others change appears in the store's
// cells, and what this page changes in the store's structure (insert, delete, move, type,
// pasted sources, find-and-replace) goes into the document. The editors write their cell's
// Y.Text themselves (cell-collab.ts).
import {
  applyCells,
  cellText,
  DocumentOfflineError,
  DocumentProvider,
  docNotebookDevice,
  docTitle,
  setNotebookDevice,
  setTitle,
  setSource,
  toCells,
  type DocCell,
  type DocumentSocket,
} from "@cellar/notebook-doc";
import { IndexeddbPersistence } from "y-indexeddb";
import * as Y from "yjs";
import type { NotebookStore } from "../notebook/notebook-store";
import { withEmptyOutputs } from "../kernel/cell-outputs";
import type { CellDoc } from "../notebook/document-slice";

/** The origin of changes this page's store made (structure): not tracked by the editors' undo. */
export const FROM_STORE = Symbol("from-store");

export interface Presence {
  name: string;
  color: string;
}

export class SharedNotebook {
  readonly doc = new Y.Doc();
  private provider: DocumentProvider | null = null;
  private readonly local: IndexeddbPersistence | null;
  private mirroring = false;
  private readonly unsubscribe: () => void;
  private readonly syncedListeners = new Set<() => void>();
  private synced = false;
  private presence: Presence | null = null;
  /** The title as the page loaded it: one changed before the document arrived goes into it. */
  private readonly loadedTitle: string;
  private holds = 0;

  constructor(
    readonly notebookId: string,
    private readonly store: NotebookStore,
  ) {
    this.loadedTitle = store.getState().title;
    this.local = typeof indexedDB === "undefined" ? null : new IndexeddbPersistence(`cellar:notebook:${notebookId}`, this.doc);
    this.doc.on("update", (_update: Uint8Array, origin: unknown) => {
      if (origin !== FROM_STORE && this.synced) this.mirror();
    });
    this.unsubscribe = store.subscribe((s, prev) => {
      if (this.mirroring || !this.synced) return;
      if (s.cells !== prev.cells) this.write(s.cells, prev.cells);
      // The title is shared too (it is also saved with a PUT, for the notebook list).
      if (s.title !== prev.title) setTitle(this.doc, s.title, FROM_STORE);
      if (s.notebookDevice !== prev.notebookDevice) setNotebookDevice(this.doc, s.notebookDevice ?? null, FROM_STORE);
    });
  }

  /** The gateway opened the notebook on `socket` (first connect and every reconnect). */
  attach(socket: DocumentSocket): void {
    if (!this.provider) {
      this.provider = new DocumentProvider(socket, this.notebookId, this.doc);
      if (this.presence) this.provider.awareness.setLocalStateField("user", userState(this.presence));
      this.provider.onRefusal((reason) => this.store.getState().setNotice(reason));
      void this.provider.whenSynced().then(() => this.markSynced());
    }
    const provider = this.provider;
    // What this browser kept is in the doc before the exchange, so it goes up with it.
    void (this.local?.whenSynced ?? Promise.resolve()).then(() => provider.start());
  }

  get awareness() {
    return this.provider?.awareness ?? null;
  }

  setPresence(presence: Presence): void {
    this.presence = presence;
    this.provider?.awareness.setLocalStateField("user", userState(presence));
  }

  get isSynced(): boolean {
    return this.synced;
  }

  onSynced(listener: () => void): () => void {
    this.syncedListeners.add(listener);
    return () => this.syncedListeners.delete(listener);
  }

  /** Resolves once the gateway has stored every change this page made (see DocumentProvider). */
  flush(): Promise<void> {
    return this.provider ? this.provider.flush() : Promise.reject(new DocumentOfflineError("Not connected to the gateway."));
  }

  text(cellId: string): Y.Text | undefined {
    return cellText(this.doc, cellId);
  }

  /** Held by a mounted component; the last release disposes, unless it is held again at once
   * (React's strict mode unmounts and mounts every component once in development). */
  retain(): void {
    this.holds++;
  }

  release(): void {
    if (--this.holds > 0) return;
    setTimeout(() => {
      if (this.holds === 0) this.dispose();
    }, 0);
  }

  private dispose(): void {
    this.unsubscribe();
    this.provider?.destroy();
    void this.local?.destroy();
    this.doc.destroy();
  }

  private markSynced(): void {
    if (this.synced) return;
    this.synced = true;
    const { title } = this.store.getState();
    if (title !== this.loadedTitle) setTitle(this.doc, title, FROM_STORE);
    this.mirror();
    for (const listener of this.syncedListeners) listener();
  }

  /** The document's cells into the store, keeping the objects of cells that did not change (so
   * their views do not re-render) and without counting as an edit to save. */
  private mirror(): void {
    const s = this.store.getState();
    const before = new Map(s.cells.map((c) => [c.id, c]));
    const cells = toCells(this.doc).map((c) => {
      const old = before.get(c.id);
      return old && sameCell(old, c) ? old : c;
    });
    const title = docTitle(this.doc);
    const changed = cells.length !== s.cells.length || cells.some((c, i) => c !== s.cells[i]);
    // A document that was never given a default device leaves the one the saved notebook has.
    const live = docNotebookDevice(this.doc);
    const device =
      live === undefined || JSON.stringify(live ?? undefined) === JSON.stringify(s.notebookDevice)
        ? null
        : { notebookDevice: live ?? undefined };
    if (!changed && (title === undefined || title === s.title) && !device) return;
    const fresh = cells.filter((c) => !before.has(c.id)).map((c) => c.id);
    this.mirroring = true;
    try {
      this.store.setState({
        ...(changed ? { cells, outputs: fresh.length ? withEmptyOutputs(s.outputs, fresh) : s.outputs } : {}),
        ...(title !== undefined && title !== s.title ? { title } : {}),
        ...device,
      });
    } finally {
      this.mirroring = false;
    }
  }

  /** What this page's store changed, into the document: the structure, and sources the editors
   * did not type (pasted or restored cells, find and replace). */
  private write(cells: CellDoc[], prev: CellDoc[]): void {
    const old = new Map(prev.map((c) => [c.id, c]));
    this.doc.transact(() => {
      applyCells(this.doc, cells, FROM_STORE, { sources: false });
      for (const cell of cells) {
        const was = old.get(cell.id);
        if (!was || was.source !== cell.source) setSource(this.doc, cell.id, cell.source, FROM_STORE);
      }
    }, FROM_STORE);
  }
}

function sameCell(a: CellDoc, b: DocCell): boolean {
  return a.cell_type === b.cell_type && a.source === b.source && JSON.stringify(a.metadata) === JSON.stringify(b.metadata);
}

/** y-codemirror.next draws remote cursors in `color` and selections in `colorLight`. */
function userState({ name, color }: Presence) {
  return { name, color, colorLight: `${color}33` };
}
