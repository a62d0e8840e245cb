import { describe, expect, it } from "vitest";
import { overlapDecision } from "./overlap";

describe("overlapDecision", () => {
  it.each([
    ["skip", 1, 0, "start"],
    ["skip", 1, 1, "skip"],
    ["queue", 1, 0, "start"],
    ["queue", 1, 1, "wait"],
    ["skip", 2, 1, "start"],
    ["skip", 2, 2, "skip"],
    ["queue", 2, 1, "start"],
    ["queue", 2, 2, "wait"],
    ["queue", 2, 3, "wait"],
  ] as const)("policy %s, max %i, %i running: %s", (policy, maxConcurrent, running, decision) => {
    expect(overlapDecision({ policy, maxConcurrent, running })).toBe(decision);
  });
});
