// @vitest-environment jsdom
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { act, cleanup, renderHook } from "@testing-library/react";
import { useThrottledValue } from "./use-throttled-value";

beforeEach(() => vi.useFakeTimers());
afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

describe("useThrottledValue", () => {
  it("shows the first change at once and a burst's latest value once per interval", async () => {
    const { result, rerender } = renderHook(({ v }) => useThrottledValue(v, 100), { initialProps: { v: 0 } });
    expect(result.current).toBe(0);
    await act(async () => vi.advanceTimersByTimeAsync(500));
    rerender({ v: 1 });
    expect(result.current).toBe(1); // after a quiet spell: immediately
    rerender({ v: 2 });
    rerender({ v: 3 });
    expect(result.current).toBe(1);
    await act(async () => vi.advanceTimersByTimeAsync(100));
    expect(result.current).toBe(3);
  });
});
