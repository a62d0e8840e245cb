import { describe, expect, it } from "vitest";
import {
  canMoveRun,
  FINAL_RUN_STATUSES,
  isFinalRunStatus,
  isRunStatus,
  RUN_STATUSES,
  RUN_TRANSITIONS,
  runStatusesBefore,
} from "./run-states";

describe("run states", () => {
  it("has a row for every status, naming only statuses of the list", () => {
    expect(Object.keys(RUN_TRANSITIONS).sort()).toEqual([...RUN_STATUSES].sort());
    for (const targets of Object.values(RUN_TRANSITIONS)) for (const t of targets) expect(isRunStatus(t)).toBe(true);
  });

  it("a run is queued, runs once claimed, and ends in one final status", () => {
    expect(canMoveRun("queued", "running")).toBe(true);
    for (const end of ["succeeded", "failed", "timed_out", "cancelled"] as const) expect(canMoveRun("running", end)).toBe(true);
    // A retry: the attempt failed or its gateway vanished, and attempts remain.
    expect(canMoveRun("running", "queued")).toBe(true);
    // Skipped or cancelled before it ever started.
    expect(canMoveRun("queued", "skipped")).toBe(true);
    expect(canMoveRun("queued", "cancelled")).toBe(true);
    expect(canMoveRun("queued", "succeeded")).toBe(false);
    expect(canMoveRun("running", "skipped")).toBe(false);
  });

  it("a final run never changes again", () => {
    expect(FINAL_RUN_STATUSES).toEqual(["succeeded", "failed", "timed_out", "cancelled", "skipped"]);
    for (const from of FINAL_RUN_STATUSES) {
      expect(isFinalRunStatus(from)).toBe(true);
      for (const to of RUN_STATUSES) expect(canMoveRun(from, to)).toBe(false);
    }
    expect(isFinalRunStatus("running")).toBe(false);
  });

  it("names the statuses a write to a status may start from", () => {
    expect(runStatusesBefore("running")).toEqual(["queued"]);
    expect(runStatusesBefore("cancelled")).toEqual(["queued", "running"]);
    expect(runStatusesBefore("queued")).toEqual(["running"]);
    expect(isRunStatus("paused")).toBe(false);
  });
});
