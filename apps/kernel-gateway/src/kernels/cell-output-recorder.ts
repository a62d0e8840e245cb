// Records a running cell's outputs as the kernel produces them and persists them (debounced),
// so a reload shows what the browser showed. Uses the same reducer as the browser.
import {
  applyOutputMessage,
  emptyCellOutput,
  DEFAULT_OUTPUT_LIMITS,
  type CellOutputState,
  type JupyterMessage,
  type OutputLimits,
  type Output,
} from "@cellar/protocol";

export interface OutputSink {
  /** False when the notebook does not have the cell (yet). */
  saveCellOutputs(notebookId: string, cellId: string, outputs: Output[], executionCount: number | null): Promise<boolean>;
}

export class CellOutputRecorder {
  private cells = new Map<string, CellOutputState>();
  private timers = new Map<string, NodeJS.Timeout>();
  private writes = new Set<Promise<void>>();
  /** Cells whose outputs found no row: a cell run the moment it was created, before the
   * browser's save of it landed. Written again after the notebook's next save. */
  private unsaved = new Set<string>();

  constructor(
    private readonly notebookId: string,
    private readonly sink: OutputSink,
    private readonly limits: OutputLimits = DEFAULT_OUTPUT_LIMITS,
    private readonly debounceMs = 250,
  ) {}

  /** A cell starts running: its old outputs go away, as in Jupyter. */
  begin(cellId: string): void {
    this.cells.set(cellId, emptyCellOutput());
    this.schedule(cellId);
  }

  /** Returns whether the message should still be relayed to browsers: once a cell's output is
   * truncated, further output for it is dropped here so a flood never reaches the page. */
  record(cellId: string, msg: JupyterMessage): boolean {
    const before = this.cells.get(cellId) ?? emptyCellOutput();
    if (before.truncated && isOutputMessage(msg)) return false;
    const after = applyOutputMessage(before, msg, this.limits);
    if (after !== before) {
      this.cells.set(cellId, after);
      this.schedule(cellId);
    }
    return true;
  }

  /** Persist now (e.g. on execute_reply) instead of waiting for the debounce. */
  flush(cellId?: string): Promise<void> {
    const ids = cellId ? [cellId] : [...this.timers.keys()];
    for (const id of ids) {
      const t = this.timers.get(id);
      if (t) {
        clearTimeout(t);
        this.timers.delete(id);
        this.write(id);
      }
    }
    return this.settled();
  }

  /** The browser saved the notebook: cells that had no row may have one now. */
  retryUnsaved(): Promise<void> {
    for (const id of this.unsaved) this.write(id);
    return this.settled();
  }

  async settled(): Promise<void> {
    while (this.writes.size) await Promise.all([...this.writes]);
  }

  state(cellId: string): CellOutputState | undefined {
    return this.cells.get(cellId);
  }

  private schedule(cellId: string): void {
    if (this.timers.has(cellId)) return;
    this.timers.set(
      cellId,
      setTimeout(() => {
        this.timers.delete(cellId);
        this.write(cellId);
      }, this.debounceMs),
    );
  }

  private write(cellId: string): void {
    const s = this.cells.get(cellId);
    if (!s) return;
    const p = this.sink
      .saveCellOutputs(this.notebookId, cellId, s.outputs, s.executionCount)
      .then((saved) => {
        if (saved) this.unsaved.delete(cellId);
        else this.unsaved.add(cellId);
      })
      .catch((err) => console.error(`gateway: saving outputs of cell ${cellId} failed:`, err))
      .finally(() => this.writes.delete(p));
    this.writes.add(p);
  }
}

function isOutputMessage(msg: JupyterMessage): boolean {
  return ["stream", "display_data", "update_display_data", "execute_result", "error"].includes(msg.header.msg_type);
}
