// Debounced saving of the notebook document. Every edit marks it dirty; a save starts once edits
// pause for `delayMs`; an edit during a save leads to one more save after it; a failed save is
// retried. At most one save is in flight, so saves reach the gateway in order. A save that fails
// because the gateway cannot be reached reports "offline" and is retried when the page is told the
// network is back (`setOffline(false)`) or after `retryMs`, whichever comes first. While the browser
// itself says it is offline nothing is attempted until it says the network is back: such a request
// can only fail, and one still in flight when the tab closes may outlive the page.
import type { SaveState } from "./save-slice";

export interface AutosaverOptions {
  delayMs: number;
  retryMs?: number;
  save: () => Promise<void>;
  onState: (state: SaveState, error?: string) => void;
  /** Whether a failed save means "no network" rather than "the gateway refused it". */
  isOffline?: (error: unknown) => boolean;
}

export class Autosaver {
  private dirty = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private inFlight: Promise<void> | null = null;
  private disposed = false;
  private offline = false;
  /** The browser said it has no network (its `offline` event), as opposed to a save having failed. */
  private browserOffline = false;

  constructor(private readonly options: AutosaverOptions) {}

  get hasUnsavedChanges(): boolean {
    return this.dirty || this.inFlight !== null;
  }

  changed(): void {
    this.dirty = true;
    if (!this.inFlight) this.options.onState(this.offline || this.browserOffline ? "offline" : "unsaved");
    if (!this.browserOffline) this.schedule(this.options.delayMs);
  }

  /** The browser says the network went away (true) or came back (false, and saves now). */
  setOffline(offline: boolean): void {
    this.offline = offline;
    this.browserOffline = offline;
    if (offline) {
      this.cancelTimer();
      if (!this.inFlight) this.options.onState("offline");
    } else if (this.dirty) {
      this.cancelTimer();
      void this.saveNow();
    } else if (!this.inFlight) {
      this.options.onState("saved");
    }
  }

  /** Saves now if anything is unsaved and waits for it (Ctrl+S, leaving the page). */
  async flush(): Promise<void> {
    this.cancelTimer();
    if (this.inFlight) await this.inFlight;
    if (this.dirty) await this.saveNow();
  }

  dispose(): void {
    this.disposed = true;
    this.cancelTimer();
  }

  private cancelTimer() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(ms: number) {
    this.cancelTimer();
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.saveNow();
    }, ms);
  }

  private async saveNow(): Promise<void> {
    if (this.inFlight || !this.dirty || this.disposed) return;
    this.dirty = false;
    this.options.onState("saving");
    this.inFlight = this.options.save();
    try {
      await this.inFlight;
      this.inFlight = null;
      this.offline = false;
      if (this.disposed) return;
      if (this.dirty) {
        this.options.onState("unsaved");
        if (!this.timer) this.schedule(this.options.delayMs);
      } else {
        this.options.onState("saved");
      }
    } catch (e) {
      this.inFlight = null;
      if (this.disposed) return;
      this.dirty = true;
      this.offline = this.options.isOffline?.(e) ?? false;
      this.options.onState(this.offline ? "offline" : "unsaved", e instanceof Error ? e.message : String(e));
      if (!this.browserOffline) this.schedule(this.options.retryMs ?? 3_000);
    }
  }
}
