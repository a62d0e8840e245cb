// Every state a scheduled run can be in, and every move between them, stated once (like
// kernel-states.ts for kernels). The database store moves runs only along this table; the API,
// the CLI and the Runs panel show these names.

/** "queued": waiting for its fire time, a free slot or a retry's backoff; "running": claimed by
 * one gateway under a lease; the rest are final. "skipped": never ran (the previous run was still
 * going, or a fire time missed while no gateway ran). */
export const RUN_STATUSES = ["queued", "running", "succeeded", "failed", "timed_out", "cancelled", "skipped"] as const;

export type RunStatus = (typeof RUN_STATUSES)[number];

/** From each status, the statuses it may move to. running → queued is a retry (a failed attempt
 * with attempts left, or a lease that expired). Final statuses move nowhere. */
export const RUN_TRANSITIONS = {
  queued: ["running", "skipped", "cancelled"],
  running: ["queued", "succeeded", "failed", "timed_out", "cancelled"],
  succeeded: [],
  failed: [],
  timed_out: [],
  cancelled: [],
  skipped: [],
} as const satisfies Record<RunStatus, readonly RunStatus[]>;

/** The statuses a run ends in. */
export type FinalRunStatus = { [S in RunStatus]: (typeof RUN_TRANSITIONS)[S] extends readonly [] ? S : never }[RunStatus];

export const FINAL_RUN_STATUSES = RUN_STATUSES.filter((s): s is FinalRunStatus => RUN_TRANSITIONS[s].length === 0);

/** How a run an engine finished ended (what `finish` records). */
export type RunOutcomeStatus = Extract<FinalRunStatus, "succeeded" | "failed" | "timed_out" | "cancelled">;

/** What made a run: its schedule's fire time, "Run now", or a fire time caught up after downtime. */
export const RUN_TRIGGERS = ["schedule", "manual", "backfill"] as const;

export type RunTrigger = (typeof RUN_TRIGGERS)[number];

/** Where a run's notification goes: a notice in the app, a webhook POST. */
export const NOTIFICATION_CHANNELS = ["in_app", "webhook"] as const;

export type NotificationChannel = (typeof NOTIFICATION_CHANNELS)[number];

/** What a run's notification tells: it failed, it succeeded, it succeeded after a failure. */
export const RUN_EVENTS = ["failure", "success", "recovery"] as const;

export type RunEvent = (typeof RUN_EVENTS)[number];

export function isRunStatus(value: unknown): value is RunStatus {
  return typeof value === "string" && (RUN_STATUSES as readonly string[]).includes(value);
}

export function isFinalRunStatus(status: RunStatus): status is FinalRunStatus {
  return RUN_TRANSITIONS[status].length === 0;
}

/** Whether a run in `from` may move to `to` (staying is not a move, and is false here: a final
 * run is never written again). */
export function canMoveRun(from: RunStatus, to: RunStatus): boolean {
  return (RUN_TRANSITIONS[from] as readonly RunStatus[]).includes(to);
}

/** The statuses from which a run may move to `to`: what the store puts in its WHERE clauses, so a
 * write that the table does not allow changes no row. */
export function runStatusesBefore(to: RunStatus): RunStatus[] {
  return RUN_STATUSES.filter((from) => canMoveRun(from, to));
}
