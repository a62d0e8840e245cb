import { randomUUID } from "node:crypto";
import { dueFireTimes } from "@cellar/schedules";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { LOCAL_USER_ID, type Database } from "./database";
import { createPrismaClient, type PrismaClient } from "./prisma-client";
import {
  createScheduleStore,
  MISSED_WHILE_DOWN,
  NOTEBOOK_DELETED,
  PREVIOUS_RUN_GOING,
  ScheduleRefusedError,
  type NewSchedule,
  type ScheduleStore,
} from "./schedule-store";
import { DIALECTS, useTestDatabase } from "./test-support";

const T0 = new Date("2026-03-01T09:00:00.000Z");
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const never = () => 0;

describe.each(DIALECTS)("schedule store on %s", (dialect) => {
  let db: Database;
  let url: string;
  useTestDatabase(dialect, (opened, openedUrl) => {
    db = opened;
    url = openedUrl;
  });

  // Other replicas: stores over PrismaClients of their own on the same database.
  const clients: PrismaClient[] = [];
  const replica = async (): Promise<ScheduleStore> => {
    const prisma = await createPrismaClient(url, dialect);
    clients.push(prisma);
    return createScheduleStore(prisma, dialect);
  };
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.$disconnect()));
  });
  // claimNext takes any due run: each test starts with none left by the one before.
  beforeEach(async () => {
    await db.prisma.schedule.deleteMany({});
  });

  const schedule = async (settings: Partial<NewSchedule> = {}) => {
    const notebook = await db.notebooks.create(settings.ownerId ?? LOCAL_USER_ID, "Daily report");
    return db.schedules.create(
      { notebookId: notebook.id, ownerId: LOCAL_USER_ID, name: "Every morning", cron: "0 9 * * *", timezone: "Europe/Paris", ...settings },
      T0,
    );
  };
  /** Queued runs at the given seconds after T0, made as the scheduler loop would. */
  const due = async (scheduleId: string, seconds: number[]) => {
    const current = (await db.schedules.get(scheduleId))!;
    const fireTimes = seconds.map(at);
    const made = await db.schedules.materialize(scheduleId, { fireTimes, cursor: fireTimes.at(-1)!, expectedCursor: current.cursor });
    expect(made.advanced).toBe(true);
    return made.runs;
  };
  const member = async () => {
    const id = randomUUID();
    await db.prisma.user.create({ data: { id, name: "Ada", email: `ada-${id}@example.com` } });
    return id;
  };

  it("keeps a schedule's settings, with the schema's defaults for what is left out", async () => {
    const made = await schedule({ parameters: { alpha: 0.5, name: "x" }, webhookUrl: "https://hooks.example.com/a" });
    expect(made).toMatchObject({
      name: "Every morning",
      notebookTitle: "Daily report",
      cron: "0 9 * * *",
      timezone: "Europe/Paris",
      parameters: { alpha: 0.5, name: "x" },
      image: null,
      timeoutSeconds: 3600,
      retries: 0,
      overlap: "skip",
      maxConcurrent: 1,
      catchUp: "skip",
      prewarmSeconds: 0,
      notifyOnFailure: true,
      notifyOnSuccess: false,
      enabled: true,
      disabledReason: null,
      cursor: T0,
      webhookUrl: "https://hooks.example.com/a",
    });
    expect(await db.schedules.get(made.id)).toEqual(made);
    const changed = await db.schedules.update(made.id, { retries: 2, overlap: "queue", cron: "0 10 * * *" }, at(60));
    expect(changed).toMatchObject({ retries: 2, overlap: "queue", cron: "0 10 * * *", cursor: at(60), updatedAt: at(60) });
    // Only a change of timing moves the cursor.
    expect((await db.schedules.update(made.id, { name: "Renamed" }, at(120)))?.cursor).toEqual(at(60));
    expect(await db.schedules.update(randomUUID(), { name: "x" })).toBeNull();
    expect((await db.schedules.listByNotebook(made.notebookId!)).map((s) => s.id)).toEqual([made.id]);
    expect((await db.schedules.listByOwner(LOCAL_USER_ID)).map((s) => s.id)).toContain(made.id);
  });

  it("refuses a schedule on a missing notebook or on an executed run", async () => {
    const base = { ownerId: LOCAL_USER_ID, name: "n", cron: "* * * * *", timezone: "UTC" };
    await expect(db.schedules.create({ ...base, notebookId: randomUUID() })).rejects.toMatchObject({ reason: "no-notebook" });
    const source = await db.notebooks.create(LOCAL_USER_ID, "Source");
    const copy = await db.prisma.notebook.create({
      data: { id: randomUUID(), userId: LOCAL_USER_ID, title: "Run", kind: "run", executedFromId: source.id },
    });
    await expect(db.schedules.create({ ...base, notebookId: copy.id })).rejects.toBeInstanceOf(ScheduleRefusedError);
  });

  it("two replicas materialising the same fire times at once make one run per time, and one moves the cursor", async () => {
    const s = await schedule();
    const [a, b] = [await replica(), await replica()];
    // Ten rounds of the scheduler loop on both replicas, each from the cursor it last read.
    for (let round = 1; round <= 10; round++) {
      const expectedCursor = (await a.get(s.id))!.cursor;
      const times = { fireTimes: [at(round * 60)], cursor: at(round * 60), expectedCursor };
      const results = await Promise.all([a.materialize(s.id, times), b.materialize(s.id, times), db.schedules.materialize(s.id, times)]);
      expect(results.filter((r) => r.advanced)).toHaveLength(1);
      expect(results.flatMap((r) => r.runs)).toHaveLength(1);
    }
    const runs = await db.schedules.listRuns({ scheduleId: s.id }, { limit: 500 });
    expect(runs.map((r) => r.scheduledFor.getTime()).sort()).toEqual(Array.from({ length: 10 }, (_, i) => at((i + 1) * 60).getTime()));
    expect((await db.schedules.get(s.id))?.cursor).toEqual(at(600));
    // A replica that read the cursor before it moved makes nothing.
    expect(await a.materialize(s.id, { fireTimes: [at(600)], cursor: at(600), expectedCursor: at(540) })).toEqual({
      advanced: false,
      runs: [],
    });
    // A time that has a run gets no second one, even with the right cursor.
    const again = await a.materialize(s.id, { fireTimes: [at(600), at(660)], cursor: at(660), expectedCursor: at(600) });
    expect(again.runs.map((r) => r.scheduledFor)).toEqual([at(660)]);
  });

  it("three replicas ticking an every-second schedule for 100 s on skewed, uneven clocks make exactly 100 runs", async () => {
    const s = await schedule({ cron: "* * * * * *", timezone: "UTC" });
    const replicas = [db.schedules, await replica(), await replica()];
    const skewMs = [0, 700, -400];
    // Each replica ticks on its own clock every 300–1300 ms, as the scheduler loop will: read the
    // cursor, compute what is due after it, materialise by compare-and-set.
    const tick = async (store: ScheduleStore, now: Date) => {
      const current = (await store.get(s.id))!;
      const due = dueFireTimes({
        cron: current.cron,
        timezone: current.timezone,
        catchUp: current.catchUp,
        backfillLimit: current.backfillLimit,
        cursor: current.cursor,
        now,
      });
      if (due.fireTimes.length === 0 && due.skipped.length === 0) return;
      await store.materialize(s.id, { fireTimes: due.fireTimes, skipped: due.skipped, cursor: due.cursor, expectedCursor: current.cursor });
    };
    await Promise.all(
      replicas.map(async (store, i) => {
        let seed = i + 1;
        const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
        for (let t = 300 * i; t <= 100_000 + 1500; t += 300 + Math.floor(random() * 1000)) {
          await tick(store, new Date(T0.getTime() + t + skewMs[i]));
        }
      }),
    );
    const runs = await db.schedules.listRuns({ scheduleId: s.id }, { since: at(1), limit: 500 });
    const inWindow = runs.filter((r) => r.scheduledFor <= at(100));
    expect(inWindow).toHaveLength(100);
    expect(new Set(inWindow.map((r) => r.scheduledFor.getTime())).size).toBe(100);
    expect(inWindow.every((r) => r.status === "queued" && r.trigger === "schedule")).toBe(true);
  }, 60_000);

  it("records skipped and backfilled fire times, and makes no runs for a paused schedule", async () => {
    const s = await schedule({ prewarmSeconds: 5 });
    const made = await db.schedules.materialize(s.id, {
      fireTimes: [at(7200)],
      backfill: [at(3600)],
      skipped: [at(1800)],
      cursor: at(7200),
      expectedCursor: T0,
    });
    expect(made.runs.map((r) => [r.trigger, r.status, r.reason])).toEqual([
      ["schedule", "skipped", MISSED_WHILE_DOWN],
      ["backfill", "queued", null],
      ["schedule", "queued", null],
    ]);
    // Claimable prewarmSeconds early.
    expect(made.runs[2].nextAttemptAt).toEqual(at(7195));
    await db.schedules.pause(s.id, at(7300));
    expect(await db.schedules.materialize(s.id, { fireTimes: [at(9000)], cursor: at(9000), expectedCursor: at(7200) })).toEqual({
      advanced: false,
      runs: [],
    });
    // Its queued fire-time runs are cancelled; resuming starts from then, without catching up.
    const runs = await db.schedules.listRuns({ scheduleId: s.id });
    expect(runs.filter((r) => r.status === "cancelled").map((r) => r.reason)).toEqual([
      "The schedule was paused",
      "The schedule was paused",
    ]);
    expect(await db.schedules.resume(s.id, at(9999))).toMatchObject({ enabled: true, cursor: at(9999) });
  });

  it("claimers racing on 20 due runs, two and five at a time, claim each run exactly once", async () => {
    for (const claimers of [2, 5]) {
      const s = await schedule({ overlap: "queue", maxConcurrent: 100 });
      const runs = await due(
        s.id,
        Array.from({ length: 20 }, (_, i) => i),
      );
      const stores = await Promise.all(Array.from({ length: claimers }, () => replica()));
      const claimed = await Promise.all(
        stores.map(async (store, i) => {
          const mine: string[] = [];
          for (;;) {
            const got = await store.claimNext({ owner: `gateway-${i}`, leaseMs: 60_000, now: at(3600) });
            if (!got) return mine;
            expect(got.run).toMatchObject({ status: "running", leaseOwner: `gateway-${i}`, leaseExpiresAt: at(3660) });
            mine.push(got.run.id);
          }
        }),
      );
      const all = claimed.flat();
      expect(all).toHaveLength(20);
      expect(new Set(all)).toEqual(new Set(runs.map((r) => r.id)));
      const stored = await db.schedules.listRuns({ scheduleId: s.id });
      expect(stored.every((r) => r.status === "running")).toBe(true);
      // Each row names the claimer that got it.
      for (const [i, mine] of claimed.entries())
        for (const id of mine) expect(stored.find((r) => r.id === id)?.leaseOwner).toBe(`gateway-${i}`);
      await Promise.all(stored.map((r) => db.schedules.finish(r.id, r.leaseOwner!, { status: "succeeded" }, { now: at(3601) })));
    }
  });

  it("racing claimers never run more than maxConcurrent of one schedule", async () => {
    const s = await schedule({ overlap: "queue", maxConcurrent: 2 });
    await due(s.id, [0, 1, 2, 3, 4, 5]);
    const stores = await Promise.all(Array.from({ length: 5 }, () => replica()));
    const got = await Promise.all(stores.map((store, i) => store.claimNext({ owner: `g${i}`, leaseMs: 60_000, now: at(60) })));
    expect(got.filter(Boolean)).toHaveLength(2);
    expect((await db.schedules.listRuns({ scheduleId: s.id }, { status: ["running"] })).length).toBe(2);
    expect((await db.schedules.listRuns({ scheduleId: s.id }, { status: ["queued"] })).length).toBe(4);
  });

  it("does not claim a run before it is due", async () => {
    const s = await schedule();
    const [run] = await due(s.id, [600]);
    expect(await db.schedules.claimNext({ owner: "g", leaseMs: 1000, now: at(599) })).toBeNull();
    expect((await db.schedules.claimNext({ owner: "g", leaseMs: 1000, now: at(600) }))?.run.id).toBe(run.id);
  });

  it.each([
    { overlap: "skip", maxConcurrent: 1 },
    { overlap: "skip", maxConcurrent: 2 },
    { overlap: "queue", maxConcurrent: 1 },
    { overlap: "queue", maxConcurrent: 2 },
  ] as const)("overlap $overlap with maxConcurrent $maxConcurrent", async ({ overlap, maxConcurrent }) => {
    const s = await schedule({ overlap, maxConcurrent });
    const runs = await due(s.id, [0, 60, 120]);
    const claim = () => db.schedules.claimNext({ owner: "g", leaseMs: 600_000, now: at(130) });
    const started = [];
    for (let i = 0; i < maxConcurrent; i++) started.push((await claim())?.run.id);
    expect(started).toEqual(runs.slice(0, maxConcurrent).map((r) => r.id));
    // At the limit: the next fire time is skipped, or waits.
    expect(await claim()).toBeNull();
    const third = (await db.schedules.getRun(runs[2].id))!;
    if (overlap === "skip") {
      expect(third).toMatchObject({ status: "skipped", reason: PREVIOUS_RUN_GOING });
      if (maxConcurrent === 1) expect((await db.schedules.getRun(runs[1].id))?.status).toBe("skipped");
    } else {
      expect(third.status).toBe("queued");
      // A slot frees: the waiting run starts.
      await db.schedules.finish(runs[0].id, "g", { status: "succeeded" }, { now: at(140) });
      expect((await claim())?.run.id).toBe(runs[maxConcurrent].id);
    }
  });

  it('"Run now" makes a manual run that waits for a slot instead of being skipped', async () => {
    const s = await schedule({ overlap: "skip" });
    await due(s.id, [0]);
    await db.schedules.claimNext({ owner: "g", leaseMs: 600_000, now: at(1) });
    const manual = (await db.schedules.runNow(s.id, at(0), { alpha: 1 }))!;
    // at(0) has the fire-time run: the manual one takes the next millisecond.
    expect(manual).toMatchObject({
      trigger: "manual",
      status: "queued",
      scheduledFor: new Date(T0.getTime() + 1),
      parameters: { alpha: 1 },
    });
    expect(await db.schedules.claimNext({ owner: "g", leaseMs: 600_000, now: at(2) })).toBeNull();
    expect((await db.schedules.getRun(manual.id))?.status).toBe("queued");
    expect(await db.schedules.runNow(randomUUID())).toBeNull();
  });

  it("only the lease's owner renews or finishes a run; a finished run is final", async () => {
    const s = await schedule();
    const [run] = await due(s.id, [0]);
    await db.schedules.claimNext({ owner: "gateway-a", leaseMs: 30_000, now: at(0) });
    expect(await db.schedules.renewLease(run.id, "gateway-b", 30_000, at(10))).toBeNull();
    expect(await db.schedules.renewLease(run.id, "gateway-a", 30_000, at(10))).toEqual({ cancelRequested: false });
    expect(await db.schedules.attach(run.id, "gateway-b", { workerId: "w9" })).toBe(false);
    expect(await db.schedules.attach(run.id, "gateway-a", { workerId: "w1", startedAt: at(1) })).toBe(true);
    expect(await db.schedules.finish(run.id, "gateway-b", { status: "failed" }, { now: at(20) })).toBeNull();
    expect((await db.schedules.getRun(run.id))?.status).toBe("running");
    const done = await db.schedules.finish(
      run.id,
      "gateway-a",
      {
        status: "failed",
        failingCellId: "c3",
        failingCellIndex: 2,
        errorName: "ZeroDivisionError",
        errorValue: "division by zero",
        traceback: "Traceback…",
      },
      { now: at(21) },
    );
    expect(done).toMatchObject({
      status: "failed",
      workerId: "w1",
      durationMs: 20_000,
      finishedAt: at(21),
      failingCellIndex: 2,
      errorName: "ZeroDivisionError",
    });
    expect(await db.schedules.finish(run.id, "gateway-a", { status: "succeeded" })).toBeNull();
    expect(await db.schedules.renewLease(run.id, "gateway-a", 30_000, at(22))).toBeNull();
  });

  it("a failed attempt with retries left is queued again after the delay, and a success clears its error", async () => {
    const s = await schedule({ retries: 1 });
    const [run] = await due(s.id, [0]);
    await db.schedules.claimNext({ owner: "g", leaseMs: 30_000, now: at(0) });
    const retry = await db.schedules.finish(
      run.id,
      "g",
      { status: "timed_out", failingCellIndex: 0 },
      { now: at(10), retryDelay: (n) => n * 5000 },
    );
    expect(retry).toMatchObject({ status: "queued", attempt: 2, nextAttemptAt: at(15), leaseOwner: null, failingCellIndex: 0 });
    expect(await db.schedules.claimNext({ owner: "g", leaseMs: 30_000, now: at(14) })).toBeNull();
    expect((await db.schedules.claimNext({ owner: "g", leaseMs: 30_000, now: at(15) }))?.run.attempt).toBe(2);
    expect(await db.schedules.finish(run.id, "g", { status: "succeeded" }, { now: at(20) })).toMatchObject({
      status: "succeeded",
      attempt: 2,
      failingCellIndex: null,
      durationMs: 5000,
    });
  });

  it("an expired lease is retried once the backoff passes, then failed with the reason; the old holder cannot renew or finish", async () => {
    const s = await schedule({ retries: 1 });
    const [run] = await due(s.id, [0]);
    await db.schedules.claimNext({ owner: "dead-gateway", leaseMs: 30_000, now: at(0) });
    const other = await replica();
    expect(await other.expireLeases(at(29), never)).toEqual([]);
    const [requeued] = await other.expireLeases(at(31), (attempt) => attempt * 10_000);
    expect(requeued).toMatchObject({ id: run.id, status: "queued", attempt: 2, nextAttemptAt: at(41), leaseOwner: null });
    expect(requeued.reason).toContain("its lease expired at 2026-03-01T09:00:30.000Z");
    expect(await db.schedules.renewLease(run.id, "dead-gateway", 30_000, at(32))).toBeNull();
    expect(await db.schedules.finish(run.id, "dead-gateway", { status: "succeeded" }, { now: at(32) })).toBeNull();
    expect(await other.claimNext({ owner: "gateway-b", leaseMs: 30_000, now: at(40) })).toBeNull();
    expect((await other.claimNext({ owner: "gateway-b", leaseMs: 30_000, now: at(41) }))?.run).toMatchObject({
      attempt: 2,
      leaseOwner: "gateway-b",
    });
    // Two replicas expiring at once: one does it.
    const results = await Promise.all([other.expireLeases(at(100), never), db.schedules.expireLeases(at(100), never)]);
    expect(results.flat()).toHaveLength(1);
    expect(await db.schedules.getRun(run.id)).toMatchObject({
      status: "failed",
      attempt: 2,
      reason: "The gateway running it stopped (its lease expired at 2026-03-01T09:01:11.000Z)",
      finishedAt: at(100),
    });
  });

  it("keeps each retried attempt's error, oldest first, whether it failed or lost its gateway", async () => {
    const s = await schedule({ retries: 2 });
    const [run] = await due(s.id, [0]);
    await db.schedules.claimNext({ owner: "g", leaseMs: 30_000, now: at(0) });
    await db.schedules.attach(run.id, "g", { workerId: "w1" });
    await db.schedules.finish(
      run.id,
      "g",
      { status: "failed", failingCellId: "c", failingCellIndex: 0, errorName: "WorkerLost", errorValue: "Worker w1 was lost mid-run." },
      { now: at(10) },
    );
    // Attempt 2 on another gateway, which dies: its lease lapses.
    await db.schedules.claimNext({ owner: "dead-gateway", leaseMs: 30_000, now: at(10) });
    await db.schedules.attach(run.id, "dead-gateway", { workerId: "w2" });
    await db.schedules.expireLeases(at(41), never);
    await db.schedules.claimNext({ owner: "g", leaseMs: 30_000, now: at(41) });
    await db.schedules.finish(run.id, "g", { status: "succeeded", workerId: "w3" }, { now: at(50) });
    const done = (await db.schedules.getRun(run.id))!;
    expect(done).toMatchObject({ status: "succeeded", attempt: 3, workerId: "w3", errorName: null, reason: null });
    expect(done.earlierAttempts).toEqual([
      {
        attempt: 1,
        status: "failed",
        workerId: "w1",
        startedAt: at(0),
        finishedAt: at(10),
        failingCellId: "c",
        failingCellIndex: 0,
        errorName: "WorkerLost",
        errorValue: "Worker w1 was lost mid-run.",
        reason: null,
      },
      {
        attempt: 2,
        status: "failed",
        workerId: "w2",
        startedAt: at(10),
        finishedAt: at(41),
        failingCellId: null,
        failingCellIndex: null,
        errorName: null,
        errorValue: null,
        reason: "The gateway running it stopped (its lease expired at 2026-03-01T09:00:40.000Z)",
      },
    ]);
  });

  it("each schedule's latest runs in one query: newest first, at most the number asked, none for a schedule without runs", async () => {
    const a = await schedule();
    const b = await schedule();
    const c = await schedule();
    const aRuns = await due(a.id, [100, 160, 220, 280, 340]);
    const bRuns = await due(b.id, [30, 90]);
    await db.schedules.claimNext({ owner: "g", leaseMs: 30_000, now: at(30) });
    await db.schedules.finish(bRuns[0]!.id, "g", { status: "failed" }, { now: at(42) });
    const recent = await db.schedules.recentRuns([a.id, b.id, c.id], 3);
    expect([...recent.keys()].sort()).toEqual([a.id, b.id, c.id].sort());
    expect(recent.get(a.id)).toEqual(
      [aRuns[4]!, aRuns[3]!, aRuns[2]!].map((r) => ({ id: r.id, status: "queued", scheduledFor: r.scheduledFor, durationMs: null })),
    );
    expect(recent.get(b.id)).toEqual([
      { id: bRuns[1]!.id, status: "queued", scheduledFor: at(90), durationMs: null },
      { id: bRuns[0]!.id, status: "failed", scheduledFor: at(30), durationMs: 12_000 },
    ]);
    expect(recent.get(c.id)).toEqual([]);
    expect((await db.schedules.recentRuns([a.id])).get(a.id)).toHaveLength(5);
    expect(await db.schedules.recentRuns([])).toEqual(new Map());
  });

  it("cancels a queued run at once and asks a running one to stop", async () => {
    const s = await schedule({ overlap: "queue", maxConcurrent: 2 });
    const [first, second] = await due(s.id, [0, 1]);
    await db.schedules.claimNext({ owner: "g", leaseMs: 30_000, now: at(1) });
    expect(await db.schedules.requestCancel(first.id)).toMatchObject({ status: "running", cancelRequested: true });
    expect(await db.schedules.renewLease(first.id, "g", 30_000, at(2))).toEqual({ cancelRequested: true });
    // A cancel asked of a run whose gateway then died ends it as cancelled, not retried.
    expect((await db.schedules.expireLeases(at(100), never))[0]).toMatchObject({ status: "cancelled" });
    expect(await db.schedules.requestCancel(second.id, at(3))).toMatchObject({
      status: "cancelled",
      reason: "Cancelled before it started",
    });
    expect(await db.schedules.requestCancel(second.id)).toBeNull();
    expect(await db.schedules.claimNext({ owner: "g", leaseMs: 30_000, now: at(200) })).toBeNull();
  });

  it("deleting the notebook disables its schedules with a notice and keeps their runs", async () => {
    const owner = await member();
    const s = await schedule({ ownerId: owner });
    const [done, running, queued] = await due(s.id, [0, 60, 120]);
    await db.prisma.schedule.update({ where: { id: s.id }, data: { overlap: "queue", maxConcurrent: 2 } });
    await db.schedules.claimNext({ owner: "g", leaseMs: 600_000, now: at(1) });
    await db.schedules.finish(done.id, "g", { status: "succeeded" }, { now: at(2) });
    await db.schedules.claimNext({ owner: "g", leaseMs: 600_000, now: at(61) });
    expect(await db.notebooks.remove(s.notebookId!)).toBe(true);

    expect(await db.schedules.get(s.id)).toMatchObject({
      notebookId: null,
      notebookTitle: "Daily report",
      enabled: false,
      disabledReason: NOTEBOOK_DELETED,
    });
    expect(await db.schedules.getRun(done.id)).toMatchObject({ status: "succeeded" });
    expect(await db.schedules.getRun(running.id)).toMatchObject({ status: "running", cancelRequested: true });
    expect(await db.schedules.getRun(queued.id)).toMatchObject({ status: "cancelled", reason: NOTEBOOK_DELETED });
    expect(await db.schedules.listNotices(owner)).toEqual([
      expect.objectContaining({
        kind: "schedule_disabled",
        scheduleId: s.id,
        message: 'The schedule "Every morning" was disabled: its notebook was deleted',
      }),
    ]);
    expect((await db.schedules.listByOwner(owner))[0]).toMatchObject({ id: s.id, lastRun: { id: queued.id, status: "cancelled" } });
    await expect(db.schedules.resume(s.id)).rejects.toMatchObject({ reason: "notebook-deleted" });
    expect(await db.schedules.pause(s.id)).toMatchObject({ enabled: false, disabledReason: NOTEBOOK_DELETED });
    await expect(db.schedules.runNow(s.id)).rejects.toBeInstanceOf(ScheduleRefusedError);
    expect(await db.schedules.materialize(s.id, { fireTimes: [at(999)], cursor: at(999), expectedCursor: at(120) })).toMatchObject({
      advanced: false,
    });
  });

  it("deleting the owner deletes their schedules, runs, notifications and notices", async () => {
    const owner = await member();
    const s = await schedule({ ownerId: owner });
    const [run] = await due(s.id, [0]);
    await db.schedules.enqueueNotifications(run.id, { channels: ["in_app", "webhook"], event: "failure", message: "It failed" });
    await db.prisma.user.delete({ where: { id: owner } });
    expect(await db.schedules.get(s.id)).toBeNull();
    expect(await db.prisma.scheduleRun.count({ where: { scheduleId: s.id } })).toBe(0);
    expect(await db.prisma.runNotification.count({ where: { runId: run.id } })).toBe(0);
    expect(await db.prisma.notice.count({ where: { userId: owner } })).toBe(0);
  });

  it("deleting a schedule deletes its runs and their executed copies, not other notebooks", async () => {
    const s = await schedule();
    const [run] = await due(s.id, [0]);
    const copy = await db.prisma.notebook.create({
      data: { id: randomUUID(), userId: LOCAL_USER_ID, title: "Run", kind: "run", executedFromId: s.notebookId },
    });
    await db.schedules.claimNext({ owner: "g", leaseMs: 30_000, now: at(0) });
    await db.schedules.finish(run.id, "g", { status: "succeeded", executedNotebookId: copy.id }, { now: at(1) });
    expect(await db.schedules.remove(s.id)).toBe(true);
    expect(await db.schedules.remove(s.id)).toBe(false);
    expect(await db.notebooks.get(copy.id)).toBeNull();
    expect(await db.notebooks.get(s.notebookId!)).not.toBeNull();
    expect(await db.schedules.getRun(run.id)).toBeNull();
  });

  it("lists runs by schedule, notebook and owner with filters, and names the previous success", async () => {
    const owner = await member();
    const s = await schedule({ ownerId: owner, overlap: "queue" });
    const runs = await due(s.id, [0, 60, 120, 180]);
    const outcomes = ["succeeded", "failed", "succeeded"] as const;
    for (const [i, status] of outcomes.entries()) {
      await db.schedules.claimNext({ owner: "g", leaseMs: 30_000, now: at(200) });
      await db.schedules.finish(runs[i].id, "g", { status }, { now: at(201 + i) });
    }
    const ids = (list: { id: string }[]) => list.map((r) => r.id);
    expect(ids(await db.schedules.listRuns({ scheduleId: s.id }))).toEqual(ids(runs).reverse());
    expect(ids(await db.schedules.listRuns({ notebookId: s.notebookId! }, { status: ["succeeded"] }))).toEqual([runs[2].id, runs[0].id]);
    expect(ids(await db.schedules.listRuns({ ownerId: owner }, { since: at(60), limit: 2 }))).toEqual([runs[3].id, runs[2].id]);
    expect(await db.schedules.listRuns({ ownerId: LOCAL_USER_ID }, { status: ["failed"] })).not.toContainEqual(
      expect.objectContaining({ id: runs[1].id }),
    );
    expect((await db.schedules.getRun(runs[2].id))?.previousSuccessfulRunId).toBe(runs[0].id);
    expect((await db.schedules.getRun(runs[1].id))?.previousSuccessfulRunId).toBe(runs[0].id);
    expect((await db.schedules.getRun(runs[0].id))?.previousSuccessfulRunId).toBeNull();
    expect(await db.schedules.getRun(randomUUID())).toBeNull();
  });

  it("sends each notification once per run and channel: in-app at once, a webhook claimed by one sender and retried", async () => {
    const owner = await member();
    const s = await schedule({ ownerId: owner });
    const [run] = await due(s.id, [0]);
    const notify = { channels: ["in_app", "webhook"] as const, event: "failure" as const, message: '"Every morning" failed' };
    const [a, b] = [await replica(), await replica()];
    const made = await Promise.all([
      a.enqueueNotifications(run.id, { ...notify, channels: [...notify.channels] }, at(1)),
      b.enqueueNotifications(run.id, { ...notify, channels: [...notify.channels] }, at(1)),
    ]);
    expect(made.sort()).toEqual([0, 2]);
    expect(await db.schedules.listNotices(owner, { unreadOnly: true })).toEqual([
      expect.objectContaining({ kind: "run_failure", runId: run.id, scheduleId: s.id, message: '"Every morning" failed', readAt: null }),
    ]);

    const claims = await Promise.all([
      a.claimNotification({ leaseMs: 10_000, now: at(2) }),
      b.claimNotification({ leaseMs: 10_000, now: at(2) }),
    ]);
    const claimed = claims.filter((c) => c !== null);
    expect(claimed).toHaveLength(1);
    expect(claimed[0]).toMatchObject({
      runId: run.id,
      channel: "webhook",
      attempts: 1,
      run: { id: run.id },
      schedule: { name: "Every morning" },
    });
    // Claimed: nobody else takes it until its lease passes.
    expect(await a.claimNotification({ leaseMs: 10_000, now: at(5) })).toBeNull();
    expect(await a.markFailed(run.id, "webhook", "503 Service Unavailable", at(30))).toBe(true);
    expect(await a.claimNotification({ leaseMs: 10_000, now: at(29) })).toBeNull();
    expect((await b.claimNotification({ leaseMs: 10_000, now: at(30) }))?.attempts).toBe(2);
    expect(await b.markDelivered(run.id, "webhook", at(31))).toBe(true);
    expect(await b.claimNotification({ leaseMs: 10_000, now: at(99) })).toBeNull();
    expect((await db.schedules.getRun(run.id))?.notifications).toEqual([
      expect.objectContaining({ channel: "in_app", status: "delivered", attempts: 1 }),
      expect.objectContaining({ channel: "webhook", status: "delivered", attempts: 2, lastError: null, deliveredAt: at(31) }),
    ]);
    expect(await db.schedules.markNoticesRead(owner)).toBe(1);
    expect(await db.schedules.listNotices(owner, { unreadOnly: true })).toEqual([]);
  });

  it("gives up on a webhook when told to", async () => {
    const s = await schedule();
    const [run] = await due(s.id, [0]);
    await db.schedules.enqueueNotifications(run.id, { channels: ["webhook"], event: "success", message: "ok" }, at(1));
    await db.schedules.claimNotification({ leaseMs: 1000, now: at(1) });
    expect(await db.schedules.markFailed(run.id, "webhook", "410 Gone", null)).toBe(true);
    expect((await db.schedules.getRun(run.id))?.notifications).toEqual([
      expect.objectContaining({ status: "failed", lastError: "410 Gone" }),
    ]);
    expect(await db.schedules.claimNotification({ leaseMs: 1000, now: at(999) })).toBeNull();
  });
});
