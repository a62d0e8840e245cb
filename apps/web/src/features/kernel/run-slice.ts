// Runs and what they show: each cell's outputs as the kernel streams them in, which cells are
// queued or running (by the msg_id of their latest execute_request), and input() prompts. Fed by
// the kernel connection (kernel-socket.ts); outputs are never saved by the page.
import type { StateCreator } from "zustand/vanilla";
import {
  applyDisplayUpdate,
  applyOutputMessage,
  cellOutputFrom,
  emptyCellOutput,
  type CellOutputState,
  type JupyterMessage,
  type Notebook,
  type Output,
} from "@cellar/protocol";
import type { NotebookState } from "../notebook/notebook-store";
import { documentEdit, withoutTimings } from "../notebook/document-slice";
import { withoutKey } from "../../shared/records";
import { withEmptyOutputs } from "./cell-outputs";

/** A running cell waits for the user to answer `input()` (or `getpass()`: `password`). */
export interface InputPrompt {
  prompt: string;
  password: boolean;
  /** The kernel's input_request header: the answer's parent. */
  request: JupyterMessage["header"];
}

export interface RunSlice {
  outputs: Record<string, CellOutputState>;
  /** Cells sent to the kernel (or waiting for it) whose reply has not come back → the msg_id of
   * their latest execute_request. */
  running: Record<string, string>;
  /** Running cells the kernel has started (execute_input seen); the others are queued. */
  started: Record<string, true>;
  /** Running cells waiting for the user's answer to `input()`. */
  inputPrompts: Record<string, InputPrompt>;
  /** Who ran each cell last (the gateway's record, then its cell:ran events). */
  lastRunBy: Record<string, { id: string; name: string }>;

  startRun(cellId: string, msgId: string): void;
  /** The kernel began executing the request (it is no longer queued). */
  markStarted(cellId: string, msgId: string): void;
  /** With `msgId`, only if that request is still the cell's latest. */
  finishRun(cellId: string, msgId?: string): void;
  clearRunning(): void;
  setLastRunBy(cellId: string, by: { id: string; name: string }): void;
  /** `null`: the prompt was answered, or the run it belonged to ended. */
  setInputPrompt(cellId: string, prompt: InputPrompt | null): void;
  applyKernelMessages(batch: Array<{ cellId: string; message: JupyterMessage }>): void;
  /** Outputs as the gateway recorded them, after a reconnect in which live messages were missed;
   * `live`: cells left as they are (takeLiveOutputs had them, with the messages since). */
  takeServerOutputs(notebook: Notebook, stillRunning: boolean, live?: ReadonlySet<string>): void;
  /** Running cells' outputs as the gateway holds them, sent ahead of their next messages. */
  takeLiveOutputs(cells: Array<{ cellId: string; outputs: Output[]; executionCount: number | null }>): void;
  /** Clears the outputs and execution counts of cells, as Jupyter's "Clear outputs". */
  clearOutputs(cellIds: string[]): void;
}

export function createRunSlice(notebook: Notebook): StateCreator<NotebookState, [], [], RunSlice> {
  return (set, get) => ({
    outputs: Object.fromEntries(notebook.cells.map((c) => [c.id, cellOutputFrom(c.outputs ?? [], c.execution_count ?? null)])),
    running: {},
    started: {},
    inputPrompts: {},
    lastRunBy: Object.fromEntries(notebook.cells.flatMap((c) => (c.lastRunBy ? [[c.id, c.lastRunBy]] : []))),
    setLastRunBy: (cellId, by) => set((s) => ({ lastRunBy: { ...s.lastRunBy, [cellId]: by } })),

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
        return {
          running: withoutKey(s.running, cellId),
          started: withoutKey(s.started, cellId),
          inputPrompts: withoutKey(s.inputPrompts, cellId),
        };
      }),
    markStarted: (cellId, msgId) =>
      set((s) => (s.running[cellId] === msgId && !s.started[cellId] ? { started: { ...s.started, [cellId]: true } } : s)),
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
    takeServerOutputs: (nb, stillRunning, live) =>
      set((s) => {
        const outputs = { ...s.outputs };
        for (const cell of nb.cells) {
          if (outputs[cell.id] && !live?.has(cell.id)) outputs[cell.id] = cellOutputFrom(cell.outputs ?? [], cell.execution_count ?? null);
        }
        return stillRunning ? { outputs } : { outputs, running: {}, started: {} };
      }),
    takeLiveOutputs: (cells) =>
      set((s) => {
        const outputs = { ...s.outputs };
        for (const c of cells) if (outputs[c.cellId]) outputs[c.cellId] = cellOutputFrom(c.outputs, c.executionCount);
        return { outputs };
      }),
    clearOutputs: (cellIds) => {
      const { outputs, cells } = get();
      const ids = new Set(cellIds);
      const next = withEmptyOutputs(outputs, ids);
      const timed = cells.some((c) => ids.has(c.id) && c.metadata.execution);
      // The timing goes with the count it described; that is a document edit, saved as usual.
      if (timed) set((s) => documentEdit(s, { outputs: next, cells: withoutTimings(cells, ids) }));
      else set({ outputs: next });
    },
  });
}
