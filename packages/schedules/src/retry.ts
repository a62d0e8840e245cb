// How long a failed run waits before its next attempt. Hand-written: the exponential-backoff
// package exposes only `backOff(fn)`, which sleeps in-process between calls, whereas a run's next
// attempt is a row's nextAttemptAt that any gateway may pick up.

export interface RetryBackoff {
  /** The first retry's delay before jitter (the schedule's retryBackoffSeconds × 1000). */
  baseMs: number;
  /** No delay is longer than this. */
  maxMs: number;
}

/** The delay before retry `attempt` (1 = the first retry): base × 2^(attempt−1), capped, with
 * "equal jitter" (half of it fixed, half random) so retries of runs that failed together spread
 * out yet never come sooner than half the delay. `random` is in [0, 1); tests pass their own. */
export function retryDelayMs(attempt: number, { baseMs, maxMs }: RetryBackoff, random: () => number = Math.random): number {
  const delay = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(delay / 2 + (random() * delay) / 2);
}
