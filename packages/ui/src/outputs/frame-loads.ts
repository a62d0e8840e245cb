// Output frames load a few at a time. Each frame is a document of its own that compiles its
// charting library again (an opaque-origin frame shares no HTTP or code cache with the others),
// so a notebook opening with seven plotly figures near the viewport compiled seven copies at
// once and held the page's first keystroke back by a third of a second (the editor bench). In
// turn, the nearest first, each when the page's main thread is idle (requestIdleCallback, where
// the browser has it), the page stays responsive and the figures still come in quickly.

/** Frames loading at once; the others wait for a slot. */
export const FRAME_LOADS_AT_ONCE = 2;
/** A frame that has not drawn by then gives its slot up anyway (a stuck output blocks no other). */
export const FRAME_LOAD_TIMEOUT_MS = 4000;
/** A frame's turn waits for an idle moment at most this long (a busy page still gets its frames). */
const IDLE_WAIT_MS = 500;

/** Runs `fn` when the main thread is idle; at once where there is no requestIdleCallback. */
function whenIdle(fn: () => void): void {
  if (typeof requestIdleCallback === "function") requestIdleCallback(fn, { timeout: IDLE_WAIT_MS });
  else fn();
}

export class FrameLoadQueue {
  private readonly waiting: Array<() => void> = [];
  private loading = 0;

  constructor(
    private readonly atOnce = FRAME_LOADS_AT_ONCE,
    private readonly timeoutMs = FRAME_LOAD_TIMEOUT_MS,
  ) {}

  /**
   * Calls `start` once this frame may load (at once when a slot is free). Returns `done`, to call
   * when the frame has drawn or is gone; before `start` it takes the frame out of the line.
   */
  request(start: () => void): () => void {
    let state: "waiting" | "loading" | "done" = "waiting";
    let timer: ReturnType<typeof setTimeout> | undefined;
    const begin = () => {
      state = "loading";
      this.loading++;
      timer = setTimeout(done, this.timeoutMs);
      whenIdle(() => {
        if (state === "loading") start();
      });
    };
    const done = () => {
      if (state === "waiting") {
        const at = this.waiting.indexOf(begin);
        if (at >= 0) this.waiting.splice(at, 1);
      } else if (state === "loading") {
        clearTimeout(timer);
        this.loading--;
        this.waiting.shift()?.();
      }
      state = "done";
    };
    if (this.loading < this.atOnce) begin();
    else this.waiting.push(begin);
    return done;
  }
}

/** The page's one line of frames. */
export const frameLoads = new FrameLoadQueue();
