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

  it("lets a change through at once when showAtOnce says so of what is shown", async () => {
    const empty = (shown: number[]) => shown.length === 0;
    const { result, rerender } = renderHook(({ v }) => useThrottledValue(v, 100, empty), { initialProps: { v: [9] } });
    await act(async () => vi.advanceTimersByTimeAsync(500));
    const cleared: number[] = [];
    rerender({ v: cleared });
    expect(result.current).toBe(cleared);
    const first = [1];
    rerender({ v: first }); // within the interval, but nothing is shown: at once
    expect(result.current).toBe(first);
    rerender({ v: [1, 2] }); // something is shown now: throttled
    expect(result.current).toBe(first);
    await act(async () => vi.advanceTimersByTimeAsync(100));
    expect(result.current).toEqual([1, 2]);
  });
});
