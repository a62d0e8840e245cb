// Schedules and their runs: one row per fire time, claimed by one gateway at a time under a lease,
// and the notifications each run sends. Fire times, validation and retry delays are computed by
// the caller (@cellar/schedules); this store makes them happen exactly once whatever the number of
// gateways: every change of a run is one conditional write, and the writes that must see each
// other (materialising, claiming, finishing) take the schedule's row lock first.
import { randomUUID } from "node:crypto";
import {
  isRunStatus,
  NOTIFICATION_CHANNELS,
  RUN_EVENTS,
  RUN_TRIGGERS,
  type NotificationChannel,
  type RunEvent,
  type RunOutcomeStatus,
  type RunStatus,
  type RunTrigger,
  type JsonValue,
  SCHEDULE_SPEC_KEYS,
  type ScheduleSpec,
} from "@cellar/protocol";
import { overlapDecision } from "@cellar/schedules";
import type {
  Notice as NoticeRow,
  RunNotification as NotificationRow,
  Schedule as ScheduleRow,
  ScheduleRun as RunRow,
} from "../generated/sqlite/client";
import type { Dialect } from "./paths";
import type { PrismaClient } from "./prisma-client";
import { type Tx, writeTransaction } from "./write-transaction";

/** Parameter name → JSON value, injected papermill-style. */
export type ParameterValues = Record<string, JsonValue>;

/** What the owner sets on a schedule: protocol's ScheduleSpec (validated by @cellar/schedules). */
export type ScheduleSettings = ScheduleSpec;

/** A new schedule: what is left out takes the schema's default (timeout 1 h, no retries, overlap
 * skip, one at a time, catch-up skip, notify on failure, enabled). */
export type NewSchedule = { notebookId: string; ownerId: string } & Pick<ScheduleSettings, "name" | "cron" | "timezone"> &
  Partial<ScheduleSettings>;

export interface ScheduleRecord extends ScheduleSettings {
  id: string;
  /** Null once the notebook is deleted (the schedule is then disabled, its history kept). */
  notebookId: string | null;
  /** The notebook's title as of the last save of the schedule (or its deletion). */
  notebookTitle: string;
  ownerId: string;
  /** Why it is disabled when its owner did not pause it ("The notebook was deleted"). */
  disabledReason: string | null;
  /** The last fire time materialised (or when it was made, resumed or its timing changed). */
  cursor: Date;
  createdAt: Date;
  updatedAt: Date;
}

/** A schedule on the Jobs page: plus its latest run that is not waiting. */
export interface ScheduleSummary extends ScheduleRecord {
  lastRun: Pick<ScheduleRunRecord, "id" | "status" | "scheduledFor" | "startedAt" | "finishedAt" | "durationMs"> | null;
}

export interface ScheduleRunRecord {
  id: string;
  scheduleId: string;
  trigger: RunTrigger;
  scheduledFor: Date;
  status: RunStatus;
  attempt: number;
  parameters: ParameterValues;
  image: string;
  workerId: string | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  durationMs: number | null;
  failingCellId: string | null;
  failingCellIndex: number | null;
  errorName: string | null;
  errorValue: string | null;
  traceback: string | null;
  reason: string | null;
  executedNotebookId: string | null;
  leaseOwner: string | null;
  leaseExpiresAt: Date | null;
  nextAttemptAt: Date;
  cancelRequested: boolean;
  createdAt: Date;
  /** The attempts before this one that were retried, oldest first, each with its error. */
  earlierAttempts: RunAttemptRecord[];
}

/** A run in a sparkline. */
export type RunDot = Pick<ScheduleRunRecord, "id" | "status" | "scheduledFor" | "durationMs">;

/** An attempt of a run that failed (or timed out, or lost its gateway) and was retried. */
export interface RunAttemptRecord {
  attempt: number;
  status: "failed" | "timed_out";
  workerId: string | null;
  startedAt: Date | null;
  finishedAt: Date;
  failingCellId: string | null;
  failingCellIndex: number | null;
  errorName: string | null;
  errorValue: string | null;
  reason: string | null;
}

/** A claimed run and the schedule it belongs to (its notebook, owner, timeout, retries). */
export interface ClaimedRun {
  run: ScheduleRunRecord;
  schedule: ScheduleRecord;
}

/** A run as its page shows it. */
export interface RunDetail extends ScheduleRunRecord {
  schedule: Pick<ScheduleRecord, "id" | "name" | "ownerId" | "notebookId" | "notebookTitle">;
  /** The schedule's latest succeeded run before this one (what its outputs are compared with). */
  previousSuccessfulRunId: string | null;
  notifications: NotificationRecord[];
}

/** What an engine reports when it is done with a run. */
export interface RunOutcome {
  status: RunOutcomeStatus;
  workerId?: string | null;
  executedNotebookId?: string | null;
  failingCellId?: string | null;
  failingCellIndex?: number | null;
  errorName?: string | null;
  errorValue?: string | null;
  traceback?: string | null;
  reason?: string | null;
}

/** Which runs to list: one schedule's, those of a notebook's schedules, or all of a user's. */
export type RunScope = { scheduleId: string } | { notebookId: string } | { ownerId: string };

export interface RunFilter {
  status?: RunStatus[];
  /** Runs scheduled for this time or later. */
  since?: Date;
  /** Default 50, at most 500. */
  limit?: number;
}

export type NotificationStatus = "pending" | "delivered" | "failed";

export interface NotificationRecord {
  runId: string;
  channel: NotificationChannel;
  event: RunEvent;
  status: NotificationStatus;
  attempts: number;
  lastError: string | null;
  deliveredAt: Date | null;
  nextAttemptAt: Date;
}

/** A webhook delivery claimed for sending, with what its body is made of. */
export interface ClaimedNotification extends NotificationRecord {
  run: ScheduleRunRecord;
  schedule: Pick<ScheduleRecord, "id" | "name" | "ownerId" | "notebookId" | "notebookTitle" | "webhookUrl">;
}

export type NoticeKind = "run_failure" | "run_success" | "run_recovery" | "schedule_disabled";

export interface NoticeRecord {
  id: string;
  kind: NoticeKind;
  message: string;
  scheduleId: string | null;
  runId: string | null;
  createdAt: Date;
  readAt: Date | null;
}

/** A delay before retry `attempt` (1 for the first retry), in ms; @cellar/schedules has one. */
export type RetryDelay = (attempt: number) => number;

const REFUSALS = {
  "no-notebook": "No such notebook",
  "run-notebook": "An executed run cannot be scheduled; schedule the notebook it was run from",
  "notebook-deleted": "The notebook was deleted",
} as const;

/** A schedule that cannot be made, resumed or run; `reason` says why. */
export class ScheduleRefusedError extends Error {
  override name = "ScheduleRefusedError";
  constructor(readonly reason: keyof typeof REFUSALS) {
    super(REFUSALS[reason]);
  }
}

export const NOTEBOOK_DELETED = REFUSALS["notebook-deleted"];
export const PREVIOUS_RUN_GOING = "The previous run was still going";
export const MISSED_WHILE_DOWN = "Missed while no gateway was running";
const PAUSED = "The schedule was paused";

export interface ScheduleStore {
  /** A new schedule on a notebook (not an executed run), its cursor at `now`: the first fire time
   * after it is its first run. ScheduleRefusedError for a missing notebook or a run. */
  create(schedule: NewSchedule, now?: Date): Promise<ScheduleRecord>;
  /** Changes settings (and refreshes notebookTitle); a changed cron or time zone moves the cursor
   * to `now`, so the new timing does not catch up on times before the change. Null if no such
   * schedule; enabling one whose notebook is gone is refused (ScheduleRefusedError). */
  update(id: string, patch: Partial<ScheduleSettings>, now?: Date): Promise<ScheduleRecord | null>;
  get(id: string): Promise<ScheduleRecord | null>;
  /** The user's schedules (the Jobs page), newest first, each with its last run. */
  listByOwner(ownerId: string): Promise<ScheduleSummary[]>;
  /** The notebook's schedules, newest first, each with its last run. */
  listByNotebook(notebookId: string): Promise<ScheduleSummary[]>;
  /** Each schedule's latest `perSchedule` runs (default 30), latest fire time first, in one
   * query whatever the number of schedules (the Jobs page's sparklines). Every id is a key. */
  recentRuns(scheduleIds: string[], perSchedule?: number): Promise<Map<string, RunDot[]>>;
  /** Every enabled schedule: what the scheduler loop materialises. */
  listEnabled(): Promise<ScheduleRecord[]>;
  /** Deletes the schedule, its runs, their notifications and their executed copies; false if absent. */
  remove(id: string): Promise<boolean>;
  /** Disables it; its queued fire-time runs are cancelled ("Run now" runs and running ones stay). */
  pause(id: string, now?: Date): Promise<ScheduleRecord | null>;
  /** Enables it from `now` on: what was missed while paused is not caught up. Refused
   * (ScheduleRefusedError) when its notebook is gone. */
  resume(id: string, now?: Date): Promise<ScheduleRecord | null>;

  /**
   * Makes the runs of fire times the caller computed, in one transaction: a queued run for each of
   * `fireTimes` (trigger "schedule") and `backfill` (trigger "backfill"), a skipped one for each
   * of `skipped`, and the cursor moved to `cursor`, only if the cursor still is `expectedCursor`
   * and the schedule is enabled. `advanced: false` (nothing made) when another replica moved it
   * first. A time that already has a run gets no second one. A queued run may be claimed
   * `prewarmSeconds` before its time, so its kernel is ready when it fires.
   */
  materialize(
    scheduleId: string,
    times: { fireTimes: Date[]; backfill?: Date[]; skipped?: Date[]; skippedReason?: string; cursor: Date; expectedCursor: Date },
  ): Promise<{ advanced: boolean; runs: ScheduleRunRecord[] }>;
  /** "Run now": a manual run scheduled for `now` (a millisecond later if that time has a run).
   * Null if no such schedule; ScheduleRefusedError when its notebook is gone. */
  runNow(scheduleId: string, now?: Date, parameters?: ParameterValues): Promise<ScheduleRunRecord | null>;

  /**
   * Takes one queued run that is due, for `owner` until `now + leaseMs`, or null when none can
   * start. Below the schedule's maxConcurrent running runs it starts; at it, a fire-time run of an
   * overlap "skip" schedule is marked skipped (PREVIOUS_RUN_GOING) and the next candidate is tried,
   * and any other run waits. Of concurrent claimers exactly one gets a run, and claimers of one
   * schedule take turns on its row, so maxConcurrent holds on every replica.
   */
  claimNext(claim: { owner: string; leaseMs: number; now?: Date }): Promise<ClaimedRun | null>;
  /** Records where the run is going (its worker, its executed copy, when its first cell started);
   * false when `owner` does not hold it. */
  attach(runId: string, owner: string, facts: { workerId?: string; executedNotebookId?: string; startedAt?: Date }): Promise<boolean>;
  /** Extends the lease to `now + leaseMs` while it is unexpired; null when it is lost (expired,
   * taken back, finished): the holder must stop the run at once. Tells whether a cancel was asked. */
  renewLease(runId: string, owner: string, leaseMs: number, now?: Date): Promise<{ cancelRequested: boolean } | null>;
  /** Records the outcome, only for the lease's owner (null otherwise, changing nothing). A failed or
   * timed-out attempt with retries left is queued again (attempt + 1, after `retryDelay`), keeping
   * its error for the record. */
  finish(
    runId: string,
    owner: string,
    outcome: RunOutcome,
    options?: { now?: Date; retryDelay?: RetryDelay },
  ): Promise<ScheduleRunRecord | null>;
  /** A queued run is cancelled at once; a running one is asked to stop (its holder sees it on the
   * next renewLease). Null for no such run or one that has ended. */
  requestCancel(runId: string, now?: Date): Promise<ScheduleRunRecord | null>;
  /** Running runs whose lease has expired (their gateway died): queued again with the next attempt
   * after `retryDelay` when attempts remain, else failed with the reason; cancelled if a cancel was
   * asked. Returns the runs it changed. */
  expireLeases(now: Date, retryDelay: RetryDelay): Promise<ScheduleRunRecord[]>;

  /** Runs in scope, latest fire time first. */
  listRuns(scope: RunScope, filter?: RunFilter): Promise<ScheduleRunRecord[]>;
  getRun(runId: string): Promise<RunDetail | null>;

  /** Makes the run's notifications on `channels`, once per run and channel (a second call makes
   * none: returns how many it made). An in-app one is delivered at once, as a notice to the
   * schedule's owner saying `message`. */
  enqueueNotifications(
    runId: string,
    notification: { channels: NotificationChannel[]; event: RunEvent; message: string },
    now?: Date,
  ): Promise<number>;
  /** Takes one due webhook delivery for `leaseMs` (a second claimer cannot take it meanwhile) and
   * counts the attempt; null when none is due. */
  claimNotification(claim: { leaseMs: number; now?: Date }): Promise<ClaimedNotification | null>;
  markDelivered(runId: string, channel: NotificationChannel, now?: Date): Promise<boolean>;
  /** Records a failed attempt; tried again at `retryAt`, or given up ("failed") when null. */
  markFailed(runId: string, channel: NotificationChannel, error: string, retryAt: Date | null): Promise<boolean>;

  /** The user's notices, newest first. */
  listNotices(userId: string, options?: { unreadOnly?: boolean; limit?: number }): Promise<NoticeRecord[]>;
  /** Marks the user's notices read (those of `ids`, else all); how many changed. */
  markNoticesRead(userId: string, ids?: string[], now?: Date): Promise<number>;
}

export function createScheduleStore(prisma: PrismaClient, dialect: Dialect): ScheduleStore {
  const p = (i: number) => (dialect === "postgresql" ? `$${i}` : `?${i}`);

  /** Takes a row's lock until the transaction ends; false if there is no such row. On SQLite the
   * transaction holds the whole file's write lock already. Lock order everywhere: runs, then their
   * schedule (claimNext's order), so two transactions never wait on each other. */
  const lockRow = async (tx: Tx, table: "Schedule" | "ScheduleRun", id: string): Promise<boolean> => {
    const rows = await tx.$queryRawUnsafe<unknown[]>(
      `SELECT "id" FROM "${table}" WHERE "id" = ${p(1)}${dialect === "postgresql" ? " FOR UPDATE" : ""}`,
      id,
    );
    return rows.length > 0;
  };
  const lockSchedule = (tx: Tx, id: string) => lockRow(tx, "Schedule", id);

  const summaries = async (where: { ownerId: string } | { notebookId: string }): Promise<ScheduleSummary[]> => {
    const rows = await prisma.schedule.findMany({
      where,
      orderBy: [{ createdAt: "desc" }, { id: "asc" }],
      include: {
        runs: {
          where: { status: { not: "queued" } },
          orderBy: { scheduledFor: "desc" },
          take: 1,
          select: { id: true, status: true, scheduledFor: true, startedAt: true, finishedAt: true, durationMs: true },
        },
      },
    });
    return rows.map(({ runs, ...row }) => ({
      ...toSchedule(row),
      lastRun: runs[0] ? { ...runs[0], status: runStatus(runs[0].status) } : null,
    }));
  };

  const update: ScheduleStore["update"] = async (id, patch, now = new Date()) => {
    return writeTransaction(prisma, async (tx) => {
      const row = await tx.schedule.findUnique({ where: { id }, include: { notebook: { select: { title: true } } } });
      if (!row) return null;
      if (patch.enabled && !row.notebookId) throw new ScheduleRefusedError("notebook-deleted");
      const retimed =
        (patch.cron !== undefined && patch.cron !== row.cron) || (patch.timezone !== undefined && patch.timezone !== row.timezone);
      const resumed = patch.enabled === true && !row.enabled;
      // Runs before the schedule: the lock order (see lockSchedule).
      if (patch.enabled === false && row.enabled) await cancelQueued(tx, [id], PAUSED, now);
      const updated = await tx.schedule.update({
        where: { id },
        data: {
          ...settingsData(patch),
          notebookTitle: row.notebook?.title ?? row.notebookTitle,
          updatedAt: now,
          ...(retimed || resumed ? { cursor: now } : {}),
          // A reason the system gave stays while it holds (the notebook is gone).
          ...(patch.enabled !== undefined && row.notebookId ? { disabledReason: null } : {}),
        },
      });
      return toSchedule(updated);
    });
  };

  return {
    async create(schedule, now = new Date()) {
      const notebook = await prisma.notebook.findUnique({ where: { id: schedule.notebookId }, select: { title: true, kind: true } });
      if (!notebook) throw new ScheduleRefusedError("no-notebook");
      if (notebook.kind !== "notebook") throw new ScheduleRefusedError("run-notebook");
      const row = await prisma.schedule.create({
        data: {
          id: randomUUID(),
          ...settingsData(schedule),
          notebookId: schedule.notebookId,
          ownerId: schedule.ownerId,
          name: schedule.name,
          cron: schedule.cron,
          timezone: schedule.timezone,
          notebookTitle: notebook.title,
          cursor: now,
          createdAt: now,
          updatedAt: now,
        },
      });
      return toSchedule(row);
    },

    update,

    async get(id) {
      const row = await prisma.schedule.findUnique({ where: { id } });
      return row && toSchedule(row);
    },

    async recentRuns(scheduleIds, perSchedule = 30) {
      const byId = new Map<string, RunDot[]>(scheduleIds.map((id) => [id, []]));
      if (scheduleIds.length === 0) return byId;
      // One query: each schedule's runs numbered newest first, the first perSchedule kept
      // (the unique (scheduleId, scheduledFor) index serves the partitions).
      const ids = [...byId.keys()];
      const rows = await prisma.$queryRawUnsafe<
        Array<{ id: string; scheduleId: string; status: string; scheduledFor: unknown; durationMs: unknown }>
      >(
        `SELECT "id", "scheduleId", "status", "scheduledFor", "durationMs" FROM (
           SELECT "id", "scheduleId", "status", "scheduledFor", "durationMs",
                  ROW_NUMBER() OVER (PARTITION BY "scheduleId" ORDER BY "scheduledFor" DESC, "id") AS "n"
           FROM "ScheduleRun" WHERE "scheduleId" IN (${ids.map((_, i) => p(i + 2)).join(", ")})
         ) ranked WHERE "n" <= ${p(1)} ORDER BY "scheduleId", "n"`,
        Math.max(1, perSchedule),
        ...ids,
      );
      for (const row of rows)
        byId.get(row.scheduleId)?.push({
          id: row.id,
          status: runStatus(row.status),
          scheduledFor: rawDate(row.scheduledFor),
          durationMs: row.durationMs === null ? null : Number(row.durationMs),
        });
      return byId;
    },
    listByOwner: (ownerId) => summaries({ ownerId }),
    listByNotebook: (notebookId) => summaries({ notebookId }),

    async listEnabled() {
      return (await prisma.schedule.findMany({ where: { enabled: true }, orderBy: { id: "asc" } })).map(toSchedule);
    },

    async remove(id) {
      return writeTransaction(prisma, async (tx) => {
        const copies = await tx.scheduleRun.findMany({
          where: { scheduleId: id, executedNotebookId: { not: null } },
          select: { executedNotebookId: true },
        });
        const { count } = await tx.schedule.deleteMany({ where: { id } });
        // The executed copies are the runs' history: they go with it. Only notebooks of kind
        // "run", whatever a row says.
        if (count > 0 && copies.length > 0) {
          await tx.notebook.deleteMany({ where: { id: { in: copies.map((c) => c.executedNotebookId!) }, kind: "run" } });
        }
        return count > 0;
      });
    },

    pause: (id, now = new Date()) => update(id, { enabled: false }, now),
    resume: (id, now = new Date()) => update(id, { enabled: true }, now),

    async materialize(scheduleId, { fireTimes, backfill = [], skipped = [], skippedReason = MISSED_WHILE_DOWN, cursor, expectedCursor }) {
      return writeTransaction(prisma, async (tx) => {
        // The compare-and-set, and the schedule's row lock: a second replica with the same times
        // waits here, then finds the cursor moved and makes nothing.
        const { count } = await tx.schedule.updateMany({
          where: { id: scheduleId, enabled: true, cursor: expectedCursor },
          data: { cursor },
        });
        if (count === 0) return { advanced: false, runs: [] };
        const schedule = await tx.schedule.findUniqueOrThrow({
          where: { id: scheduleId },
          include: { notebook: { select: { image: true } } },
        });
        const wanted = new Map<number, { at: Date; trigger: RunTrigger; skipped: boolean }>();
        for (const at of skipped) wanted.set(at.getTime(), { at, trigger: "schedule", skipped: true });
        for (const at of backfill) wanted.set(at.getTime(), { at, trigger: "backfill", skipped: false });
        for (const at of fireTimes) wanted.set(at.getTime(), { at, trigger: "schedule", skipped: false });
        const times = [...wanted.values()].map((w) => w.at);
        const existing = await tx.scheduleRun.findMany({
          where: { scheduleId, scheduledFor: { in: times } },
          select: { scheduledFor: true },
        });
        for (const e of existing) wanted.delete(e.scheduledFor.getTime());
        const image = schedule.image ?? schedule.notebook?.image ?? "base";
        const now = new Date();
        const rows = [...wanted.values()]
          .sort((a, b) => a.at.getTime() - b.at.getTime())
          .map(({ at, trigger, skipped }) => ({
            id: randomUUID(),
            scheduleId,
            trigger,
            scheduledFor: at,
            status: skipped ? "skipped" : "queued",
            parameters: schedule.parameters,
            image,
            nextAttemptAt: new Date(at.getTime() - schedule.prewarmSeconds * 1000),
            reason: skipped ? skippedReason : null,
            finishedAt: skipped ? now : null,
            createdAt: now,
          }));
        if (rows.length > 0) await tx.scheduleRun.createMany({ data: rows });
        return {
          advanced: true,
          runs: (await tx.scheduleRun.findMany({ where: { id: { in: rows.map((r) => r.id) } }, orderBy: { scheduledFor: "asc" } })).map(
            toRun,
          ),
        };
      });
    },

    async runNow(scheduleId, now = new Date(), parameters) {
      return writeTransaction(prisma, async (tx) => {
        // The schedule's row lock, as materialize takes it, so the two never pick one time.
        if (!(await lockSchedule(tx, scheduleId))) return null;
        const schedule = await tx.schedule.findUniqueOrThrow({
          where: { id: scheduleId },
          include: { notebook: { select: { image: true } } },
        });
        if (!schedule.notebookId) throw new ScheduleRefusedError("notebook-deleted");
        let at = now.getTime();
        while (
          await tx.scheduleRun.findUnique({
            where: { scheduleId_scheduledFor: { scheduleId, scheduledFor: new Date(at) } },
            select: { id: true },
          })
        )
          at++;
        const row = await tx.scheduleRun.create({
          data: {
            id: randomUUID(),
            scheduleId,
            trigger: "manual",
            scheduledFor: new Date(at),
            status: "queued",
            parameters: parameters ? JSON.stringify(parameters) : schedule.parameters,
            image: schedule.image ?? schedule.notebook?.image ?? "base",
            nextAttemptAt: now,
            createdAt: now,
          },
        });
        return toRun(row);
      });
    },

    async claimNext({ owner, leaseMs, now = new Date() }) {
      // Every replica asks every few seconds: a read first, so that an idle tick takes no write
      // lock (on SQLite, no journal file either).
      if (!(await prisma.scheduleRun.findFirst({ where: { status: "queued", nextAttemptAt: { lte: now } }, select: { id: true } })))
        return null;
      // Each turn either claims, or skips a run (which ends it), or finds a race lost: bounded.
      for (let turn = 0; turn < 100; turn++) {
        const result = await writeTransaction(prisma, async (tx) => {
          // Due, and either room to start or a run to skip. PostgreSQL: SKIP LOCKED lets
          // concurrent claimers take different runs instead of queueing on the same one; SQLite
          // holds the file's write lock already.
          const candidates = await tx.$queryRawUnsafe<Array<{ id: string; scheduleId: string }>>(
            `SELECT r."id", r."scheduleId" FROM "ScheduleRun" r JOIN "Schedule" s ON s."id" = r."scheduleId"
             WHERE r."status" = 'queued' AND r."nextAttemptAt" <= ${p(1)}
               AND ((s."overlap" = 'skip' AND r."trigger" = 'schedule')
                    OR (SELECT COUNT(*) FROM "ScheduleRun" x WHERE x."scheduleId" = r."scheduleId" AND x."status" = 'running') < s."maxConcurrent")
             ORDER BY r."nextAttemptAt", r."scheduledFor", r."id" LIMIT 1${dialect === "postgresql" ? " FOR UPDATE OF r SKIP LOCKED" : ""}`,
            now,
          );
          const candidate = candidates[0];
          if (!candidate) return { done: true as const, claimed: null };
          // Claimers of one schedule take turns here; the count below then sees the other's run.
          await lockSchedule(tx, candidate.scheduleId);
          const schedule = await tx.schedule.findUniqueOrThrow({ where: { id: candidate.scheduleId } });
          const run = await tx.scheduleRun.findUniqueOrThrow({ where: { id: candidate.id } });
          if (run.status !== "queued") return { done: false as const };
          const running = await tx.scheduleRun.count({ where: { scheduleId: schedule.id, status: "running" } });
          // Runs that did not come from a fire time ("Run now", backfill) are never skipped: they
          // were asked for, so they wait for a slot.
          const policy = run.trigger === "schedule" && schedule.overlap === "skip" ? "skip" : "queue";
          const decision = overlapDecision({ policy, maxConcurrent: schedule.maxConcurrent, running });
          if (decision === "start") {
            const claimed = await tx.scheduleRun.update({
              where: { id: run.id },
              data: {
                status: "running",
                leaseOwner: owner,
                leaseExpiresAt: new Date(now.getTime() + leaseMs),
                startedAt: now,
                finishedAt: null,
                durationMs: null,
              },
            });
            return { done: true as const, claimed: { run: toRun(claimed), schedule: toSchedule(schedule) } };
          }
          if (decision === "skip") {
            await tx.scheduleRun.update({
              where: { id: run.id },
              data: { status: "skipped", reason: PREVIOUS_RUN_GOING, finishedAt: now },
            });
          }
          return { done: false as const };
        });
        if (result.done) return result.claimed;
      }
      return null;
    },

    async attach(runId, owner, facts) {
      const { count } = await prisma.scheduleRun.updateMany({ where: { id: runId, status: "running", leaseOwner: owner }, data: facts });
      return count === 1;
    },

    async renewLease(runId, owner, leaseMs, now = new Date()) {
      const { count } = await prisma.scheduleRun.updateMany({
        where: { id: runId, status: "running", leaseOwner: owner, leaseExpiresAt: { gt: now } },
        data: { leaseExpiresAt: new Date(now.getTime() + leaseMs) },
      });
      if (count === 0) return null;
      const row = await prisma.scheduleRun.findUnique({ where: { id: runId }, select: { cancelRequested: true } });
      return row && { cancelRequested: row.cancelRequested };
    },

    async finish(runId, owner, outcome, { now = new Date(), retryDelay } = {}) {
      return writeTransaction(prisma, async (tx) => {
        const row = await tx.scheduleRun.findUnique({ where: { id: runId }, include: { schedule: { select: { retries: true } } } });
        if (row?.status !== "running" || row.leaseOwner !== owner) return null;
        const { status, workerId, executedNotebookId } = outcome;
        // Every error field is written, so a retry that succeeds keeps no error of the one before.
        const facts = {
          ...(workerId !== undefined ? { workerId } : {}),
          ...(executedNotebookId !== undefined ? { executedNotebookId } : {}),
          failingCellId: outcome.failingCellId ?? null,
          failingCellIndex: outcome.failingCellIndex ?? null,
          errorName: outcome.errorName ?? null,
          errorValue: outcome.errorValue ?? null,
          traceback: outcome.traceback ?? null,
          reason: outcome.reason ?? null,
        };
        const retry = (status === "failed" || status === "timed_out") && !row.cancelRequested && row.attempt <= row.schedule.retries;
        const durationMs = row.startedAt ? now.getTime() - row.startedAt.getTime() : null;
        const ended: RunAttemptRecord = {
          attempt: row.attempt,
          status: status === "timed_out" ? "timed_out" : "failed",
          workerId: facts.workerId ?? row.workerId,
          startedAt: row.startedAt,
          finishedAt: now,
          failingCellId: facts.failingCellId,
          failingCellIndex: facts.failingCellIndex,
          errorName: facts.errorName,
          errorValue: facts.errorValue,
          reason: facts.reason,
        };
        const data = retry
          ? {
              ...facts,
              earlierAttempts: withAttempt(row.earlierAttempts, ended),
              status: "queued",
              attempt: row.attempt + 1,
              nextAttemptAt: new Date(now.getTime() + (retryDelay?.(row.attempt) ?? 0)),
              reason: `Attempt ${row.attempt} ${status === "failed" ? "failed" : "timed out"}${whyEnded(facts)}; trying again`,
              leaseOwner: null,
              leaseExpiresAt: null,
              durationMs,
              finishedAt: now,
            }
          : { ...facts, status, finishedAt: now, durationMs, leaseExpiresAt: null };
        const { count } = await tx.scheduleRun.updateMany({ where: { id: runId, status: "running", leaseOwner: owner }, data });
        if (count === 0) return null;
        return toRun(await tx.scheduleRun.findUniqueOrThrow({ where: { id: runId } }));
      });
    },

    async requestCancel(runId, now = new Date()) {
      return writeTransaction(prisma, async (tx) => {
        const queued = await tx.scheduleRun.updateMany({
          where: { id: runId, status: "queued" },
          data: { status: "cancelled", reason: "Cancelled before it started", finishedAt: now },
        });
        if (queued.count === 0) {
          const running = await tx.scheduleRun.updateMany({ where: { id: runId, status: "running" }, data: { cancelRequested: true } });
          if (running.count === 0) return null;
        }
        return toRun(await tx.scheduleRun.findUniqueOrThrow({ where: { id: runId } }));
      });
    },

    async expireLeases(now, retryDelay) {
      // As in claimNext: an idle tick only reads.
      if (!(await prisma.scheduleRun.findFirst({ where: { status: "running", leaseExpiresAt: { lt: now } }, select: { id: true } })))
        return [];
      return writeTransaction(prisma, async (tx) => {
        const expired = await tx.scheduleRun.findMany({
          where: { status: "running", leaseExpiresAt: { lt: now } },
          include: { schedule: { select: { retries: true } } },
          orderBy: { leaseExpiresAt: "asc" },
          take: 100,
        });
        const changed: string[] = [];
        for (const row of expired) {
          const lostAt = row.leaseExpiresAt!.toISOString();
          const data = row.cancelRequested
            ? { status: "cancelled", reason: `Cancelled; the gateway running it stopped (its lease expired at ${lostAt})` }
            : row.attempt <= row.schedule.retries
              ? {
                  status: "queued",
                  attempt: row.attempt + 1,
                  nextAttemptAt: new Date(now.getTime() + retryDelay(row.attempt)),
                  reason: `Attempt ${row.attempt}: the gateway running it stopped (its lease expired at ${lostAt}); trying again`,
                  earlierAttempts: withAttempt(row.earlierAttempts, {
                    attempt: row.attempt,
                    status: "failed",
                    workerId: row.workerId,
                    startedAt: row.startedAt,
                    finishedAt: now,
                    failingCellId: null,
                    failingCellIndex: null,
                    errorName: null,
                    errorValue: null,
                    reason: `The gateway running it stopped (its lease expired at ${lostAt})`,
                  }),
                }
              : { status: "failed", reason: `The gateway running it stopped (its lease expired at ${lostAt})` };
          const ended = data.status !== "queued";
          // Conditional on the very lease that expired: a renewal or a finish that got in first wins.
          const { count } = await tx.scheduleRun.updateMany({
            where: { id: row.id, status: "running", leaseOwner: row.leaseOwner, leaseExpiresAt: row.leaseExpiresAt },
            data: {
              ...data,
              leaseOwner: null,
              leaseExpiresAt: null,
              finishedAt: now,
              durationMs: ended && row.startedAt ? now.getTime() - row.startedAt.getTime() : row.durationMs,
            },
          });
          if (count === 1) changed.push(row.id);
        }
        const rows = await tx.scheduleRun.findMany({ where: { id: { in: changed } }, orderBy: { scheduledFor: "asc" } });
        return rows.map(toRun);
      });
    },

    async listRuns(scope, { status, since, limit = 50 } = {}) {
      const schedule =
        "scheduleId" in scope ? undefined : "notebookId" in scope ? { notebookId: scope.notebookId } : { ownerId: scope.ownerId };
      const rows = await prisma.scheduleRun.findMany({
        where: {
          ...("scheduleId" in scope ? { scheduleId: scope.scheduleId } : { schedule }),
          ...(status ? { status: { in: status } } : {}),
          ...(since ? { scheduledFor: { gte: since } } : {}),
        },
        orderBy: [{ scheduledFor: "desc" }, { id: "asc" }],
        take: Math.min(Math.max(1, limit), 500),
      });
      return rows.map(toRun);
    },

    async getRun(runId) {
      const row = await prisma.scheduleRun.findUnique({
        where: { id: runId },
        include: {
          schedule: { select: { id: true, name: true, ownerId: true, notebookId: true, notebookTitle: true } },
          notifications: { orderBy: { channel: "asc" } },
        },
      });
      if (!row) return null;
      const previous = await prisma.scheduleRun.findFirst({
        where: { scheduleId: row.scheduleId, status: "succeeded", scheduledFor: { lt: row.scheduledFor } },
        orderBy: { scheduledFor: "desc" },
        select: { id: true },
      });
      const { schedule, notifications, ...run } = row;
      return { ...toRun(run), schedule, previousSuccessfulRunId: previous?.id ?? null, notifications: notifications.map(toNotification) };
    },

    async enqueueNotifications(runId, { channels, event, message }, now = new Date()) {
      return writeTransaction(prisma, async (tx) => {
        // The run's row lock: a second replica enqueueing the same run waits, then finds them made.
        if (!(await lockRow(tx, "ScheduleRun", runId))) return 0;
        const run = await tx.scheduleRun.findUniqueOrThrow({
          where: { id: runId },
          select: { scheduleId: true, schedule: { select: { ownerId: true } } },
        });
        const existing = new Set(
          (await tx.runNotification.findMany({ where: { runId }, select: { channel: true } })).map((n) => n.channel),
        );
        let made = 0;
        for (const channel of new Set(channels)) {
          if (existing.has(channel)) continue;
          const inApp = channel === "in_app";
          await tx.runNotification.create({
            data: {
              runId,
              channel,
              event,
              status: inApp ? "delivered" : "pending",
              attempts: inApp ? 1 : 0,
              deliveredAt: inApp ? now : null,
              nextAttemptAt: now,
              createdAt: now,
            },
          });
          if (inApp) {
            await tx.notice.create({
              data: {
                id: randomUUID(),
                userId: run.schedule.ownerId,
                kind: `run_${event}`,
                message,
                scheduleId: run.scheduleId,
                runId,
                createdAt: now,
              },
            });
          }
          made++;
        }
        return made;
      });
    },

    async claimNotification({ leaseMs, now = new Date() }) {
      for (let turn = 0; turn < 20; turn++) {
        const due = await prisma.runNotification.findFirst({
          where: { channel: "webhook", status: "pending", nextAttemptAt: { lte: now } },
          orderBy: [{ nextAttemptAt: "asc" }, { runId: "asc" }],
        });
        if (!due) return null;
        // Conditional on what was read: of two claimers, the second finds it changed.
        const { count } = await prisma.runNotification.updateMany({
          where: { runId: due.runId, channel: due.channel, status: "pending", nextAttemptAt: due.nextAttemptAt, attempts: due.attempts },
          data: { nextAttemptAt: new Date(now.getTime() + leaseMs), attempts: due.attempts + 1 },
        });
        if (count === 0) continue;
        const row = await prisma.runNotification.findUniqueOrThrow({
          where: { runId_channel: { runId: due.runId, channel: due.channel } },
          include: {
            run: {
              include: {
                schedule: { select: { id: true, name: true, ownerId: true, notebookId: true, notebookTitle: true, webhookUrl: true } },
              },
            },
          },
        });
        const { run, ...notification } = row;
        const { schedule, ...runRow } = run;
        return { ...toNotification(notification), run: toRun(runRow), schedule };
      }
      return null;
    },

    async markDelivered(runId, channel, now = new Date()) {
      const { count } = await prisma.runNotification.updateMany({
        where: { runId, channel, status: "pending" },
        data: { status: "delivered", deliveredAt: now, lastError: null },
      });
      return count === 1;
    },

    async markFailed(runId, channel, error, retryAt) {
      const { count } = await prisma.runNotification.updateMany({
        where: { runId, channel, status: "pending" },
        data: retryAt ? { lastError: error, nextAttemptAt: retryAt } : { lastError: error, status: "failed" },
      });
      return count === 1;
    },

    async listNotices(userId, { unreadOnly = false, limit = 50 } = {}) {
      const rows = await prisma.notice.findMany({
        where: { userId, ...(unreadOnly ? { readAt: null } : {}) },
        orderBy: [{ createdAt: "desc" }, { id: "asc" }],
        take: Math.min(Math.max(1, limit), 500),
      });
      return rows.map(toNotice);
    },

    async markNoticesRead(userId, ids, now = new Date()) {
      const { count } = await prisma.notice.updateMany({
        where: { userId, readAt: null, ...(ids ? { id: { in: ids } } : {}) },
        data: { readAt: now },
      });
      return count;
    },
  };
}

/**
 * Disables the notebook's schedules before it is deleted, in the deleting transaction: reason
 * NOTEBOOK_DELETED, their queued runs cancelled, their running ones asked to stop, a notice to
 * each owner. The delete's SET NULL then detaches them; runs and notices stay.
 */
export async function disableSchedulesOfNotebook(tx: Tx, notebookId: string, now = new Date()): Promise<void> {
  const schedules = await tx.schedule.findMany({ where: { notebookId }, select: { id: true, ownerId: true, name: true, enabled: true } });
  if (schedules.length === 0) return;
  const ids = schedules.map((s) => s.id);
  // Runs before schedules: the lock order claimNext takes.
  await cancelQueued(tx, ids, NOTEBOOK_DELETED, now, true);
  await tx.scheduleRun.updateMany({ where: { scheduleId: { in: ids }, status: "running" }, data: { cancelRequested: true } });
  await tx.schedule.updateMany({ where: { id: { in: ids } }, data: { enabled: false, disabledReason: NOTEBOOK_DELETED, updatedAt: now } });
  await tx.notice.createMany({
    data: schedules
      .filter((s) => s.enabled)
      .map((s) => ({
        id: randomUUID(),
        userId: s.ownerId,
        kind: "schedule_disabled",
        message: `The schedule "${s.name}" was disabled: its notebook was deleted`,
        scheduleId: s.id,
        createdAt: now,
      })),
  });
}

/** Cancels the schedules' queued runs (with `manual`, "Run now" runs too). */
async function cancelQueued(tx: Tx, scheduleIds: string[], reason: string, now: Date, manual = false): Promise<void> {
  await tx.scheduleRun.updateMany({
    where: { scheduleId: { in: scheduleIds }, status: "queued", ...(manual ? {} : { trigger: { not: "manual" } }) },
    data: { status: "cancelled", reason, finishedAt: now },
  });
}

/** The settings given, as columns (parameters as JSON text); keys left out are not written. */
function settingsData(settings: Partial<ScheduleSettings>): Partial<Omit<ScheduleSettings, "parameters"> & { parameters: string }> {
  const data: Record<string, unknown> = {};
  for (const key of SCHEDULE_SPEC_KEYS) {
    const value = settings[key];
    if (value !== undefined) data[key] = key === "parameters" ? JSON.stringify(value) : value;
  }
  return data;
}

function parseParameters(text: string): ParameterValues {
  try {
    const value = JSON.parse(text) as unknown;
    return value && typeof value === "object" && !Array.isArray(value) ? (value as ParameterValues) : {};
  } catch {
    return {};
  }
}

/** ": <what ended the attempt>" (its reason, else its error), or nothing when neither is known. */
function whyEnded(facts: { reason: string | null; errorName: string | null; errorValue: string | null }): string {
  const why = facts.reason ?? [facts.errorName, facts.errorValue].filter(Boolean).join(": ");
  return why ? `: ${why.replace(/\.$/, "")}` : "";
}

/** A DateTime as a raw query returns it: a Date (PostgreSQL), or what SQLite stored (text or epoch ms). */
function rawDate(value: unknown): Date {
  if (value instanceof Date) return value;
  if (typeof value === "number" || typeof value === "bigint") return new Date(Number(value));
  return new Date(String(value));
}

/** A status this version does not know reads as failed: shown as ended, never claimed. */
function runStatus(stored: string): RunStatus {
  return isRunStatus(stored) ? stored : "failed";
}

function toSchedule(row: ScheduleRow): ScheduleRecord {
  return {
    id: row.id,
    notebookId: row.notebookId,
    notebookTitle: row.notebookTitle,
    ownerId: row.ownerId,
    name: row.name,
    cron: row.cron,
    timezone: row.timezone,
    parameters: parseParameters(row.parameters),
    image: row.image,
    timeoutSeconds: row.timeoutSeconds,
    retries: row.retries,
    retryBackoffSeconds: row.retryBackoffSeconds,
    overlap: row.overlap === "queue" ? "queue" : "skip",
    maxConcurrent: row.maxConcurrent,
    catchUp: row.catchUp === "once" || row.catchUp === "backfill" ? row.catchUp : "skip",
    backfillLimit: row.backfillLimit,
    prewarmSeconds: row.prewarmSeconds,
    notifyOnFailure: row.notifyOnFailure,
    notifyOnSuccess: row.notifyOnSuccess,
    notifyOnRecovery: row.notifyOnRecovery,
    webhookUrl: row.webhookUrl,
    enabled: row.enabled,
    disabledReason: row.disabledReason,
    cursor: row.cursor,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/** The stored attempts (JSON text) with one more, as JSON text. */
function withAttempt(stored: string, attempt: RunAttemptRecord): string {
  return JSON.stringify([...parseAttempts(stored), attempt]);
}

/** Stored attempts that are not a JSON array read as none: the run stays readable. */
function parseAttempts(text: string): RunAttemptRecord[] {
  try {
    const value: unknown = JSON.parse(text);
    if (!Array.isArray(value)) return [];
    return value
      .filter((a): a is Record<string, unknown> => typeof a === "object" && a !== null && typeof a.attempt === "number")
      .map((a) => ({
        attempt: a.attempt as number,
        status: a.status === "timed_out" ? "timed_out" : "failed",
        workerId: typeof a.workerId === "string" ? a.workerId : null,
        startedAt: typeof a.startedAt === "string" ? new Date(a.startedAt) : null,
        finishedAt: new Date(typeof a.finishedAt === "string" ? a.finishedAt : 0),
        failingCellId: typeof a.failingCellId === "string" ? a.failingCellId : null,
        failingCellIndex: typeof a.failingCellIndex === "number" ? a.failingCellIndex : null,
        errorName: typeof a.errorName === "string" ? a.errorName : null,
        errorValue: typeof a.errorValue === "string" ? a.errorValue : null,
        reason: typeof a.reason === "string" ? a.reason : null,
      }));
  } catch {
    return [];
  }
}

function toRun(row: RunRow): ScheduleRunRecord {
  return {
    ...row,
    earlierAttempts: parseAttempts(row.earlierAttempts),
    trigger: (RUN_TRIGGERS as readonly string[]).includes(row.trigger) ? (row.trigger as RunTrigger) : "schedule",
    status: runStatus(row.status),
    parameters: parseParameters(row.parameters),
  };
}

function toNotification(row: NotificationRow): NotificationRecord {
  return {
    runId: row.runId,
    channel: (NOTIFICATION_CHANNELS as readonly string[]).includes(row.channel) ? (row.channel as NotificationChannel) : "webhook",
    event: (RUN_EVENTS as readonly string[]).includes(row.event) ? (row.event as RunEvent) : "failure",
    status: row.status === "delivered" || row.status === "failed" ? row.status : "pending",
    attempts: row.attempts,
    lastError: row.lastError,
    deliveredAt: row.deliveredAt,
    nextAttemptAt: row.nextAttemptAt,
  };
}

function toNotice(row: NoticeRow): NoticeRecord {
  return {
    id: row.id,
    kind: row.kind as NoticeKind,
    message: row.message,
    scheduleId: row.scheduleId,
    runId: row.runId,
    createdAt: row.createdAt,
    readAt: row.readAt,
  };
}
