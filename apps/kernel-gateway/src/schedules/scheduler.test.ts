// The scheduler loop on a real database (SQLite file, two replicas' worth of Scheduler on it), with
// the run engine replaced by a function that records what it was asked: the engine itself runs
// through the real stack in runs/notebook-runner.stack.test.ts. Time is driven by the tests.
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LOCAL_USER_ID, openDatabase, type Database, type NewSchedule } from "@cellar/db";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { RunOutcome, RunRequest } from "../runs/notebook-runner";
import { Scheduler } from "./scheduler";
import { WebhookSender } from "./webhook-sender";

let dir: string;
let db: Database;
const schedulers: Scheduler[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "cellar-scheduler-"));
  db = await openDatabase(`file:${join(dir, "db.sqlite")}`, { log: () => {} });
});
afterEach(async () => {
  for (const s of schedulers.splice(0)) await s.stop();
  // Each test's schedules stop firing, so the next test's replicas see only their own.
  for (const s of await db.schedules.listEnabled()) await db.schedules.pause(s.id);
});
afterAll(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A clock the tests move. */
function clock(start: string) {
  let t = new Date(start).getTime();
  return { now: () => new Date(t), advance: (ms: number) => void (t += ms) };
}

async function schedule(settings: Partial<NewSchedule> = {}) {
  const notebook = await db.notebooks.create(LOCAL_USER_ID, "Daily report");
  return db.schedules.create(
    { notebookId: notebook.id, ownerId: LOCAL_USER_ID, name: "Every minute", cron: "* * * * *", timezone: "UTC", ...settings },
    new Date("2026-03-01T08:59:30Z"),
  );
}

function outcome(status: RunOutcome["status"], rest: Partial<RunOutcome> = {}): RunOutcome {
  return {
    status,
    executedNotebookId: null,
    workerId: "w1",
    startedAt: new Date(),
    finishedAt: new Date(),
    failingCellId: null,
    failingCellIndex: null,
    errorName: null,
    errorValue: null,
    traceback: null,
    ...rest,
  };
}

/** An engine that records each request and answers with `answer` (default: success at once). */
function engine(answer: (req: RunRequest) => Promise<RunOutcome> = async () => outcome("succeeded")) {
  const requests: RunRequest[] = [];
  return {
    requests,
    run: (req: RunRequest) => {
      requests.push(req);
      return answer(req);
    },
  };
}

function replica(owner: string, run: (req: RunRequest) => Promise<RunOutcome>, now: () => Date, extra: { leaseMs?: number } = {}) {
  const s = new Scheduler({ store: db.schedules, run, owner, now, log: () => {}, leaseMs: extra.leaseMs ?? 30_000 });
  schedulers.push(s);
  return s;
}

describe("Scheduler", () => {
  it("gives every fire time exactly one run when two replicas tick over the same minutes", async () => {
    const s = await schedule();
    const time = clock("2026-03-01T09:00:01Z");
    const e = engine();
    const a = replica("replica-a", e.run, time.now);
    const b = replica("replica-b", e.run, time.now);
    for (let minute = 0; minute < 3; minute++) {
      // Both replicas tick, in both orders, several times within the minute.
      await Promise.all([a.tick(), b.tick()]);
      await Promise.all([b.tick(), a.tick()]);
      await Promise.all([a.idle(), b.idle()]);
      time.advance(60_000);
    }
    const runs = await db.schedules.listRuns({ scheduleId: s.id });
    expect(runs.map((r) => r.scheduledFor.toISOString()).sort()).toEqual([
      "2026-03-01T09:00:00.000Z",
      "2026-03-01T09:01:00.000Z",
      "2026-03-01T09:02:00.000Z",
    ]);
    expect(runs.every((r) => r.status === "succeeded")).toBe(true);
    // Each ran once: the engine was asked once per fire time.
    expect(e.requests.map((r) => r.startCellsAt?.toISOString()).sort()).toEqual(runs.map((r) => r.scheduledFor.toISOString()).sort());
    expect(e.requests.every((r) => r.userId === LOCAL_USER_ID && r.notebookId === s.notebookId)).toBe(true);
  });

  it("runs with the schedule's parameters and timeout, and records the failing cell", async () => {
    const s = await schedule({ parameters: { alpha: 0.5 }, timeoutSeconds: 90 });
    const time = clock("2026-03-01T09:00:02Z");
    const e = engine(async () =>
      outcome("failed", { failingCellId: "c2", failingCellIndex: 1, errorName: "ValueError", errorValue: "bad alpha", traceback: "tb" }),
    );
    const a = replica("replica-a", e.run, time.now);
    await a.tick();
    await a.idle();
    expect(e.requests[0]).toMatchObject({ parameters: { alpha: 0.5 }, timeoutMs: 90_000 });
    const [run] = await db.schedules.listRuns({ scheduleId: s.id });
    expect(run).toMatchObject({ status: "failed", failingCellIndex: 1, errorName: "ValueError", errorValue: "bad alpha", traceback: "tb" });
    // The failure is told once, in the app.
    const notices = (await db.schedules.listNotices(LOCAL_USER_ID)).filter((n) => n.runId === run!.id);
    expect(notices).toHaveLength(1);
    expect(notices[0]!.message).toContain("failed in cell 2: ValueError: bad alpha");
  });

  it("retries a run whose replica died (its lease expired) on another replica, never both at once", async () => {
    const s = await schedule({ retries: 1 });
    const time = clock("2026-03-01T09:00:03Z");
    // Replica A takes the run and then goes silent: its engine never answers and it never renews.
    const hung = engine(() => new Promise(() => {}));
    const a = new Scheduler({ store: db.schedules, run: hung.run, owner: "replica-a", now: time.now, log: () => {}, leaseMs: 3_600_000 });
    await a.tick();
    expect(hung.requests).toHaveLength(1);
    const [taken] = await db.schedules.listRuns({ scheduleId: s.id });
    expect(taken).toMatchObject({ status: "running", leaseOwner: "replica-a" });

    const e = engine();
    const b = replica("replica-b", e.run, time.now);
    // Before the lease runs out, B must not touch the run.
    await b.tick();
    expect(e.requests).toHaveLength(0);
    // Past A's lease (an hour) and the retry's backoff, B retries it as attempt 2.
    time.advance(3_600_000 + 1_000);
    await b.tick();
    time.advance(3_600_000);
    await b.tick();
    await b.idle();
    const run = await db.schedules.getRun(taken!.id);
    expect(run).toMatchObject({ status: "succeeded", attempt: 2, leaseOwner: "replica-b" });
    expect(e.requests.filter((r) => r.startCellsAt?.getTime() === taken!.scheduledFor.getTime())).toHaveLength(1);
  });

  it("stops its run at once when its lease is lost, and records nothing for it", async () => {
    const s = await schedule({ retries: 0 });
    const time = clock("2026-03-01T09:00:04Z");
    let aborted: unknown;
    const e = engine(
      (req) =>
        new Promise((resolve) => {
          req.signal!.addEventListener("abort", () => {
            aborted = req.signal!.reason;
            resolve(outcome("cancelled"));
          });
        }),
    );
    const a = replica("replica-a", e.run, time.now, { leaseMs: 300 });
    await a.tick();
    const [run] = await db.schedules.listRuns({ scheduleId: s.id });
    // Another replica expires the lease (A's clock says the lease is still fine; the database's
    // record is what counts) and fails the run: A's next renewal is refused and it stops.
    await db.schedules.expireLeases(new Date(time.now().getTime() + 60_000), () => 0);
    await a.idle();
    expect(String((aborted as Error).message)).toContain("lost the run's lease");
    expect(await db.schedules.getRun(run!.id)).toMatchObject({ status: "failed", reason: expect.stringContaining("lease expired") });
  });

  it("claims a pre-warmed run early and has its cells wait for the fire time", async () => {
    const s = await schedule({ cron: "0 10 * * *", prewarmSeconds: 20 });
    const time = clock("2026-03-01T09:59:30Z");
    const e = engine();
    const a = replica("replica-a", e.run, time.now);
    await a.tick();
    expect(e.requests).toHaveLength(0);
    time.advance(15_000); // 09:59:45, 15 s before
    await a.tick();
    await a.idle();
    expect(e.requests).toHaveLength(1);
    expect(e.requests[0]!.startCellsAt?.toISOString()).toBe("2026-03-01T10:00:00.000Z");
    const [run] = await db.schedules.listRuns({ scheduleId: s.id });
    expect(run!.scheduledFor.toISOString()).toBe("2026-03-01T10:00:00.000Z");
  });

  it("a replica with no worker claims nothing, leaving the run to one that has", async () => {
    const s = await schedule();
    const time = clock("2026-03-01T09:00:07Z");
    const idle = engine();
    const noWorker = new Scheduler({
      store: db.schedules,
      run: idle.run,
      owner: "replica-a",
      now: time.now,
      log: () => {},
      canRun: () => false,
    });
    schedulers.push(noWorker);
    await noWorker.tick();
    expect(idle.requests).toHaveLength(0);
    const [waiting] = await db.schedules.listRuns({ scheduleId: s.id });
    expect(waiting).toMatchObject({ status: "queued" });
    const e = engine();
    const b = replica("replica-b", e.run, time.now);
    await b.tick();
    await b.idle();
    expect(await db.schedules.getRun(waiting!.id)).toMatchObject({ status: "succeeded", leaseOwner: "replica-b" });
  });

  it("cancels a running run when asked from any replica", async () => {
    const s = await schedule();
    const time = clock("2026-03-01T09:00:05Z");
    const e = engine(
      (req) =>
        new Promise((resolve) => req.signal!.addEventListener("abort", () => resolve(outcome("cancelled", { errorName: "Cancelled" })))),
    );
    const a = replica("replica-a", e.run, time.now, { leaseMs: 300 });
    await a.tick();
    const [run] = await db.schedules.listRuns({ scheduleId: s.id });
    await db.schedules.requestCancel(run!.id);
    await a.idle();
    expect(await db.schedules.getRun(run!.id)).toMatchObject({ status: "cancelled" });
  });
});

describe("WebhookSender", () => {
  it("posts a Slack-compatible body once per run, retrying an endpoint that failed", async () => {
    const bodies: Array<{ text: string; event: string }> = [];
    let fail = 1;
    const server = http.createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        if (fail-- > 0) {
          res.writeHead(503).end();
          return;
        }
        bodies.push(JSON.parse(body));
        res.writeHead(200).end("ok");
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
      const s = await schedule({ webhookUrl: url, name: "Nightly" });
      const time = clock("2026-03-01T09:00:06Z");
      const e = engine(async () => outcome("timed_out", { errorName: "TimeoutError", errorValue: "The run did not finish within 60 s." }));
      const a = replica("replica-a", e.run, time.now);
      await a.tick();
      await a.idle();
      const sender = new WebhookSender({ store: db.schedules, runUrl: (id) => `http://cellar/runs/${id}`, now: time.now });
      await sender.sendDue();
      expect(bodies).toHaveLength(0);
      const [run] = await db.schedules.listRuns({ scheduleId: s.id });
      expect((await db.schedules.getRun(run!.id))!.notifications.find((n) => n.channel === "webhook")).toMatchObject({
        status: "pending",
        lastError: expect.stringContaining("503"),
      });
      time.advance(600_000);
      await sender.sendDue();
      await sender.sendDue();
      expect(bodies).toHaveLength(1);
      expect(bodies[0]!.event).toBe("failure");
      expect(bodies[0]!.text).toContain('"Nightly" (Daily report) timed out: TimeoutError');
      expect(bodies[0]!.text).toContain(`http://cellar/runs/${run!.id}`);
      expect((await db.schedules.getRun(run!.id))!.notifications.find((n) => n.channel === "webhook")).toMatchObject({
        status: "delivered",
      });
    } finally {
      server.close();
    }
  });
});
