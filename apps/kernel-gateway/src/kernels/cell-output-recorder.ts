// Records a running cell's outputs as the kernel produces them and persists them (debounced),
// so a reload shows what the browser showed. Uses the same reducer as the browser.
import {
  applyOutputMessage,
  cellOutputFrom,
  emptyCellOutput,
  DEFAULT_OUTPUT_LIMITS,
  type CellOutputState,
  type JupyterMessage,
  type OutputLimits,
  type Output,
  type StreamPosition,
} from "@cellar/protocol";

export interface OutputSink {
  /** False when the notebook does not have the cell (yet). */
  /** `through`: the kernel message the outputs go up to. */
  saveCellOutputs(
    notebookId: string,
    cellId: string,
    outputs: Output[],
    executionCount: number | null,
    through?: StreamPosition | null,
  ): Promise<boolean>;
  /** The cell's recorded outputs, to continue a run another gateway recorded the start of. */
  cellOutputs?(
    notebookId: string,
    cellId: string,
  ): Promise<{ outputs: Output[]; executionCount: number | null; through: StreamPosition | null } | null>;
}

export class CellOutputRecorder {
  private cells = new Map<string, CellOutputState>();
  private timers = new Map<string, NodeJS.Timeout>();
  private writes = new Set<Promise<void>>();
  /** Cells whose outputs found no row: a cell run the moment it was created, before the
   * browser's save of it landed. Written again after the notebook's next save. */
  private unsaved = new Set<string>();
  /** Cells being continued whose recorded outputs are still being read: their messages wait. */
  private loading = new Map<string, Array<{ msg: JupyterMessage; at?: StreamPosition }>>();
  /** Each cell's last message applied, saved with its outputs. */
  private positions = new Map<string, StreamPosition>();
  /** A continued cell's recorded position: messages up to it are already in its outputs. */
  private recordedThrough = new Map<string, StreamPosition>();

  constructor(
    private readonly notebookId: string,
    private readonly sink: OutputSink,
    private readonly limits: OutputLimits = DEFAULT_OUTPUT_LIMITS,
    private readonly debounceMs = 250,
  ) {}

  /** A cell starts running: its old outputs go away, as in Jupyter. */
  begin(cellId: string): void {
    this.cells.set(cellId, emptyCellOutput());
    this.positions.delete(cellId);
    this.recordedThrough.delete(cellId);
    this.schedule(cellId);
  }

  /** A cell whose run started before this recorder existed (the gateway restarted while it ran):
   * its outputs go on from what was recorded, not from empty. */
  resume(cellId: string): void {
    if (this.cells.has(cellId) || this.loading.has(cellId)) return;
    const waiting: Array<{ msg: JupyterMessage; at?: StreamPosition }> = [];
    this.loading.set(cellId, waiting);
    const read = this.sink.cellOutputs?.(this.notebookId, cellId) ?? Promise.resolve(null);
    const p = read
      .catch((err) => {
        console.error(`gateway: reading the outputs of cell ${cellId} failed; recording from here on:`, err);
        return null;
      })
      .then((saved) => {
        this.loading.delete(cellId);
        this.cells.set(cellId, saved ? cellOutputFrom(saved.outputs, saved.executionCount) : emptyCellOutput());
        if (saved?.through) {
          this.recordedThrough.set(cellId, saved.through);
          this.positions.set(cellId, saved.through);
        }
        for (const { msg, at } of waiting) this.record(cellId, msg, at);
        this.schedule(cellId);
      })
      .finally(() => this.writes.delete(p));
    this.writes.add(p);
  }

  /** Returns whether the message should still be relayed to browsers: once a cell's output is
   * truncated, further output for it is dropped here so a flood never reaches the page. */
  record(cellId: string, msg: JupyterMessage, at?: StreamPosition): boolean {
    const waiting = this.loading.get(cellId);
    if (waiting) {
      waiting.push({ msg, at });
      return true;
    }
    const through = this.recordedThrough.get(cellId);
    // Sent again by the worker, and already in the outputs the last gateway recorded.
    if (at && through && at.stream === through.stream && at.seq <= through.seq) return true;
    if (at) this.positions.set(cellId, at);
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
  async flush(cellId?: string): Promise<void> {
    // Twice: a cell whose recorded outputs were being read (resume) has its write due only then.
    for (let round = 0; round < 2; round++) {
      const ids = cellId ? [cellId] : [...this.timers.keys()];
      for (const id of ids) {
        const t = this.timers.get(id);
        if (t) {
          clearTimeout(t);
          this.timers.delete(id);
          this.write(id);
        }
      }
      await this.settled();
    }
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
      .saveCellOutputs(this.notebookId, cellId, s.outputs, s.executionCount, this.positions.get(cellId) ?? null)
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
