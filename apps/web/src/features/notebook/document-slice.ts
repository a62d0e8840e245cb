// The document: title, cells, their order and metadata, the notebook's default device (mirrored
// with the shared document, collab/shared-notebook.ts), and the deleted cells kept for undo. Every change here bumps
// `docVersion`, which autosave watches.
import type { StateCreator } from "zustand/vanilla";
import {
  deviceInMetadata,
  emptyCellOutput,
  withDeviceInMetadata,
  type CellOutputState,
  type CellType,
  type DeviceRequest,
  type Notebook,
} from "@cellar/protocol";
import { withoutKey } from "../../shared/records";
import type { NotebookState } from "./notebook-store";
import { focusRequestFor, selectRange } from "./selection-slice";
import { withEmptyOutputs } from "../kernel/cell-outputs";
import { may, type PageAction } from "./page-roles";

export interface CellDoc {
  id: string;
  cell_type: CellType;
  source: string;
  metadata: Record<string, unknown>;
}

/** Where a new cell goes; `after` a cell that no longer exists means the end. */
export type CellPlace = "start" | "end" | { after: string };

/** Deleted cells kept for Z (undo cell deletion), with where they were and what they showed. */
export interface DeletedCells {
  cells: CellDoc[];
  index: number;
  outputs: Record<string, CellOutputState>;
}

export interface DocumentSlice {
  notebookId: string;
  title: string;
  cells: CellDoc[];
  deleted: DeletedCells[];
  /** The device cells run on when they name none (undefined: CPU). */
  notebookDevice: DeviceRequest | undefined;
  /** Bumps on every change the gateway must save. */
  docVersion: number;

  setTitle(title: string): void;
  setSource(cellId: string, source: string): void;
  /** The new cell becomes active and its editor takes focus. */
  addCell(type: CellType, place?: CellPlace): string;
  deleteCell(cellId: string): void;
  /** Deletes cells (kept for undo); the cell after them becomes active. */
  deleteCells(cellIds: string[]): void;
  /** Z: puts the most recently deleted cells back where they were. */
  undoDelete(): void;
  /** Pasted or restored cells; they become the selection. */
  insertCells(cells: CellDoc[], place: CellPlace | { before: string }): void;
  moveCell(cellId: string, delta: -1 | 1): void;
  /** Drag and drop: the cell ends up at `toIndex`. */
  moveCellTo(cellId: string, toIndex: number): void;
  setCellType(cellIds: string[], type: CellType): void;
  replaceSources(sources: Map<string, string>): void;
  /** A cell's own device (`metadata.cellar.device`); undefined: the notebook's default. */
  setCellDevice(cellId: string, device: DeviceRequest | undefined): void;
  setNotebookDevice(device: DeviceRequest | undefined): void;
  /** JupyterLab's `metadata.execution` timing, from the kernel's message dates. */
  recordTiming(cellId: string, startedAt: string, finishedAt: string): void;
}

const MAX_UNDO_DELETES = 50;

const newCellId = () => globalThis.crypto.randomUUID();

/** A change the gateway must save: whatever else it sets, it bumps the document's version. */
export function documentEdit<T extends Partial<NotebookState>>(s: Pick<NotebookState, "docVersion">, patch: T): T & { docVersion: number } {
  return { ...patch, docVersion: s.docVersion + 1 };
}

/** The cells as edited here, from the gateway's notebook or a draft's update. */
export function cellDocsFrom(cells: ReadonlyArray<Omit<CellDoc, "metadata"> & { metadata?: Record<string, unknown> }>): CellDoc[] {
  return cells.map(({ id, cell_type, source, metadata }) => ({ id, cell_type, source, metadata: metadata ?? {} }));
}

/** The cells with their run timing removed: the timing goes with the count it described. */
export function withoutTimings(cells: CellDoc[], ids: ReadonlySet<string>): CellDoc[] {
  return cells.map((c) => (ids.has(c.id) && c.metadata.execution ? { ...c, metadata: withoutKey(c.metadata, "execution") } : c));
}

export function createDocumentSlice(notebook: Notebook): StateCreator<NotebookState, [], [], DocumentSlice> {
  return (set, get) => {
    // Only a role that may change the notebook does; anyone else's edits would be refused (the
    // gateway drops them), so they never count as something to save.
    const edit = (patch: Partial<NotebookState>, action: PageAction = "edit") => {
      if (may(get().role, action)) set((s) => documentEdit(s, patch));
    };
    return {
      notebookId: notebook.id,
      title: notebook.title,
      cells: cellDocsFrom(notebook.cells),
      deleted: [],
      notebookDevice: deviceInMetadata(notebook.metadata),
      docVersion: 0,

      setTitle: (title) => edit({ title }, "rename"),
      setSource: (cellId, source) => {
        const cells = get().cells;
        const i = cells.findIndex((c) => c.id === cellId);
        if (i < 0 || cells[i].source === source) return;
        const next = cells.slice();
        next[i] = { ...cells[i], source };
        edit({ cells: next });
      },
      addCell: (type, place = "end") => {
        const id = newCellId();
        const { cells, outputs, editingMarkdown, focusRequest } = get();
        const after = typeof place === "object" ? cells.findIndex((c) => c.id === place.after) : -1;
        const at = place === "start" ? 0 : after >= 0 ? after + 1 : cells.length;
        const next = cells.slice();
        next.splice(at, 0, { id, cell_type: type, source: "", metadata: {} });
        edit({
          cells: next,
          outputs: withEmptyOutputs(outputs, [id]),
          editingMarkdown: type === "markdown" ? { ...editingMarkdown, [id]: true } : editingMarkdown,
          activeCellId: id,
          anchorCellId: null,
          mode: "edit",
          focusRequest: focusRequestFor(focusRequest, id, "editor"),
        });
        return id;
      },
      deleteCell: (cellId) => get().deleteCells([cellId]),
      deleteCells: (cellIds) => {
        const { cells, outputs, activeCellId, deleted } = get();
        const gone = new Set(cellIds);
        const first = cells.findIndex((c) => gone.has(c.id));
        if (first < 0) return;
        const removed = cells.filter((c) => gone.has(c.id));
        const next = cells.filter((c) => !gone.has(c.id));
        const neighbour = next[Math.min(first, next.length - 1)]?.id ?? null;
        const entry: DeletedCells = {
          cells: removed,
          index: first,
          outputs: Object.fromEntries(removed.map((c) => [c.id, outputs[c.id]])),
        };
        edit({
          cells: next,
          activeCellId: activeCellId && gone.has(activeCellId) ? neighbour : activeCellId,
          anchorCellId: null,
          deleted: [...deleted.slice(-(MAX_UNDO_DELETES - 1)), entry],
        });
      },
      undoDelete: () => {
        const { deleted, cells, outputs } = get();
        const last = deleted.at(-1);
        if (!last) return;
        const present = new Set(cells.map((c) => c.id));
        const back = last.cells.filter((c) => !present.has(c.id));
        const next = cells.slice();
        next.splice(Math.min(last.index, next.length), 0, ...back);
        edit({
          cells: next,
          outputs: { ...outputs, ...Object.fromEntries(back.map((c) => [c.id, last.outputs[c.id] ?? emptyCellOutput()])) },
          deleted: deleted.slice(0, -1),
          ...selectRange(back, get().focusRequest),
        });
      },
      insertCells: (inserted, place) => {
        if (!inserted.length) return;
        const { cells, outputs } = get();
        const next = cells.slice();
        next.splice(insertionIndex(cells, place), 0, ...inserted);
        edit({
          cells: next,
          outputs: withEmptyOutputs(
            outputs,
            inserted.map((c) => c.id),
          ),
          ...selectRange(inserted, get().focusRequest),
        });
      },
      moveCell: (cellId, delta) => {
        const cells = get().cells;
        const i = cells.findIndex((c) => c.id === cellId);
        const j = i + delta;
        if (i < 0 || j < 0 || j >= cells.length) return;
        const next = cells.slice();
        [next[i], next[j]] = [next[j], next[i]];
        edit({ cells: next });
      },
      moveCellTo: (cellId, toIndex) => {
        const cells = get().cells;
        const i = cells.findIndex((c) => c.id === cellId);
        const j = Math.max(0, Math.min(toIndex, cells.length - 1));
        if (i < 0 || i === j) return;
        const next = cells.slice();
        const [moved] = next.splice(i, 1);
        next.splice(j, 0, moved);
        edit({ cells: next });
      },
      setCellType: (cellIds, type) => {
        const { cells, outputs, editingMarkdown } = get();
        const ids = new Set(cellIds.filter((id) => cells.some((c) => c.id === id && c.cell_type !== type)));
        if (!ids.size) return;
        const nextEditing = { ...editingMarkdown };
        for (const id of ids) {
          // A markdown cell shows its source until it is run.
          if (type === "markdown") nextEditing[id] = true;
          else delete nextEditing[id];
        }
        edit({
          cells: cells.map((c) => (ids.has(c.id) ? { ...c, cell_type: type } : c)),
          // A markdown cell has no outputs, and a code cell made from one has none yet.
          outputs: withEmptyOutputs(outputs, ids),
          editingMarkdown: nextEditing,
        });
      },
      replaceSources: (sources) => {
        if (!sources.size) return;
        edit({ cells: get().cells.map((c) => (sources.has(c.id) ? { ...c, source: sources.get(c.id)! } : c)) });
      },
      setCellDevice: (cellId, device) => {
        const cells = get().cells;
        const i = cells.findIndex((c) => c.id === cellId);
        if (i < 0) return;
        const metadata = withDeviceInMetadata(cells[i].metadata, device);
        if (JSON.stringify(metadata) === JSON.stringify(cells[i].metadata)) return;
        const next = cells.slice();
        next[i] = { ...cells[i], metadata };
        edit({ cells: next });
      },
      setNotebookDevice: (device) => {
        if (JSON.stringify(device) !== JSON.stringify(get().notebookDevice)) edit({ notebookDevice: device });
      },
      recordTiming: (cellId, startedAt, finishedAt) => {
        const cells = get().cells;
        const i = cells.findIndex((c) => c.id === cellId);
        if (i < 0) return;
        const next = cells.slice();
        next[i] = {
          ...cells[i],
          metadata: { ...cells[i].metadata, execution: { "iopub.execute_input": startedAt, "shell.execute_reply": finishedAt } },
        };
        edit({ cells: next });
      },
    };
  };
}

function insertionIndex(cells: CellDoc[], place: CellPlace | { before: string }): number {
  if (place === "start") return 0;
  if (place === "end") return cells.length;
  if ("before" in place) {
    const i = cells.findIndex((c) => c.id === place.before);
    return i >= 0 ? i : cells.length;
  }
  const i = cells.findIndex((c) => c.id === place.after);
  return i >= 0 ? i + 1 : cells.length;
}
