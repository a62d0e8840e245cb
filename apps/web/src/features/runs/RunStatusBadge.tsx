"use client";
import type { RunStatus } from "@cellar/protocol";
import "./runs.css";

export const RUN_STATUS_LABELS: Record<RunStatus, string> = {
  queued: "Queued",
  running: "Running",
  succeeded: "Succeeded",
  failed: "Failed",
  timed_out: "Timed out",
  cancelled: "Cancelled",
  skipped: "Skipped",
};

/** A run's status as a coloured pill; `data-status` carries the API's name for tests. */
export function RunStatusBadge({ status, testId = "run-status-badge" }: { status: RunStatus; testId?: string }) {
  return (
    <span className={`run-badge run-badge-${status}`} data-testid={testId} data-status={status}>
      {RUN_STATUS_LABELS[status]}
    </span>
  );
}
