// Samples, every 100 ms from /proc, the memory and CPU of this process and of every process it
// started (runsc CLIs, sandboxes, gofers, ptrace stubs, FUSE daemons), plus any process whose
// command line names one of `markers` (a bench's work directory: runsc --root, bundles, mounts),
// and their descendants. It runs on a worker thread so that reading /proc never holds up the
// event loop whose latencies the bench measures.
import fs from "node:fs";
import { Worker } from "node:worker_threads";

export interface SamplerResult {
  /** Peak over the samples of the summed RSS (resident pages: shared pages count once per process mapping them). */
  peak_rss_bytes: number;
  /** Seconds after start() when that peak was seen. */
  peak_rss_at_s: number;
  /** How many processes were summed at the peak. */
  peak_processes: number;
  /** The peak's RSS split by kind of process. */
  peak_rss_bytes_by_kind: Record<string, number>;
  samples: number;
  /** Mean wall time one sample took on the sampler's thread. */
  sample_ms_mean: number;
  /** CPU seconds (user + system) per kind of process while sampled; a process's last 100 ms before it exits is lost. */
  cpu_s_by_kind: Record<string, number>;
  /** Busy CPU seconds of the whole machine between start() and stop() (/proc/stat), and its wall seconds. */
  machine_cpu_s: number;
  wall_s: number;
}

const WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
const fs = require("node:fs");
const { rootPid, markers, intervalMs } = workerData;
const PAGE = 4096, HZ = 100;
const known = new Map(); // pid -> { start, cmd, kind }
const lastTicks = new Map(); // "pid:start" -> { kind, ticks }
const baseTicks = new Map(); // CPU a process had already used when the first sample saw it
let first = true;
let peak = 0, peakAt = 0, peakProcs = 0, samples = 0, sampleMs = 0, peakByKind = {};
const t0 = Date.now();
function kindOf(pid, cmd) {
  if (pid === rootPid) return "bench node (bench, blob server, worker code)";
  const argv = cmd.split("\\0");
  const exe = (argv[0] || "").split("/").pop();
  if (exe === "runsc-sandbox" || argv.includes("boot")) return "runsc sandbox (sentry + ptrace stubs)";
  if (exe === "runsc-gofer" || argv.includes("gofer")) return "runsc gofer";
  if (exe === "runsc") return "runsc CLI (run/restore/delete/kill)";
  if (exe.includes("lazyfs")) return "FUSE daemon";
  return "other (" + exe + ")";
}
function scan() {
  const procs = [];
  for (const d of fs.readdirSync("/proc")) {
    if (d.charCodeAt(0) < 48 || d.charCodeAt(0) > 57) continue;
    let stat;
    try { stat = fs.readFileSync("/proc/" + d + "/stat", "utf8"); } catch { continue; }
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    procs.push({ pid: Number(d), ppid: Number(rest[1]), ticks: Number(rest[11]) + Number(rest[12]), start: rest[19], rss: Number(rest[21]) * PAGE });
  }
  return procs;
}
function chosen(procs) {
  const set = new Set([rootPid]);
  for (const p of procs) {
    let k = known.get(p.pid);
    if (!k || k.start !== p.start) {
      let cmd = "";
      try { cmd = fs.readFileSync("/proc/" + p.pid + "/cmdline", "utf8"); } catch {}
      // ptrace stubs have an empty command line: they count with the process that made them.
      const parent = known.get(p.ppid);
      k = { start: p.start, cmd, kind: cmd === "" && parent ? parent.kind : kindOf(p.pid, cmd) };
      known.set(p.pid, k);
    }
    if (markers.some((m) => k.cmd.includes(m))) set.add(p.pid);
  }
  for (let grew = true; grew;) {
    grew = false;
    for (const p of procs) if (set.has(p.ppid) && !set.has(p.pid)) { set.add(p.pid); grew = true; }
  }
  return set;
}
function pssOf(pids) {
  let kb = 0;
  for (const pid of pids) {
    try {
      const m = /^Pss:\\s+(\\d+) kB/m.exec(fs.readFileSync("/proc/" + pid + "/smaps_rollup", "utf8"));
      if (m) kb += Number(m[1]);
    } catch {}
  }
  return kb * 1024;
}
function sample() {
  const s0 = performance.now();
  const procs = scan();
  const set = chosen(procs);
  let rss = 0, n = 0;
  const byKind = {};
  for (const p of procs) {
    if (!set.has(p.pid)) continue;
    rss += p.rss; n++;
    const kind = known.get(p.pid).kind;
    byKind[kind] = (byKind[kind] || 0) + p.rss;
    const id = p.pid + ":" + p.start;
    if (first) baseTicks.set(id, p.ticks);
    lastTicks.set(id, { kind: known.get(p.pid).kind, ticks: p.ticks - (baseTicks.get(id) || 0) });
  }
  first = false;
  if (rss > peak) { peak = rss; peakAt = Date.now() - t0; peakProcs = n; peakByKind = byKind; }
  samples++;
  sampleMs += performance.now() - s0;
  return set;
}
const timer = setInterval(sample, intervalMs);
sample();
parentPort.on("message", (msg) => {
  if (msg === "pss") {
    const set = sample();
    const p0 = performance.now();
    const bytes = pssOf(set);
    parentPort.postMessage({ type: "pss", bytes, processes: set.size, ms: Math.round((performance.now() - p0) * 10) / 10 });
    return;
  }
  clearInterval(timer);
  sample();
  const cpu = {};
  for (const { kind, ticks } of lastTicks.values()) cpu[kind] = (cpu[kind] || 0) + ticks / HZ;
  parentPort.postMessage({ type: "done", peak, peakAt, peakProcs, peakByKind, samples, sampleMs, cpu });
});
`;

function machineBusyTicks(): number {
  const f = fs.readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal ...: busy = all but idle and iowait
  return f.reduce((a, b) => a + b, 0) - f[3] - f[4];
}

export class ProcSampler {
  private readonly worker: Worker;
  private readonly t0 = performance.now();
  private readonly busy0 = machineBusyTicks();

  constructor(markers: string[], intervalMs = 100) {
    this.worker = new Worker(WORKER, { eval: true, workerData: { rootPid: process.pid, markers, intervalMs } });
  }

  /** PSS (proportional set size: shared pages split between the processes mapping them) of the same processes, now. */
  pssNow(): Promise<{ bytes: number; processes: number; ms: number }> {
    return this.request("pss") as Promise<{ bytes: number; processes: number; ms: number }>;
  }

  async stop(): Promise<SamplerResult> {
    const r = (await this.request("stop")) as {
      peak: number;
      peakAt: number;
      peakProcs: number;
      peakByKind: Record<string, number>;
      samples: number;
      sampleMs: number;
      cpu: Record<string, number>;
    };
    const wall = (performance.now() - this.t0) / 1000;
    const busy = (machineBusyTicks() - this.busy0) / 100;
    await this.worker.terminate();
    const cpu: Record<string, number> = {};
    for (const [k, v] of Object.entries(r.cpu)) cpu[k] = Math.round(v * 100) / 100;
    return {
      peak_rss_bytes: r.peak,
      peak_rss_at_s: Math.round(r.peakAt) / 1000,
      peak_processes: r.peakProcs,
      peak_rss_bytes_by_kind: r.peakByKind,
      samples: r.samples,
      sample_ms_mean: Math.round((r.sampleMs / Math.max(1, r.samples)) * 100) / 100,
      cpu_s_by_kind: cpu,
      machine_cpu_s: Math.round(busy * 100) / 100,
      wall_s: Math.round(wall * 1000) / 1000,
    };
  }

  private request(msg: string): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const expected = msg === "pss" ? "pss" : "done";
      const on = (m: { type: string }) => {
        if (m.type !== expected) return;
        this.worker.off("message", on);
        this.worker.off("error", reject);
        resolve(m);
      };
      this.worker.on("message", on);
      this.worker.once("error", reject);
      this.worker.postMessage(msg);
    });
  }
}
