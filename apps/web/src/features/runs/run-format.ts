// How runs read in lists and on the run page.
import type { RunAttemptReply, RunTrigger } from "@cellar/protocol";
import { formatDuration } from "../notebook/format-duration";

export const runHref = (runId: string) => `/run/?id=${encodeURIComponent(runId)}`;

export const TRIGGER_LABELS: Record<RunTrigger, string> = { schedule: "Scheduled", manual: "Run now", backfill: "Backfill" };

/** A run's duration, or "—" before it has one. */
export const runDuration = (ms: number | null) => (ms === null ? "—" : formatDuration(ms));

/** "Attempt 1 failed in cell 2 on worker w1: ZeroDivisionError: division by zero" — what ended
 * an attempt that was retried (its error, else the reason it was given). */
export function attemptSummary(a: RunAttemptReply): string {
  const where = [
    a.failingCellIndex !== null ? ` in cell ${a.failingCellIndex + 1}` : "",
    a.workerId ? ` on worker ${a.workerId}` : "",
  ].join("");
  const error = [a.errorName, a.errorValue].filter(Boolean).join(": ");
  const why = error || a.reason;
  return `Attempt ${a.attempt} ${a.status === "timed_out" ? "timed out" : "failed"}${where}${why ? `: ${why}` : ""}`;
}
