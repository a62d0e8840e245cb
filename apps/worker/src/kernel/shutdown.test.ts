import { describe, expect, it } from "vitest";
import type { KernelSession } from "./kernel-session";
import { suspendForShutdown } from "./shutdown";

/** Stands in for a KernelSession: suspending takes 20 ms, is refused while busy, and is logged. */
function fakeSession(name: string, state: "idle" | "busy", log: string[], live: { now: number; max: number }) {
  const s = {
    state: state as string,
    async suspend() {
      if (s.state === "busy") return false;
      live.now++;
      live.max = Math.max(live.max, live.now);
      log.push(name);
      await new Promise((r) => setTimeout(r, 20));
      live.now--;
      s.state = "suspended";
      return true;
    },
    async stop() {
      log.push(`${name} stopped`);
      s.state = "dead";
    },
  };
  return s as unknown as KernelSession & { state: string };
}

describe("suspendForShutdown", () => {
  it("suspends a few kernels at a time, in the order given with idle ones first, and stops one still busy after the grace", async () => {
    const log: string[] = [];
    const live = { now: 0, max: 0 };
    const sessions = [
      fakeSession("newest", "idle", log, live),
      fakeSession("running", "busy", log, live),
      ...["a", "b", "c", "d"].map((n) => fakeSession(n, "idle", log, live)),
    ];
    await suspendForShutdown(sessions, 200, 2);
    expect(live.max).toBe(2);
    expect(log.slice(0, 2)).toEqual(["newest", "a"]);
    expect(log.at(-1)).toBe("running stopped");
    expect(sessions.map((s) => s.state)).toEqual(["suspended", "dead", "suspended", "suspended", "suspended", "suspended"]);
  });

  it("suspends a busy kernel once its cell ends within the grace", async () => {
    const log: string[] = [];
    const live = { now: 0, max: 0 };
    const busy = fakeSession("busy", "busy", log, live);
    setTimeout(() => (busy.state = "idle"), 150);
    await suspendForShutdown([busy], 5_000);
    expect(busy.state).toBe("suspended");
    expect(log).toEqual(["busy"]);
  });
});
