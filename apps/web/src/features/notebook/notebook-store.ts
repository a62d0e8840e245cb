// One store per open notebook: the document being edited (title, cells, their order) and the live
// kernel state fed by the socket (status, outputs streaming in, which cells are running).
import { createStore } from "zustand/vanilla";
import {
  applyOutputMessage,
  applyDisplayUpdate,
  cellOutputFrom,
  emptyCellOutput,
  type CellOutputState,
  type CellType,
  type JupyterMessage,
  type KernelStatus,
  type Notebook,
  type NotebookUpdate,
} from "@cellar/protocol";
import type { Draft } from "../save/local-drafts";

export interface CellDoc {
  id: string;
  cell_type: CellType;
  source: string;
  metadata: Record<string, unknown>;
}

/** Where a new cell goes; `after` a cell that no longer exists means the end. */
export type CellPlace = "start" | "end" | { after: string };

/** Jupyter's two modes: keys edit the source (`edit`) or act on cells (`command`). */
export type NotebookMode = "command" | "edit";

/** What takes focus: the cell's editor (edit mode) or the cell itself (command mode). */
export interface FocusRequest {
  cellId: string;
  token: number;
  target: "editor" | "cell" | "reveal";
}

/** Find in the notebook: what to highlight in every cell, and the match the user is on. */
export interface SearchHighlight {
  pattern: RegExp | null;
  current: { cellId: string; from: number; to: number } | null;
}

/** Deleted cells kept for Z (undo cell deletion), with where they were and what they showed. */
export interface DeletedCells {
  cells: CellDoc[];
  index: number;
  outputs: Record<string, CellOutputState>;
}

/** A question the user must answer before something drastic happens (restart and run all). */
export interface Confirmation {
  title: string;
  message: string;
  confirmLabel: string;
  onConfirm: () => void;
}

/** A running cell waits for the user to answer `input()` (or `getpass()`: `password`). */
export interface InputPrompt {
  prompt: string;
  password: boolean;
  /** The kernel's input_request header: the answer's parent. */
  request: JupyterMessage["header"];
}

/** `connecting`: the page has not heard from the gateway yet. */
export type KernelDisplayStatus = KernelStatus | "connecting";
/** `offline`: the gateway cannot be reached; edits are kept in this browser until it can. */
export type SaveState = "saved" | "saving" | "unsaved" | "offline";

export interface NotebookState {
  notebookId: string;
  title: string;
  cells: CellDoc[];
  outputs: Record<string, CellOutputState>;
  /** Cells sent to the kernel (or waiting for it) whose reply has not come back → the msg_id of
   * their latest execute_request. */
  running: Record<string, string>;
  /** Running cells the kernel has started (execute_input seen); the others are queued. */
  started: Record<string, true>;
  /** Running cells waiting for the user's answer to `input()`. */
  inputPrompts: Record<string, InputPrompt>;
  editingMarkdown: Record<string, true>;
  mode: NotebookMode;
  activeCellId: string | null;
  /** Start of a Shift+Up/Down range; null when only the active cell is selected. */
  anchorCellId: string | null;
  /** Editors and cells take focus only when asked through this, never because something
   * re-rendered. */
  focusRequest: FocusRequest | null;
  deleted: DeletedCells[];
  confirmation: Confirmation | null;
  findOpen: boolean;
  search: SearchHighlight;
  kernel: { status: KernelDisplayStatus; reason?: string };
  workers: number | null;
  /** Bumps on every change the gateway must save. */
  docVersion: number;
  save: { state: SaveState; error?: string };
  notice: string | null;
  /** Edits from this browser that a newer save elsewhere overtook, offered back to the user. */
  draftOffer: Draft | null;

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
  setActiveCell(cellId: string | null): void;
  /** Click / arrow keys; `extend` grows the selection from its anchor (Shift). */
  selectCell(cellId: string, extend?: boolean): void;
  /** Puts the editor of the cell in focus (edit mode). */
  focusCell(cellId: string): void;
  /** Selects the cell and focuses the cell itself, leaving any editor (command mode). */
  commandModeAt(cellId: string): void;
  setMode(mode: NotebookMode): void;
  setEditingMarkdown(cellId: string, editing: boolean): void;
  /** Clears the outputs and execution counts of cells, as Jupyter's "Clear outputs". */
  clearOutputs(cellIds: string[]): void;
  replaceSources(sources: Map<string, string>): void;
  startRun(cellId: string, msgId: string): void;
  /** The kernel began executing the request (it is no longer queued). */
  markStarted(cellId: string, msgId: string): void;
  /** JupyterLab's `metadata.execution` timing, from the kernel's message dates. */
  recordTiming(cellId: string, startedAt: string, finishedAt: string): void;
  ask(confirmation: Confirmation | null): void;
  setFindOpen(open: boolean): void;
  setSearch(search: SearchHighlight): void;
  /** Makes the cell active and scrolls to it without taking focus (find keeps its input). */
  revealCell(cellId: string): void;
  /** With `msgId`, only if that request is still the cell's latest. */
  finishRun(cellId: string, msgId?: string): void;
  clearRunning(): void;
  /** `null`: the prompt was answered, or the run it belonged to ended. */
  setInputPrompt(cellId: string, prompt: InputPrompt | null): void;
  applyKernelMessages(batch: Array<{ cellId: string; message: JupyterMessage }>): void;
  /** Outputs as the gateway recorded them, after a reconnect in which live messages were missed. */
  takeServerOutputs(notebook: Notebook, stillRunning: boolean): void;
  setKernelStatus(status: KernelDisplayStatus, reason?: string): void;
  setWorkers(connected: number): void;
  setSaveState(state: SaveState, error?: string): void;
  setNotice(notice: string | null): void;
  offerDraft(draft: Draft | null): void;
  /** Takes the offered draft's title, cells and order (an edit, saved as usual). */
  acceptDraft(): void;
}

export type NotebookStore = ReturnType<typeof createNotebookStore>;

const newCellId = () => globalThis.crypto.randomUUID();

export function createNotebookStore(notebook: Notebook) {
  return createStore<NotebookState>()((set, get) => {
    const edit = (patch: Partial<NotebookState>) => set((s) => ({ ...patch, docVersion: s.docVersion + 1 }));
    return {
      notebookId: notebook.id,
      title: notebook.title,
      cells: notebook.cells.map(({ id, cell_type, source, metadata }) => ({ id, cell_type, source, metadata: metadata ?? {} })),
      outputs: Object.fromEntries(notebook.cells.map((c) => [c.id, cellOutputFrom(c.outputs ?? [], c.execution_count ?? null)])),
      running: {},
      started: {},
      inputPrompts: {},
      editingMarkdown: {},
      mode: "command",
      activeCellId: notebook.cells[0]?.id ?? null,
      anchorCellId: null,
      focusRequest: null,
      deleted: [],
      confirmation: null,
      findOpen: false,
      search: { pattern: null, current: null },
      kernel: { status: "connecting" },
      workers: null,
      docVersion: 0,
      save: { state: "saved" },
      notice: null,
      draftOffer: null,

      setTitle: (title) => edit({ title }),
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
          outputs: { ...outputs, [id]: emptyCellOutput() },
          editingMarkdown: type === "markdown" ? { ...editingMarkdown, [id]: true } : editingMarkdown,
          activeCellId: id,
          anchorCellId: null,
          mode: "edit",
          focusRequest: { cellId: id, token: (focusRequest?.token ?? 0) + 1, target: "editor" },
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
        const entry: DeletedCells = { cells: removed, index: first, outputs: Object.fromEntries(removed.map((c) => [c.id, outputs[c.id]])) };
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
          outputs: { ...outputs, ...Object.fromEntries(inserted.map((c) => [c.id, emptyCellOutput()])) },
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
        const nextOutputs = { ...outputs };
        const nextEditing = { ...editingMarkdown };
        for (const id of ids) {
          // A markdown cell has no outputs; a new markdown cell shows its source until it is run.
          nextOutputs[id] = emptyCellOutput();
          if (type === "markdown") nextEditing[id] = true;
          else delete nextEditing[id];
        }
        edit({
          cells: cells.map((c) => (ids.has(c.id) ? { ...c, cell_type: type } : c)),
          outputs: nextOutputs,
          editingMarkdown: nextEditing,
        });
      },
      setActiveCell: (cellId) => {
        if (get().activeCellId !== cellId || get().anchorCellId) set({ activeCellId: cellId, anchorCellId: null });
      },
      selectCell: (cellId, extend = false) =>
        set((s) => ({
          activeCellId: cellId,
          anchorCellId: extend ? (s.anchorCellId ?? s.activeCellId) : null,
          mode: "command",
          focusRequest: { cellId, token: (s.focusRequest?.token ?? 0) + 1, target: "cell" },
        })),
      focusCell: (cellId) =>
        set((s) => ({
          activeCellId: cellId,
          anchorCellId: null,
          mode: "edit",
          focusRequest: { cellId, token: (s.focusRequest?.token ?? 0) + 1, target: "editor" },
        })),
      commandModeAt: (cellId) => get().selectCell(cellId),
      setMode: (mode) => {
        if (get().mode !== mode) set({ mode });
      },
      setEditingMarkdown: (cellId, editing) =>
        set((s) => {
          if (Boolean(s.editingMarkdown[cellId]) === editing) return s;
          const editingMarkdown = { ...s.editingMarkdown };
          if (editing) editingMarkdown[cellId] = true;
          else delete editingMarkdown[cellId];
          return { editingMarkdown };
        }),
      clearOutputs: (cellIds) => {
        const { outputs, cells } = get();
        const ids = new Set(cellIds);
        const next = { ...outputs };
        for (const id of ids) next[id] = emptyCellOutput();
        const timed = cells.some((c) => ids.has(c.id) && c.metadata.execution);
        // The timing goes with the count it described; that is a document edit, saved as usual.
        if (timed) edit({ outputs: next, cells: cells.map((c) => (ids.has(c.id) && c.metadata.execution ? { ...c, metadata: withoutKey(c.metadata, "execution") } : c)) });
        else set({ outputs: next });
      },
      replaceSources: (sources) => {
        if (!sources.size) return;
        edit({ cells: get().cells.map((c) => (sources.has(c.id) ? { ...c, source: sources.get(c.id)! } : c)) });
      },
      startRun: (cellId, msgId) =>
        set((s) => ({
          running: { ...s.running, [cellId]: msgId },
          started: withoutKey(s.started, cellId),
          // A re-run starts from nothing; the count is replaced when execute_input arrives.
          outputs: { ...s.outputs, [cellId]: { ...emptyCellOutput(), executionCount: s.outputs[cellId]?.executionCount ?? null } },
        })),
      finishRun: (cellId, msgId) =>
        set((s) => {
          if (!s.running[cellId] || (msgId && s.running[cellId] !== msgId)) return s;
          return { running: withoutKey(s.running, cellId), started: withoutKey(s.started, cellId), inputPrompts: withoutKey(s.inputPrompts, cellId) };
        }),
      markStarted: (cellId, msgId) =>
        set((s) => (s.running[cellId] === msgId && !s.started[cellId] ? { started: { ...s.started, [cellId]: true } } : s)),
      recordTiming: (cellId, startedAt, finishedAt) => {
        const cells = get().cells;
        const i = cells.findIndex((c) => c.id === cellId);
        if (i < 0) return;
        const next = cells.slice();
        next[i] = { ...cells[i], metadata: { ...cells[i].metadata, execution: { "iopub.execute_input": startedAt, "shell.execute_reply": finishedAt } } };
        edit({ cells: next });
      },
      ask: (confirmation) => set({ confirmation }),
      setFindOpen: (findOpen) => set(findOpen ? { findOpen } : { findOpen, search: { pattern: null, current: null } }),
      setSearch: (search) => set({ search }),
      revealCell: (cellId) =>
        set((s) => ({ activeCellId: cellId, anchorCellId: null, focusRequest: { cellId, token: (s.focusRequest?.token ?? 0) + 1, target: "reveal" } })),
      clearRunning: () => set((s) => (Object.keys(s.running).length ? { running: {}, started: {}, inputPrompts: {} } : s)),
      setInputPrompt: (cellId, prompt) =>
        set((s) => {
          if (prompt) return s.running[cellId] ? { inputPrompts: { ...s.inputPrompts, [cellId]: prompt } } : s;
          return s.inputPrompts[cellId] ? { inputPrompts: withoutKey(s.inputPrompts, cellId) } : s;
        }),
      applyKernelMessages: (batch) =>
        set((s) => {
          let outputs = s.outputs;
          for (const { cellId, message } of batch) {
            if (message.header.msg_type === "update_display_data") {
              // A display made in one cell can be updated from another: update it wherever it is.
              outputs = applyDisplayUpdate(outputs, message);
              continue;
            }
            const before = outputs[cellId] ?? emptyCellOutput();
            const after = applyOutputMessage(before, message);
            if (after !== before) outputs = { ...outputs, [cellId]: after };
          }
          return outputs === s.outputs ? s : { outputs };
        }),
      takeServerOutputs: (nb, stillRunning) =>
        set((s) => {
          const outputs = { ...s.outputs };
          for (const cell of nb.cells) {
            if (outputs[cell.id]) outputs[cell.id] = cellOutputFrom(cell.outputs ?? [], cell.execution_count ?? null);
          }
          return stillRunning ? { outputs } : { outputs, running: {}, started: {} };
        }),
      setKernelStatus: (status, reason) => set({ kernel: { status, reason } }),
      setWorkers: (connected) => set({ workers: connected }),
      setSaveState: (state, error) => set({ save: { state, error } }),
      setNotice: (notice) => set({ notice }),
      offerDraft: (draftOffer) => set({ draftOffer }),
      acceptDraft: () => {
        const { draftOffer, outputs } = get();
        if (!draftOffer) return;
        const cells = draftOffer.cells.map(({ id, cell_type, source, metadata }) => ({ id, cell_type, source, metadata: metadata ?? {} }));
        edit({
          title: draftOffer.title,
          cells,
          outputs: { ...Object.fromEntries(cells.map((c) => [c.id, emptyCellOutput()])), ...outputs },
          activeCellId: cells[0]?.id ?? null,
          anchorCellId: null,
          draftOffer: null,
        });
      },
    };
  });
}

const MAX_UNDO_DELETES = 50;

function withoutKey<T extends Record<string, unknown>>(record: T, key: string): T {
  if (!(key in record)) return record;
  const next = { ...record };
  delete next[key];
  return next;
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

/** Selects a run of cells (pasted, restored) in command mode, the last one active. */
function selectRange(cells: CellDoc[], focus: FocusRequest | null): Pick<NotebookState, "activeCellId" | "anchorCellId" | "mode" | "focusRequest"> {
  const active = cells.at(-1)!.id;
  return {
    activeCellId: active,
    anchorCellId: cells.length > 1 ? cells[0].id : null,
    mode: "command",
    focusRequest: { cellId: active, token: (focus?.token ?? 0) + 1, target: "cell" },
  };
}

/** What autosave sends: structure and sources only; outputs belong to the gateway. */
export function toNotebookUpdate(s: Pick<NotebookState, "title" | "cells">): NotebookUpdate {
  return { title: s.title, cells: s.cells.map(({ id, cell_type, source, metadata }) => ({ id, cell_type, source, metadata })) };
}
