// Edits the gateway has not confirmed, kept in this browser (localStorage, one entry per notebook)
// so that closing the tab, a crash or a lost network costs nothing: the next time the notebook is
// opened here they are put back and saved. localStorage rather than IndexedDB because it is
// synchronous, so it can still be written from `pagehide` when the page is going away.
import type { Notebook, NotebookUpdate } from "@cellar/protocol";

export interface Draft {
  notebookId: string;
  title: string;
  cells: NonNullable<NotebookUpdate["cells"]>;
  /** When this browser wrote it (ms since epoch): compared with the notebook's `updatedAt` to tell
   * whether someone saved the notebook after these edits were made. */
  writtenAt: number;
}

const PREFIX = "cellar:draft:";
const key = (notebookId: string) => PREFIX + notebookId;

function storage(): Storage | null {
  try {
    return typeof localStorage === "undefined" ? null : localStorage;
  } catch {
    return null; // storage disabled (some privacy modes throw on access)
  }
}

/** False when the browser would not store it (quota, storage disabled). */
export function writeDraft(notebookId: string, update: NotebookUpdate, now = Date.now()): boolean {
  const draft: Draft = { notebookId, title: update.title ?? "", cells: update.cells ?? [], writtenAt: now };
  try {
    storage()?.setItem(key(notebookId), JSON.stringify(draft));
    return storage() !== null;
  } catch {
    return false;
  }
}

export function readDraft(notebookId: string): Draft | null {
  let text: string | null = null;
  try {
    text = storage()?.getItem(key(notebookId)) ?? null;
  } catch {
    return null;
  }
  if (!text) return null;
  try {
    const draft = JSON.parse(text) as Draft;
    const valid =
      draft.notebookId === notebookId &&
      typeof draft.title === "string" &&
      typeof draft.writtenAt === "number" &&
      Array.isArray(draft.cells) &&
      draft.cells.every((c) => typeof c?.id === "string" && typeof c.source === "string" && typeof c.cell_type === "string");
    return valid ? draft : null;
  } catch {
    return null; // not ours or half written: ignore it rather than break the page
  }
}

export function clearDraft(notebookId: string): void {
  try {
    storage()?.removeItem(key(notebookId));
  } catch {
    /* nothing to clear */
  }
}

/** What opening a notebook does with a draft found in this browser. */
export type DraftDecision =
  /** No draft, or the gateway already has exactly these edits. */
  | { kind: "none" }
  /** The draft is newer than the gateway's copy: show it and save it. */
  | { kind: "restore"; notebook: Notebook }
  /** Someone saved the notebook after the draft was written: the newer save wins (last writer
   * wins), but the draft is kept and offered, never dropped silently. */
  | { kind: "conflict"; draft: Draft };

export function decideDraft(notebook: Notebook, draft: Draft | null): DraftDecision {
  if (!draft || sameDocument(notebook, draft)) return { kind: "none" };
  const serverTime = Date.parse(notebook.updatedAt);
  if (Number.isFinite(serverTime) && serverTime > draft.writtenAt) return { kind: "conflict", draft };
  return { kind: "restore", notebook: applyDraft(notebook, draft) };
}

/** The notebook with the draft's title, cells and order; outputs stay with the cells the gateway
 * knows (a cell only the draft has starts empty). */
export function applyDraft(notebook: Notebook, draft: Draft): Notebook {
  const known = new Map(notebook.cells.map((c) => [c.id, c]));
  return {
    ...notebook,
    title: draft.title,
    cells: draft.cells.map((c) => {
      const server = known.get(c.id);
      return {
        ...(server ?? { outputs: [], execution_count: null }),
        id: c.id,
        cell_type: c.cell_type,
        source: c.source,
        metadata: c.metadata ?? server?.metadata ?? {},
      };
    }),
  };
}

function sameDocument(notebook: Notebook, draft: Draft): boolean {
  if (notebook.title !== draft.title || notebook.cells.length !== draft.cells.length) return false;
  return notebook.cells.every((c, i) => {
    const d = draft.cells[i];
    return c.id === d.id && c.cell_type === d.cell_type && c.source === d.source && stable(c.metadata ?? {}) === stable(d.metadata ?? {});
  });
}

/** JSON with object keys sorted, so key order (the database's or ours) does not count as a change. */
function stable(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1))) : v,
  );
}
