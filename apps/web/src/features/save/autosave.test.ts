import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Autosaver } from "./autosave";

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

function setup(save: () => Promise<void>) {
  const states: string[] = [];
  const saver = new Autosaver({
    delayMs: 500,
    retryMs: 1000,
    save,
    onState: (s, e) => states.push(e ? `${s}:${e}` : s),
    isOffline: (e) => e instanceof Error && e.message === "no network",
  });
  return { saver, states };
}

describe("Autosaver", () => {
  it("saves once after edits pause", async () => {
    const save = vi.fn(async () => {});
    const { saver, states } = setup(save);
    saver.changed();
    await vi.advanceTimersByTimeAsync(300);
    saver.changed();
    await vi.advanceTimersByTimeAsync(300);
    expect(save).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(300);
    expect(save).toHaveBeenCalledOnce();
    expect(states).toEqual(["unsaved", "unsaved", "saving", "saved"]);
  });

  it("an edit during a save leads to one more save afterwards", async () => {
    let finish!: () => void;
    const save = vi.fn(() => new Promise<void>((r) => (finish = r)));
    const { saver, states } = setup(save);
    saver.changed();
    await vi.advanceTimersByTimeAsync(500);
    saver.changed(); // while the first save is in flight
    finish();
    await vi.advanceTimersByTimeAsync(0);
    expect(states.at(-1)).toBe("unsaved");
    await vi.advanceTimersByTimeAsync(500);
    expect(save).toHaveBeenCalledTimes(2);
    finish();
    await vi.advanceTimersByTimeAsync(0);
    expect(states.at(-1)).toBe("saved");
  });

  it("keeps changes marked unsaved when a save fails, and retries", async () => {
    const save = vi.fn().mockRejectedValueOnce(new Error("gateway down")).mockResolvedValue(undefined);
    const { saver, states } = setup(save);
    saver.changed();
    await vi.advanceTimersByTimeAsync(500);
    expect(states.at(-1)).toBe("unsaved:gateway down");
    expect(saver.hasUnsavedChanges).toBe(true);
    await vi.advanceTimersByTimeAsync(1000);
    expect(save).toHaveBeenCalledTimes(2);
    expect(states.at(-1)).toBe("saved");
  });

  it("flush saves now", async () => {
    const save = vi.fn(async () => {});
    const { saver } = setup(save);
    saver.changed();
    await saver.flush();
    expect(save).toHaveBeenCalledOnce();
    expect(saver.hasUnsavedChanges).toBe(false);
  });

  it("a save that cannot reach the gateway reports offline, and goes out as soon as the network is back", async () => {
    const save = vi.fn().mockRejectedValueOnce(new Error("no network")).mockResolvedValue(undefined);
    const { saver, states } = setup(save);
    saver.changed();
    await vi.advanceTimersByTimeAsync(500);
    expect(states.at(-1)).toBe("offline:no network");
    saver.changed(); // more edits while offline stay marked offline, not merely unsaved
    expect(states.at(-1)).toBe("offline");
    saver.setOffline(false);
    await vi.advanceTimersByTimeAsync(0);
    expect(save).toHaveBeenCalledTimes(2);
    expect(states.at(-1)).toBe("saved");
    expect(saver.hasUnsavedChanges).toBe(false);
  });

  it("going offline with nothing pending shows offline; coming back shows saved", async () => {
    const save = vi.fn(async () => {});
    const { saver, states } = setup(save);
    saver.setOffline(true);
    expect(states).toEqual(["offline"]);
    saver.setOffline(false);
    expect(states).toEqual(["offline", "saved"]);
    expect(save).not.toHaveBeenCalled();
  });

  it("while the browser says it is offline, edits are kept but no save is attempted until it is back", async () => {
    const save = vi.fn(async () => {});
    const { saver, states } = setup(save);
    saver.changed();
    saver.setOffline(true); // before the debounce ran out: the pending save is dropped, not sent
    saver.changed();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(save).not.toHaveBeenCalled();
    expect(states.at(-1)).toBe("offline");
    expect(saver.hasUnsavedChanges).toBe(true);
    saver.setOffline(false);
    await vi.advanceTimersByTimeAsync(0);
    expect(save).toHaveBeenCalledOnce();
    expect(states.at(-1)).toBe("saved");
  });
});
