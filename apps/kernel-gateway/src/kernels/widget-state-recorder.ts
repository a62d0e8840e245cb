// Follows one kernel's Jupyter widgets from the comm messages it sends (@cellar/protocol's
// WidgetStateTracker) and saves their state into the notebook's metadata (`metadata.widgets`,
// as JupyterLab does), so an export and a reloaded page show the widgets' last state. Writes are
// debounced: a slider dragged sends dozens of updates a second, the database gets one write a
// second at most, and the last state always lands.
import { WidgetStateTracker, type JupyterMessage, type WidgetStateDocument } from "@cellar/protocol";

export interface WidgetStateSink {
  /** False when the notebook is gone. */
  saveWidgetState(notebookId: string, doc: WidgetStateDocument | null): Promise<boolean>;
  /** The state saved last (unchecked), to go on from for a kernel that outlived a gateway. */
  widgetState(notebookId: string): Promise<unknown>;
}

const COMM_MESSAGES = new Set(["comm_open", "comm_msg", "comm_close"]);

/** One per kernel: a new kernel (a restart, a move) starts with none of the old one's models, and
 * until one of its widgets changes, the notebook keeps the old state saved. */
export class WidgetStateRecorder {
  private readonly tracker = new WidgetStateTracker();
  private timer?: NodeJS.Timeout;
  /** Writes one after another, so an older state never lands after a newer one. */
  private writes: Promise<void> = Promise.resolve();
  /** While the saved state is read (resume), the kernel's messages wait here. */
  private waiting: JupyterMessage[] | null = null;

  constructor(
    private readonly notebookId: string,
    private readonly sink: Partial<WidgetStateSink>,
    private readonly debounceMs = 1_000,
  ) {}

  /** A message from the kernel; comm messages of widgets change the state to save. */
  record(msg: JupyterMessage): void {
    if (!COMM_MESSAGES.has(msg.header.msg_type)) return;
    if (this.waiting) return void this.waiting.push(msg);
    if (!this.tracker.apply(msg)) return;
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.write();
    }, this.debounceMs);
    this.timer.unref?.();
  }

  /** A kernel that was running before this gateway knew it (a gateway restart, a replica that
   * adopts it): its models are the ones saved last, so updates to them count and a new model
   * does not drop them from the saved state. */
  resume(): Promise<void> {
    const read = this.sink.widgetState;
    if (!read || this.waiting) return this.writes;
    this.waiting = [];
    const done = read
      .call(this.sink, this.notebookId)
      .catch((err) => {
        console.error(`gateway: reading the widget state of notebook ${this.notebookId} failed; following from here on:`, err);
        return null;
      })
      .then((doc) => {
        const waiting = this.waiting ?? [];
        this.waiting = null;
        this.tracker.load(doc);
        for (const msg of waiting) this.record(msg);
      });
    this.writes = this.writes.then(() => done);
    return done;
  }

  get size(): number {
    return this.tracker.size;
  }

  /** Writes a pending change now (the kernel stops, dies or moves; the gateway shuts down). */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.write();
    }
    return this.writes;
  }

  private write(): void {
    const save = this.sink.saveWidgetState;
    if (!save) return;
    const doc = this.tracker.snapshot();
    this.writes = this.writes
      .then(() => save.call(this.sink, this.notebookId, doc))
      .then(() => undefined)
      .catch((err) => console.error(`gateway: saving the widget state of notebook ${this.notebookId} failed:`, err));
  }
}
