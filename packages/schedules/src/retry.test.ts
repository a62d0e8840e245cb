import { describe, expect, it } from "vitest";
import { retryDelayMs } from "./retry";

const backoff = { baseMs: 1000, maxMs: 60_000 };

describe("retryDelayMs", () => {
  it("doubles with each attempt: between half and all of base × 2^(attempt−1)", () => {
    expect([1, 2, 3, 4].map((a) => retryDelayMs(a, backoff, () => 0))).toEqual([500, 1000, 2000, 4000]);
    expect([1, 2, 3, 4].map((a) => retryDelayMs(a, backoff, () => 0.999999))).toEqual([1000, 2000, 4000, 8000]);
  });

  it("never waits longer than the cap", () => {
    expect(retryDelayMs(20, backoff, () => 0.999999)).toBe(60_000);
    expect(retryDelayMs(20, backoff, () => 0)).toBe(30_000);
  });

  it("spreads retries of runs that failed together", () => {
    const delays = new Set(Array.from({ length: 20 }, () => retryDelayMs(3, backoff)));
    expect(delays.size).toBeGreaterThan(1);
    for (const d of delays) {
      expect(d).toBeGreaterThanOrEqual(2000);
      expect(d).toBeLessThanOrEqual(4000);
    }
  });

  it("treats attempt 0 like the first retry", () => {
    expect(retryDelayMs(0, backoff, () => 0)).toBe(500);
  });
});
