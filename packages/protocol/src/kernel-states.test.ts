import { describe, expect, it } from "vitest";
import {
  assertTransition,
  canChangeStatus,
  canTransition,
  IllegalKernelTransition,
  isKernelState,
  isRunning,
  KERNEL_STATES,
  KERNEL_STATUSES,
  KERNEL_TRANSITIONS,
  shownStatus,
  WORKER_STATUSES,
} from "./kernel-states";

describe("kernel states", () => {
  it("has a row for every state, naming only states of the list", () => {
    expect(Object.keys(KERNEL_TRANSITIONS).sort()).toEqual([...KERNEL_STATES].sort());
    for (const targets of Object.values(KERNEL_TRANSITIONS)) for (const t of targets) expect(isKernelState(t)).toBe(true);
  });

  it("allows the worker's lifecycle: boot, run, suspend, resume, die", () => {
    const path = ["starting", "idle", "busy", "idle", "suspending", "suspended", "resuming", "idle", "dead"] as const;
    for (let i = 1; i < path.length; i++) expect(canTransition(path[i - 1], path[i])).toBe(true);
    expect(canTransition("suspending", "idle")).toBe(true); // the checkpoint failed; it runs on
    expect(canTransition("suspending", "dead")).toBe(true);
    expect(canTransition("starting", "dead")).toBe(true);
  });

  it("allows the gateway's moves: waiting for a worker, restarting, and the restart's outcomes", () => {
    for (const s of ["disconnected", "starting", "idle", "busy", "suspended", "resuming", "dead"] as const)
      expect(canTransition(s, "restarting")).toBe(true);
    expect(canTransition("disconnected", "starting")).toBe(true);
    expect(canTransition("restarting", "starting")).toBe(true);
    expect(canTransition("restarting", "disconnected")).toBe(true);
    expect(canTransition("restarting", "dead")).toBe(true);
  });

  it("refuses moves the lifecycle never makes", () => {
    expect(canTransition("dead", "idle")).toBe(false);
    expect(canTransition("dead", "starting")).toBe(false);
    expect(canTransition("busy", "suspending")).toBe(false);
    expect(canTransition("idle", "suspended")).toBe(false); // only through suspending
    expect(canTransition("suspended", "idle")).toBe(false); // only through resuming
    expect(canTransition("starting", "busy")).toBe(false);
    expect(canTransition("suspending", "busy")).toBe(false);
    expect(canTransition("resuming", "suspended")).toBe(false);
  });

  it("treats staying in a state as allowed", () => {
    for (const s of KERNEL_STATES) expect(canTransition(s, s)).toBe(true);
  });

  it("assertTransition throws an IllegalKernelTransition naming both states", () => {
    expect(() => assertTransition("idle", "busy")).not.toThrow();
    expect(() => assertTransition("dead", "idle")).toThrow(IllegalKernelTransition);
    expect(() => assertTransition("dead", "idle")).toThrow("a kernel cannot move from dead to idle");
  });

  it("outside the worker, suspending reads as idle, so idle -> suspended is a status change", () => {
    expect(shownStatus("suspending")).toBe("idle");
    expect(shownStatus("busy")).toBe("busy");
    expect(KERNEL_STATUSES).not.toContain("suspending");
    expect(canChangeStatus("idle", "suspended")).toBe(true);
    expect(canChangeStatus("idle", "busy")).toBe(true);
    expect(canChangeStatus("suspended", "idle")).toBe(false);
    expect(canChangeStatus("dead", "busy")).toBe(false);
    expect(canChangeStatus("busy", "suspended")).toBe(false);
  });

  it("a kernel runs only once started and until suspended or dead", () => {
    expect(KERNEL_STATES.filter(isRunning)).toEqual(["idle", "busy"]);
  });

  it("a worker reports every status but the gateway's own", () => {
    expect([...WORKER_STATUSES].sort()).toEqual(["busy", "dead", "idle", "resuming", "starting", "suspended"]);
  });
});
