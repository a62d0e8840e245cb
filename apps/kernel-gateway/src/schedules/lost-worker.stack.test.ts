// Issue 14's "kill the worker mid-run": a scheduled run whose worker process is SIGKILLed while
// a cell runs, on the real stack (this process's gateway and scheduler, two real worker
// processes, gVisor sandboxes, IPython). Once the lost worker's grace is over its kernel is dead,
// the run's attempt fails naming the worker, and the schedule's retries decide: another attempt
// on the worker still connected, or a failed run that says why. Never left running.
import { afterEach, describe, expect, it } from "vitest";
import type { ScheduleRunRecord } from "@cellar/db";
import { until } from "../testing/gateway-harness";
import { startRealStack, type RealStack } from "../testing/real-stack";

let stack: RealStack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
}, 60_000);

/** Two workers, a short grace for a lost one (the option, not a wait), a scheduler that ticks often. */
async function start(): Promise<RealStack> {
  stack = await startRealStack({ workers: 2, lostWorkerGraceMs: 1_000, scheduler: { tickMs: 250 } });
  return stack;
}

/** A schedule of the owner's on a notebook whose one cell sleeps for ten minutes; "Run now". */
async function runSleepingNotebook(s: RealStack, retries: number) {
  const { db } = s;
  const notebook = await db.notebooks.create(db.localUserId, "Nightly");
  await db.notebooks.update(notebook.id, { cells: [{ id: "slow", cell_type: "code", source: "import time\ntime.sleep(600)" }] });
  const schedule = await db.schedules.create({
    notebookId: notebook.id,
    ownerId: db.localUserId,
    name: "Nightly",
    cron: "0 3 * * *",
    timezone: "UTC",
    retries,
    retryBackoffSeconds: 1,
  });
  const run = (await db.schedules.runNow(schedule.id))!;
  return { notebookId: notebook.id, runId: run.id };
}

/** Waits until the run's cell is executing on some worker, and kills that worker's process. */
async function killItsWorkerMidCell(s: RealStack, runId: string): Promise<string> {
  const running = await until(
    async () => {
      const run = await s.db.schedules.getRun(runId);
      const kernel = run?.executedNotebookId ? s.gateway.kernels.status(run.executedNotebookId) : undefined;
      return run?.status === "running" && run.workerId && kernel?.status === "busy" ? run : undefined;
    },
    "the run's cell to be executing",
    120_000,
  );
  const worker = s.workers.find((w) => w.id === running.workerId)!;
  worker.process.kill("SIGKILL");
  return worker.id;
}

const ended = (s: RealStack, runId: string) =>
  until(
    async () => {
      const run = await s.db.schedules.getRun(runId);
      return run && !["queued", "running"].includes(run.status) ? run : undefined;
    },
    "the run to end",
    120_000,
  );

describe("a scheduled run whose worker is killed mid-cell", () => {
  it("with a retry left: attempt 2 runs on the other worker and succeeds; attempt 1's reason names the lost worker", async () => {
    const s = await start();
    const { notebookId, runId } = await runSleepingNotebook(s, 1);
    const lost = await killItsWorkerMidCell(s, runId);
    // Every attempt runs the notebook as last saved: the second one finishes.
    await s.db.notebooks.update(notebookId, { cells: [{ id: "slow", cell_type: "code", source: "print('attempt 2')" }] });

    let retrying: ScheduleRunRecord | undefined;
    const done = await until(
      async () => {
        const run = await s.db.schedules.getRun(runId);
        if (run?.attempt === 2 && run.status !== "succeeded") retrying ??= run;
        return run && !["queued", "running"].includes(run.status) ? run : undefined;
      },
      "the run to be retried and end",
      120_000,
    );
    const other = s.workers.find((w) => w.id !== lost)!.id;
    expect(done).toMatchObject({ status: "succeeded", attempt: 2, workerId: other, errorName: null });
    // The first attempt's error is kept beside the second's success.
    expect(done.earlierAttempts).toMatchObject([
      {
        attempt: 1,
        status: "failed",
        workerId: lost,
        failingCellId: "slow",
        errorName: "WorkerLost",
        errorValue: `Worker ${lost} was lost mid-run: it disconnected and did not come back with the run's kernel.`,
      },
    ]);
    expect(retrying?.reason).toBe(
      `Attempt 1 failed: WorkerLost: Worker ${lost} was lost mid-run: it disconnected and did not come back with the run's kernel; trying again`,
    );
    const outputs = await until(async () => {
      const copy = await s.db.notebooks.get(done.executedNotebookId!);
      return copy?.cells[0]?.outputs.length && copy.cells[0].outputs;
    }, "attempt 2's output to be recorded");
    expect(outputs).toMatchObject([{ output_type: "stream", text: "attempt 2\n" }]);
  }, 240_000);

  it("with no retries: the run is failed, saying which worker was lost in which cell", async () => {
    const s = await start();
    const { runId } = await runSleepingNotebook(s, 0);
    const lost = await killItsWorkerMidCell(s, runId);
    const done = await ended(s, runId);
    expect(done).toMatchObject({
      status: "failed",
      attempt: 1,
      workerId: lost,
      failingCellId: "slow",
      failingCellIndex: 0,
      errorName: "WorkerLost",
      errorValue: `Worker ${lost} was lost mid-run: it disconnected and did not come back with the run's kernel.`,
    });
    expect(done.finishedAt).not.toBeNull();
  }, 240_000);
});
