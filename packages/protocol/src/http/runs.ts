// Replies of a schedule's runs, their notices, and the routes' params (issue 14). A run's
// executed notebook is a notebook of kind "run": opened, exported and downloaded through the
// notebook routes with its id.
import { z } from "zod";
import { NOTIFICATION_CHANNELS, RUN_EVENTS, RUN_STATUSES, RUN_TRIGGERS } from "../run-states";
import { jsonValueSchema, scheduleReplySchema } from "./schedules";

export const scheduleParamsSchema = z.object({ scheduleId: z.string().min(1).max(100) });
export const runParamsSchema = z.object({ runId: z.string().min(1).max(100) });

export const runStatusSchema = z.enum(RUN_STATUSES);

/** An attempt of a run that failed (or lost its gateway) and was retried. */
export const runAttemptSchema = z.object({
  attempt: z.number(),
  status: z.enum(["failed", "timed_out"]),
  workerId: z.string().nullable(),
  startedAt: z.string().nullable(),
  finishedAt: z.string(),
  failingCellId: z.string().nullable(),
  failingCellIndex: z.number().nullable(),
  errorName: z.string().nullable(),
  errorValue: z.string().nullable(),
  reason: z.string().nullable(),
});
export type RunAttemptReply = z.infer<typeof runAttemptSchema>;

export const runReplySchema = z.object({
  id: z.string(),
  scheduleId: z.string(),
  scheduleName: z.string(),
  notebookId: z.string().nullable(),
  notebookTitle: z.string(),
  trigger: z.enum(RUN_TRIGGERS),
  status: runStatusSchema,
  /** ISO 8601: the fire time (or when "Run now" was pressed). */
  scheduledFor: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  durationMs: z.number().nullable(),
  attempt: z.number(),
  parameters: z.record(z.string(), jsonValueSchema),
  image: z.string(),
  workerId: z.string().nullable(),
  failingCellId: z.string().nullable(),
  failingCellIndex: z.number().nullable(),
  errorName: z.string().nullable(),
  errorValue: z.string().nullable(),
  traceback: z.string().nullable(),
  reason: z.string().nullable(),
  /** The executed copy (a read-only notebook); null until the run has started. */
  executedNotebookId: z.string().nullable(),
  cancelRequested: z.boolean(),
  /** The attempts before this one that were retried, oldest first (the run's own error fields
   * are the latest attempt's). */
  earlierAttempts: z.array(runAttemptSchema),
});
export type RunReply = z.infer<typeof runReplySchema>;

export const notificationReplySchema = z.object({
  channel: z.enum(NOTIFICATION_CHANNELS),
  event: z.enum(RUN_EVENTS),
  status: z.enum(["pending", "delivered", "failed"]),
  attempts: z.number(),
  lastError: z.string().nullable(),
  deliveredAt: z.string().nullable(),
});

export const runDetailReplySchema = runReplySchema.extend({
  /** The schedule's latest succeeded run before this one: what the outputs diff compares with. */
  previousSuccessfulRunId: z.string().nullable(),
  notifications: z.array(notificationReplySchema),
});
export type RunDetailReply = z.infer<typeof runDetailReplySchema>;

/** A run in a sparkline: enough to colour and size it. */
export const runDotSchema = runReplySchema.pick({ id: true, status: true, scheduledFor: true, durationMs: true });

/** A schedule on the Jobs page and the Runs panel: its last 30 runs, newest first. */
export const scheduleSummaryReplySchema = scheduleReplySchema.extend({
  ownerName: z.string(),
  recentRuns: z.array(runDotSchema),
});
export type ScheduleSummaryReply = z.infer<typeof scheduleSummaryReplySchema>;

export const runListQuerySchema = z.object({
  /** Comma-separated statuses. */
  status: z
    .string()
    .regex(/^[a-z_]+(,[a-z_]+)*$/)
    .optional(),
  limit: z.coerce.number().int().min(1).max(500).optional(),
});

export const runNowBodySchema = z
  .strictObject({ parameters: z.record(z.string(), jsonValueSchema).optional() }, { error: "A JSON object" })
  .nullish();

/** One cell of a run against the schedule's previous successful run: its outputs as text. */
export const runDiffCellSchema = z.object({
  cellId: z.string(),
  index: z.number(),
  /** "changed": same cell, other outputs; "added"/"removed": the cell is only in this/that run. */
  change: z.enum(["same", "changed", "added", "removed"]),
  source: z.string(),
  before: z.string(),
  after: z.string(),
});
export const runDiffReplySchema = z.object({
  runId: z.string(),
  /** Null when there is no earlier successful run to compare with. */
  previousRunId: z.string().nullable(),
  cells: z.array(runDiffCellSchema),
});
export type RunDiffReply = z.infer<typeof runDiffReplySchema>;

export const noticeReplySchema = z.object({
  id: z.string(),
  kind: z.enum(["run_failure", "run_success", "run_recovery", "schedule_disabled"]),
  message: z.string(),
  scheduleId: z.string().nullable(),
  runId: z.string().nullable(),
  createdAt: z.string(),
  readAt: z.string().nullable(),
});
export type NoticeReply = z.infer<typeof noticeReplySchema>;

export const markNoticesReadBodySchema = z.strictObject({ ids: z.array(z.string()).max(500).optional() });
