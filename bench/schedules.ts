// Issue 14's figures, through the real stack (`npm start`'s launcher: gateway with its scheduler,
// one worker, gVisor, IPython, SQLite): fire time → first cell started, with and without pre-warm
// (each sample a schedule that fires once, at a second of its own); and a burst of schedules all
// firing in the same second: how long until every run has started and finished, and that each
// schedule ran exactly once. "Started" is the run's startedAt, which the gateway records as its
// first cell is sent to the kernel.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { GatewayClient } from "@cellar/kernel-client";
import type { RunReply } from "@cellar/protocol";
import { repoRoot, startStack } from "./stack";
import { summarize, table } from "./stats";

const SAMPLES = Number(process.env.BENCH_SCHEDULE_SAMPLES ?? 5);
const BURST = Number(process.env.BENCH_SCHEDULE_BURST ?? 100);
const PREWARM_S = 10;

/** A cron expression (seconds first) that fires once: at `at`, read in UTC. */
function onceAt(at: Date): string {
  return `${at.getUTCSeconds()} ${at.getUTCMinutes()} ${at.getUTCHours()} ${at.getUTCDate()} ${at.getUTCMonth() + 1} *`;
}

/** The next whole second at least `ms` from now. */
const secondsFromNow = (ms: number) => new Date(Math.ceil((Date.now() + ms) / 1000) * 1000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitRuns(gateway: GatewayClient, scheduleIds: string[], done: (runs: RunReply[]) => boolean, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const runs = (await Promise.all(scheduleIds.map((id) => gateway.runs.ofSchedule(id)))).flat();
    if (done(runs)) return runs;
    if (Date.now() > deadline)
      throw new Error(`runs did not get there in ${timeoutMs / 1000} s: ${JSON.stringify(runs.map((r) => r.status))}`);
    await sleep(200);
  }
}

const ended = (r: RunReply) => !["queued", "running"].includes(r.status);

export async function run(): Promise<void> {
  // Enough runs at once for the burst: the one worker is the limit, not the scheduler.
  process.env.CELLAR_SCHEDULE_MAX_RUNS ??= "8";
  const stack = await startStack(8895);
  const gateway = new GatewayClient({ baseUrl: stack.base, token: stack.token });
  const figures = { cold: [] as number[], prewarm: [] as number[] };
  let burst: { schedules: number; all_started_s: number; all_finished_s: number; runs_each: number[] };
  try {
    const notebook = await gateway.notebooks.create("Scheduled bench");
    await gateway.notebooks.update(notebook.id, {
      cells: [{ id: "c1", cell_type: "code", source: "x = 1\nx + 1" }],
    });
    // One interactive kernel first, so the image's warm snapshot exists as it would in use.
    const warm = await gateway.schedules.create(notebook.id, { cron: onceAt(secondsFromNow(3_000)), timezone: "UTC" });
    await waitRuns(gateway, [warm.id], (runs) => runs.length === 1 && ended(runs[0]!), 180_000);

    for (const mode of ["cold", "prewarm"] as const) {
      for (let i = 0; i < SAMPLES; i++) {
        const at = secondsFromNow(mode === "prewarm" ? PREWARM_S * 1000 + 3_000 : 3_000);
        const schedule = await gateway.schedules.create(notebook.id, {
          cron: onceAt(at),
          timezone: "UTC",
          prewarmSeconds: mode === "prewarm" ? PREWARM_S : 0,
        });
        const [done] = await waitRuns(gateway, [schedule.id], (runs) => runs.length === 1 && ended(runs[0]!), 120_000);
        if (done!.status !== "succeeded" || !done!.startedAt) throw new Error(`a ${mode} run ${done!.status}: ${done!.errorValue}`);
        figures[mode].push((Date.parse(done!.startedAt) - Date.parse(done!.scheduledFor)) / 1000);
      }
    }

    const at = secondsFromNow(15_000);
    const ids: string[] = [];
    for (let i = 0; i < BURST; i++) ids.push((await gateway.schedules.create(notebook.id, { cron: onceAt(at), timezone: "UTC" })).id);
    const runs = await waitRuns(gateway, ids, (r) => r.length >= BURST && r.every(ended), 1_800_000);
    const fire = at.getTime();
    const counts = new Map(ids.map((id) => [id, 0]));
    for (const r of runs) counts.set(r.scheduleId, (counts.get(r.scheduleId) ?? 0) + 1);
    burst = {
      schedules: BURST,
      all_started_s: (Math.max(...runs.map((r) => Date.parse(r.startedAt ?? r.finishedAt!))) - fire) / 1000,
      all_finished_s: (Math.max(...runs.map((r) => Date.parse(r.finishedAt!))) - fire) / 1000,
      runs_each: [...counts.values()],
    };
    const failed = runs.filter((r) => r.status !== "succeeded");
    if (failed.length) console.warn(`${failed.length} burst run(s) did not succeed: ${failed[0]!.status} ${failed[0]!.errorValue}`);
  } finally {
    await stack.stop();
  }
  const summary = (s: number[]) => {
    const { median_s, p95_s, n } = summarize(s);
    return { median_s, p95_s, n };
  };
  const result = {
    machine: { cpus: os.cpus().length, load_avg_1m: os.loadavg()[0], max_runs: Number(process.env.CELLAR_SCHEDULE_MAX_RUNS) },
    fire_to_first_cell: { prewarm: summary(figures.prewarm), cold: summary(figures.cold) },
    burst,
  };
  const outDir = path.join(repoRoot, "bench/results");
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, "schedules.json"), JSON.stringify(result, null, 2));
  console.log(
    table([
      [`fire time → first cell started, pre-warm ${PREWARM_S} s (target ≤ 1 s)`, summarize(figures.prewarm)],
      ["fire time → first cell started, no pre-warm (target ≤ 3 s)", summarize(figures.cold)],
      [`${BURST} schedules firing in one second: all started`, `${burst.all_started_s.toFixed(1)} s`],
      [`${BURST} schedules firing in one second: all finished`, `${burst.all_finished_s.toFixed(1)} s`],
      ["runs per schedule (each must be 1)", [...new Set(burst.runs_each)].join(", ")],
    ]),
  );
  console.log("wrote bench/results/schedules.json");
}
