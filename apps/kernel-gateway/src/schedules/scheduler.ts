// The schedules' clock, run on every gateway replica. Nothing here is a timer per schedule: each
// tick asks the database what is due, and the database decides who does it. Fire times become
// rows (one per schedule and time, by compare-and-set on the schedule's cursor), runs are claimed
// under leases, a lease this replica cannot renew stops its run at once, and leases left by a
// replica that died are expired here and retried or failed. So every fire time gets exactly one
// run whatever the number of replicas and however their clocks tick.
import type { ClaimedRun, ScheduleRecord, ScheduleRunRecord, ScheduleStore } from "@cellar/db";
import { dueFireTimes, nextFireTimes, retryDelayMs } from "@cellar/schedules";
import type { RunOutcome, RunRequest } from "../runs/notebook-runner";
import { runEventOf, notificationOf } from "./run-notifications";

export interface SchedulerOptions {
  store: Pick<
    ScheduleStore,
    "listEnabled" | "materialize" | "claimNext" | "attach" | "renewLease" | "finish" | "expireLeases" | "listRuns" | "enqueueNotifications"
  >;
  run(request: RunRequest): Promise<RunOutcome>;
  /** This replica's name in the leases it holds. */
  owner: string;
  /** Whether this replica can start a kernel now (it has a worker to place it on): a replica
   * without one claims nothing, and leaves the runs to those that have. */
  canRun?: () => boolean;
  /** How often the database is asked what is due. */
  tickMs?: number;
  /** A lease is renewed every third of this; a replica silent this long has lost its runs. */
  leaseMs?: number;
  /** Runs this replica executes at once (each holds a kernel on some worker). */
  maxRuns?: number;
  now?: () => Date;
  log?: (line: string) => void;
}

/** Ticks closer together than this would only load the database. */
const MIN_WAIT_MS = 20;
/** The longest wait before a retry, whatever the schedule's backoff. */
const MAX_RETRY_DELAY_MS = 3_600_000;
/** The backoff of runs whose gateway died (their schedule's own is not at hand there). */
const EXPIRED_LEASE_BACKOFF = { baseMs: 30_000, maxMs: MAX_RETRY_DELAY_MS };

export class Scheduler {
  private readonly tickMs: number;
  private readonly leaseMs: number;
  private readonly maxRuns: number;
  private readonly now: () => Date;
  private readonly log: (line: string) => void;
  private readonly running = new Map<string, AbortController>();
  private readonly finishing = new Set<Promise<void>>();
  private timer?: NodeJS.Timeout;
  private ticking?: Promise<void>;
  private stopped = false;
  /** When the earliest upcoming fire time becomes due (epoch ms), as of the last tick. */
  private nextWake?: number;

  constructor(private readonly opts: SchedulerOptions) {
    this.tickMs = opts.tickMs ?? 5_000;
    this.leaseMs = opts.leaseMs ?? 30_000;
    this.maxRuns = opts.maxRuns ?? 2;
    this.now = opts.now ?? (() => new Date());
    this.log = opts.log ?? ((line) => console.warn(line));
  }

  /** Ticks every tickMs, and also at the next fire time (less its pre-warm) when that comes
   * sooner, so a run starts on time rather than up to a tick late. */
  start(): void {
    const loop = () => {
      if (this.stopped) return;
      this.ticking = this.tick()
        .catch((e) => this.log(`scheduler: tick failed: ${(e as Error).message}`))
        .finally(() => {
          if (this.stopped) return;
          const wait = this.nextWake === undefined ? this.tickMs : this.nextWake - this.now().getTime();
          this.timer = setTimeout(loop, Math.max(MIN_WAIT_MS, Math.min(this.tickMs, wait))).unref();
        });
    };
    loop();
  }

  /** Stops claiming, and stops the runs this replica holds: their leases lapse and another replica
   * retries them (or fails them with the reason), as it would had this one died. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.ticking;
    for (const controller of this.running.values()) controller.abort(new Error("The gateway running it stopped"));
    await Promise.allSettled([...this.finishing]);
  }

  /** One pass: expire dead replicas' leases, materialise what is due, claim what this replica can
   * run. Exposed for tests, which drive the clock themselves. */
  async tick(): Promise<void> {
    const now = this.now();
    const expired = await this.opts.store.expireLeases(now, (attempt) => retryDelayMs(attempt, EXPIRED_LEASE_BACKOFF));
    for (const run of expired) this.log(`scheduler: run ${run.id}'s lease expired: now ${run.status}`);
    this.nextWake = undefined;
    for (const schedule of await this.opts.store.listEnabled()) {
      await this.materialize(schedule, now);
      this.noteNextFire(schedule, now);
    }
    while (!this.stopped && this.running.size < this.maxRuns && (this.opts.canRun?.() ?? true)) {
      const claimed = await this.opts.store.claimNext({ owner: this.opts.owner, leaseMs: this.leaseMs, now: this.now() });
      if (!claimed) break;
      this.execute(claimed);
    }
  }

  /** Resolves when the runs this replica started have finished (for tests). */
  async idle(): Promise<void> {
    while (this.finishing.size) await Promise.allSettled([...this.finishing]);
  }

  /** Keeps the earliest moment a schedule's next fire time (less its pre-warm) can be claimed. */
  private noteNextFire(schedule: ScheduleRecord, now: Date): void {
    try {
      const prewarmMs = schedule.prewarmSeconds * 1000;
      const [next] = nextFireTimes(schedule.cron, schedule.timezone, new Date(now.getTime() + prewarmMs), 1);
      if (!next) return;
      const wake = next.getTime() - prewarmMs;
      if (this.nextWake === undefined || wake < this.nextWake) this.nextWake = wake;
    } catch {
      // materialize has said what is wrong with this schedule.
    }
  }

  private async materialize(schedule: ScheduleRecord, now: Date): Promise<void> {
    // A pre-warmed schedule's fire times become rows that early, so they can be claimed early.
    const horizon = new Date(now.getTime() + schedule.prewarmSeconds * 1000);
    try {
      const due = dueFireTimes({
        cron: schedule.cron,
        timezone: schedule.timezone,
        catchUp: schedule.catchUp,
        backfillLimit: schedule.backfillLimit,
        cursor: schedule.cursor,
        now: horizon,
      });
      if (due.cursor.getTime() === schedule.cursor.getTime()) return;
      await this.opts.store.materialize(schedule.id, {
        fireTimes: due.fireTimes,
        skipped: due.skipped,
        cursor: due.cursor,
        expectedCursor: schedule.cursor,
      });
    } catch (e) {
      // One schedule's problem (an expression croner no longer takes) must not stop the others.
      this.log(`scheduler: schedule ${schedule.id} was not materialised: ${(e as Error).message}`);
    }
  }

  private execute({ run, schedule }: ClaimedRun): void {
    const controller = new AbortController();
    this.running.set(run.id, controller);
    // Synchronously up to the engine's call, so a tick returns with its runs under way.
    const done = this.hold(run, controller, schedule)
      .catch((e) => this.log(`scheduler: run ${run.id} ended badly: ${(e as Error).message}`))
      .finally(() => {
        this.running.delete(run.id);
        this.finishing.delete(done);
      });
    this.finishing.add(done);
  }

  private async hold(claimed: ScheduleRunRecord, controller: AbortController, schedule: ScheduleRecord): Promise<void> {
    const { store } = this.opts;
    const runId = claimed.id;
    let lost = false;
    // Renewed every third of the lease, so two missed renewals in a row still hold it.
    const renew = setInterval(() => {
      store
        .renewLease(runId, this.opts.owner, this.leaseMs, this.now())
        .then((held) => {
          if (!held) {
            lost = true;
            controller.abort(new Error("This gateway lost the run's lease"));
          } else if (held.cancelRequested) controller.abort(new Error("Cancelled"));
        })
        .catch((e) => this.log(`scheduler: run ${runId}'s lease was not renewed: ${(e as Error).message}`));
    }, this.leaseMs / 3);
    try {
      const outcome = await this.opts.run({
        // A schedule whose notebook is gone is disabled, and its queued runs with it.
        notebookId: schedule.notebookId ?? "",
        userId: schedule.ownerId,
        parameters: claimed.parameters,
        timeoutMs: schedule.timeoutSeconds * 1000,
        signal: controller.signal,
        startCellsAt: claimed.scheduledFor,
        onStarted: ({ executedNotebookId, workerId, startedAt }) =>
          void store.attach(runId, this.opts.owner, { executedNotebookId, workerId: workerId ?? undefined, startedAt }),
      });
      // A lost lease belongs to another replica now, which retries or fails it: record nothing.
      if (lost) return;
      const finished = await store.finish(
        runId,
        this.opts.owner,
        {
          status: outcome.status,
          workerId: outcome.workerId,
          executedNotebookId: outcome.executedNotebookId,
          failingCellId: outcome.failingCellId,
          failingCellIndex: outcome.failingCellIndex,
          errorName: outcome.errorName,
          errorValue: outcome.errorValue,
          traceback: outcome.traceback,
          reason: outcome.status === "cancelled" ? String(controller.signal.reason?.message ?? "Cancelled") : null,
        },
        {
          now: this.now(),
          retryDelay: (attempt) => retryDelayMs(attempt, { baseMs: schedule.retryBackoffSeconds * 1000, maxMs: MAX_RETRY_DELAY_MS }),
        },
      );
      if (!finished) return;
      const event = await runEventOf(store, finished, schedule);
      if (event) await store.enqueueNotifications(finished.id, notificationOf(event, finished, schedule), this.now());
    } finally {
      clearInterval(renew);
    }
  }
}
