// Issue 14's exactly-once check with real gateways: three gateway processes on one PostgreSQL
// database (and Redis), each with a worker, ticking an every-second schedule for 100 s, make one
// run per fire time, each executed once; the same with one gateway on SQLite. The workers are
// the harness's scripted ones (each cell is answered at once): what is counted is the gateways'
// claiming, not the kernels. And the leases: a gateway killed, or frozen, mid-run loses the run
// to another, once.
import pg from "pg";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { openDatabase, type Database } from "@cellar/db";
import { GatewayHarness, startRedis, until, type ScriptedWorker } from "../testing/gateway-harness";

const SECONDS = 100;
const harness = new GatewayHarness();
const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await harness.reset();
});
afterAll(() => harness.close());

/** A new database on the test's PostgreSQL server (scripts/with-postgres.sh, which this
 * package's `npm test` runs under); the test fails without one. */
async function postgresDatabase(settings: Record<string, string> = {}): Promise<string> {
  const server = process.env.TEST_POSTGRES_URL;
  if (!server) throw new Error("TEST_POSTGRES_URL is not set: run under scripts/with-postgres.sh (npm test does)");
  const name = `cellar_once_${Date.now()}`;
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  for (const [key, value] of Object.entries(settings)) await admin.query(`ALTER DATABASE ${name} SET ${key} = '${value}'`);
  await admin.end();
  const url = new URL(server);
  url.pathname = `/${name}`;
  return url.toString();
}

async function everySecond(db: Database) {
  const notebook = await db.notebooks.create(db.localUserId, "Every second");
  await db.notebooks.update(notebook.id, { cells: [{ id: "c", cell_type: "code", source: "x = 1" }] });
  // Queue rather than skip, and room for several at once: every fire time is meant to run.
  return db.schedules.create({
    notebookId: notebook.id,
    ownerId: db.localUserId,
    name: "Every second",
    cron: "* * * * * *",
    timezone: "UTC",
    overlap: "queue",
    maxConcurrent: 10,
  });
}

/** Lets the schedule fire for `seconds`, pauses it, waits for its runs to end, and checks one
 * run per fire time with no gap, each executed once on some worker. */
async function expectOneRunPerSecond(db: Database, scheduleId: string, workers: ScriptedWorker[], seconds: number) {
  await new Promise((r) => setTimeout(r, seconds * 1000));
  await db.schedules.pause(scheduleId);
  const runs = await until(
    async () => {
      const all = await db.schedules.listRuns({ scheduleId }, { limit: 500 });
      return all.every((r) => r.status !== "running") && all;
    },
    "the last runs to end",
    60_000,
  );
  const times = runs.map((r) => r.scheduledFor.getTime()).sort((a, b) => a - b);
  expect(new Set(times).size).toBe(times.length);
  // Consecutive seconds from the first to the last: none missed, none twice.
  expect(times.at(-1)! - times[0]!).toBe((times.length - 1) * 1000);
  const ran = runs.filter((r) => r.status === "succeeded");
  // Paused at the end, a few queued ones may be cancelled; nearly all ran.
  expect(times.length).toBeGreaterThanOrEqual(seconds - 2);
  expect(ran.length).toBeGreaterThanOrEqual(seconds - 5);
  expect(runs.filter((r) => !["succeeded", "cancelled"].includes(r.status))).toEqual([]);
  expect(runs.every((r) => r.attempt === 1)).toBe(true);
  // Each run's one cell was executed exactly once, whichever gateway's worker ran it.
  const executed = workers.reduce((n, w) => n + w.ran.length, 0);
  expect(executed).toBe(ran.length);
  return runs;
}

/** "Run now" of a nightly schedule (one retry) on a notebook whose one cell is `train()`. */
async function runNightlyNow(db: Database) {
  const notebook = await db.notebooks.create(db.localUserId, "Nightly");
  await db.notebooks.update(notebook.id, { cells: [{ id: "c", cell_type: "code", source: "train()" }] });
  const schedule = await db.schedules.create({
    notebookId: notebook.id,
    ownerId: db.localUserId,
    name: "Nightly",
    cron: "0 3 * * *",
    timezone: "UTC",
    retries: 1,
  });
  return (await db.schedules.runNow(schedule.id))!;
}

describe("every fire time runs exactly once", () => {
  it(`three gateway processes on PostgreSQL, an every-second schedule for ${SECONDS} s`, async () => {
    const databaseUrl = await postgresDatabase();
    const redis = await startRedis();
    cleanups.push(() => redis.process.kill());
    const gateways = [];
    for (let i = 0; i < 3; i++) gateways.push(await harness.startGatewayProcess(redis.url, 0, { databaseUrl, schedules: true }));
    const workers = gateways.map((g, i) => harness.scriptedWorker(g.url, `w${i + 1}`));
    await until(() => workers.every((w) => w.connected()), "the workers to connect");
    const db = await openDatabase(databaseUrl, { log: () => {} });
    cleanups.push(() => db.close());
    const schedule = await everySecond(db);
    const runs = await expectOneRunPerSecond(db, schedule.id, workers, SECONDS);
    // The three shared the work.
    const byWorker = new Set(runs.filter((r) => r.workerId).map((r) => r.workerId));
    expect(byWorker.size).toBeGreaterThan(1);
  }, 240_000);

  it("a gateway killed mid-run: another takes the run up once its lease lapses, as attempt 2, and runs it once", async () => {
    // A's worker never finishes the cell: A holds the run when it is SIGKILLed.
    const a = await harness.startGatewayProcess("", 0, { schedules: true, leaseMs: 2_000 });
    const stuck = harness.scriptedWorker(a.url, "wa", [], { replyAfterMs: 600_000 });
    await until(() => stuck.connected(), "A's worker to connect");
    const db = await openDatabase(harness.databaseUrl(), { log: () => {} });
    cleanups.push(() => db.close());
    const run = await runNightlyNow(db);
    await until(
      async () => (await db.schedules.getRun(run.id))?.status === "running" && stuck.ran.length === 1,
      "A to start the run",
      30_000,
    );
    await a.kill();

    const b = await harness.startGateway(undefined, { schedules: true, leaseMs: 2_000 });
    const worker = harness.scriptedWorker(b.url, "wb");
    const done = await until(
      async () => {
        const now = await db.schedules.getRun(run.id);
        return now && !["queued", "running"].includes(now.status) ? now : undefined;
      },
      "B to retry and finish the run",
      90_000,
    );
    expect(done).toMatchObject({ status: "succeeded", attempt: 2, workerId: "wb" });
    expect(worker.ran).toEqual(["train()"]);
    expect(stuck.ran).toEqual(["train()"]);
  }, 150_000);

  it("a gateway frozen mid-run (SIGSTOP) on PostgreSQL: another expires its lease and retries the run; thawed, the first stops its kernel and records nothing", async () => {
    // Replicas share PostgreSQL (on SQLite a process frozen inside a read or a write holds the
    // file's lock, and nobody else can write: one gateway per SQLite file). A replica frozen inside
    // a transaction would hold its row locks the same way; PostgreSQL ends such a session after
    // idle_in_transaction_session_timeout, which a deployment of replicas should set.
    const databaseUrl = await postgresDatabase({ idle_in_transaction_session_timeout: "5s" });
    const redis = await startRedis();
    cleanups.push(() => redis.process.kill());
    const a = await harness.startGatewayProcess(redis.url, 0, { databaseUrl, schedules: true, leaseMs: 2_000 });
    const stuck = harness.scriptedWorker(a.url, "wa", [], { replyAfterMs: 600_000 });
    await until(() => stuck.connected(), "A's worker to connect");
    const db = await openDatabase(databaseUrl, { log: () => {} });
    cleanups.push(() => db.close());
    const run = await runNightlyNow(db);
    const first = await until(
      async () => {
        const now = await db.schedules.getRun(run.id);
        return now?.status === "running" && now.executedNotebookId && stuck.ran.length === 1 ? now : undefined;
      },
      "A to start the run",
      30_000,
    );
    expect(await db.kernels.get(first.executedNotebookId!)).not.toBeNull();
    // Alive, holding the lease, but it renews nothing any more.
    a.freeze();

    const b = await harness.startGatewayProcess(redis.url, 0, { databaseUrl, schedules: true, leaseMs: 2_000 });
    const worker = harness.scriptedWorker(b.url, "wb");
    let retried: string | null = null;
    const done = await until(
      async () => {
        const now = await db.schedules.getRun(run.id);
        if (now?.attempt === 2 && now.status !== "succeeded") retried ??= now.reason;
        return now && !["queued", "running"].includes(now.status) ? now : undefined;
      },
      "B to retry and finish the run",
      90_000,
    );
    expect(done).toMatchObject({ status: "succeeded", attempt: 2, workerId: "wb" });
    expect(retried).toMatch(/^Attempt 1: the gateway running it stopped \(its lease expired at .+\); trying again$/);
    expect(done.earlierAttempts).toMatchObject([
      { attempt: 1, status: "failed", workerId: "wa", reason: expect.stringMatching(/^The gateway running it stopped/) },
    ]);
    expect(worker.ran).toEqual(["train()"]);

    // Woken, A finds its lease gone: it stops attempt 1's kernel (its worker may have given up on
    // the silent gateway meanwhile: then there is only the record to remove) and leaves the run
    // as B ended it.
    a.thaw();
    await until(async () => (await db.kernels.get(first.executedNotebookId!)) === null, "A to stop attempt 1's kernel", 30_000);
    expect(stuck.ran).toEqual(["train()"]);
    expect(await db.schedules.getRun(run.id)).toMatchObject({ status: "succeeded", attempt: 2, workerId: "wb" });
  }, 150_000);

  it("one gateway on SQLite, an every-second schedule for 30 s", async () => {
    const { url, db } = await harness.startGateway(undefined, { schedules: true });
    const worker = harness.scriptedWorker(url, "w1");
    await until(() => worker.connected(), "the worker to connect");
    const schedule = await everySecond(db);
    await expectOneRunPerSecond(db, schedule.id, [worker], 30);
  }, 120_000);
});
