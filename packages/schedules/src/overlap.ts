// What a fire time's run does when others of its schedule are still running, stated once: the
// database store applies it in the same transaction that claims the run, so two claimers never
// both see room for one more.
import type { OverlapPolicy } from "@cellar/protocol";

/** "start": run it now; "wait": leave it queued until a running one finishes; "skip": record it
 * as skipped ("previous run still going"). */
export type OverlapDecision = "start" | "wait" | "skip";

export function overlapDecision({
  policy,
  maxConcurrent,
  running,
}: {
  policy: OverlapPolicy;
  maxConcurrent: number;
  running: number;
}): OverlapDecision {
  if (running < maxConcurrent) return "start";
  return policy === "queue" ? "wait" : "skip";
}
