import { afterEach, describe, expect, it, vi } from "vitest";
import { FrameLoadQueue } from "./frame-loads";

afterEach(() => vi.useRealTimers());

describe("FrameLoadQueue", () => {
  it("lets two frames load at once and the next one in as each draws, in order", () => {
    const queue = new FrameLoadQueue(2, 4000);
    const started: string[] = [];
    const done = ["a", "b", "c", "d"].map((name) => queue.request(() => started.push(name)));
    expect(started).toEqual(["a", "b"]);
    done[1]!();
    expect(started).toEqual(["a", "b", "c"]);
    done[1]!(); // twice is once
    expect(started).toEqual(["a", "b", "c"]);
    done[0]!();
    expect(started).toEqual(["a", "b", "c", "d"]);
  });

  it("drops a frame that goes before its turn, and frees the slot of one that never draws", () => {
    vi.useFakeTimers();
    const queue = new FrameLoadQueue(1, 4000);
    const started: string[] = [];
    queue.request(() => started.push("stuck"));
    const gone = queue.request(() => started.push("gone"));
    queue.request(() => started.push("next"));
    gone();
    expect(started).toEqual(["stuck"]);
    vi.advanceTimersByTime(4000);
    expect(started).toEqual(["stuck", "next"]);
  });
});
