// Issues 4 and 10's figures: "start session" → first output of `print(1)` for a cold boot, a
// restore of the warm snapshot (numpy, pandas, matplotlib, scipy imported), and a plain ipykernel
// on the host; plus an idle kernel's memory, the snapshot's size, and suspend/resume of a kernel
// holding 1 GiB of numpy arrays (bench/suspend-resume.ts). All through the worker's own modules
// on the base image, with the installed runsc; cold and restore again with Debian bookworm's own
// runsc 20221219 as the baseline column (bench/old-runsc.ts), interleaved with the new one.
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { runscVersion, startKernelSandbox, type KernelSandbox } from "../apps/worker/src/sandbox";
import { DEFAULT_WARMUP, KernelPool, WarmSnapshots } from "../apps/worker/src/snapshots";
import { awaitFirstOutput } from "./first-output";
import { repoRoot } from "./stack";
import { oldRunsc } from "./old-runsc";
import { suspendResume1GiB } from "./suspend-resume";
import { loadAverage, summarize, table } from "./stats";

const N = Number(process.env.CELLAR_BENCH_N ?? 20);
/** Runs of the old runsc's cold boot and restore (each start costs it about 3 s more). */
const N_OLD = Number(process.env.CELLAR_BENCH_N_OLD ?? 10);
/** The warm snapshot's imports; `CELLAR_BENCH_WARMUP=numpy,pandas,…` measures another list. */
const WARMUP = process.env.CELLAR_BENCH_WARMUP ? process.env.CELLAR_BENCH_WARMUP.split(",") : DEFAULT_WARMUP;
const IMAGE = path.join(process.env.CELLAR_CACHE ?? "/var/cache/cellar", "images/base/rootfs");
const LIMITS = { memoryBytes: 4 * 2 ** 30, pids: 512 };

export async function run(): Promise<void> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "cellar-bench-snap-"));
  const stateRoot = path.join(work, "state");
  const session = () => {
    const sessionId = randomUUID();
    return { sessionId, workspaceDir: path.join(work, "ws", sessionId) };
  };
  const sandboxOpts = () => ({ ...session(), imageRootfs: IMAGE, stateRoot, limits: LIMITS });
  try {
    const snapshots = new WarmSnapshots({ dir: path.join(work, "snapshots"), remote: null, stateRoot, log: () => {} });
    const spec = { imageId: "bench-base-image".padEnd(64, "0").replace(/[^0-9a-f]/g, "0"), limits: LIMITS, warmup: WARMUP };
    const snap = await snapshots.create(spec, IMAGE);
    const snapshotBytes = dirBytes(snap.dir);
    const oldPath = oldRunsc();
    const oldSnapshots = new WarmSnapshots({
      dir: path.join(work, "snapshots-old"),
      remote: null,
      stateRoot,
      runscPath: oldPath,
      log: () => {},
    });
    const oldSnap = await oldSnapshots.create(spec, IMAGE);
    const oldSnapshotBytes = dirBytes(oldSnap.dir);

    // A pool kept by hand (no background refill): filled before each timed start, as the worker's
    // refill would have done between two users.
    const pool = new KernelPool({
      snapshots,
      size: 1,
      workspacesDir: path.join(work, "ws"),
      memoryBytes: os.totalmem(),
      liveSessionsMemory: () => 0,
      refillDelayMs: 3_600_000,
      log: () => {},
    });
    await (await pool.start(spec, IMAGE, session())).sandbox.stop(); // the image is now a recent one

    const cold: number[] = [];
    const restore: number[] = [];
    const pooled: number[] = [];
    const oldCold: number[] = [];
    const oldRestore: number[] = [];
    let idleRssMb = 0;
    for (let i = 0; i < N; i++) {
      if (i < N_OLD) {
        let t = performance.now();
        const c = await startKernelSandbox({ ...sandboxOpts(), runscPath: oldPath });
        await firstOutput(c, "print(1)");
        oldCold.push((performance.now() - t) / 1000);
        await c.stop();
        t = performance.now();
        const r = await oldSnapshots.restore(spec, IMAGE, session());
        if (!r) throw new Error("the old runsc's warm snapshot did not restore");
        await firstOutput(r, "print(1)");
        oldRestore.push((performance.now() - t) / 1000);
        await r.stop();
      }
      // Interleaved, so both see the same machine state.
      let t0 = performance.now();
      const c = await startKernelSandbox(sandboxOpts());
      await firstOutput(c, "print(1)");
      cold.push((performance.now() - t0) / 1000);
      await c.stop();

      t0 = performance.now();
      const r = await snapshots.restore(spec, IMAGE, session());
      if (!r) throw new Error("the warm snapshot did not restore");
      await firstOutput(r, "print(1)");
      restore.push((performance.now() - t0) / 1000);
      if (i === 0) {
        await new Promise((res) => setTimeout(res, 1000));
        idleRssMb = sandboxPssMb(r.containerId);
      }
      await r.stop();

      await pool.fill();
      t0 = performance.now();
      const p = await pool.start(spec, IMAGE, session());
      if (p.source !== "pool") throw new Error(`the pool had no kernel (started by ${p.source})`);
      await firstOutput(p.sandbox, "print(1)");
      pooled.push((performance.now() - t0) / 1000);
      await p.sandbox.stop();
    }
    await pool.stop();

    const host = hostIpykernel(N);
    const suspended = await suspendResume1GiB({ work, imageRootfs: IMAGE, stateRoot, limits: LIMITS });
    const { suspend_s: suspendS, resume_s: resumeS } = suspended;

    const result = {
      machine: {
        cpus: os.cpus().length,
        model: os.cpus()[0]?.model,
        memory_gb: Math.round(os.totalmem() / 2 ** 30),
        loadavg_at_end: os.loadavg(),
      },
      runsc_version: await runscVersion(),
      platform: "ptrace",
      image: "base (python3, ipykernel, numpy, pandas, matplotlib, scipy), extracted rootfs at " + IMAGE,
      cold: summarize(cold),
      restore: summarize(restore),
      pool: summarize(pooled),
      pool_note:
        "KernelPool.start claiming a kernel restored ahead of time (workspace handed over by rename), then print(1); the pool is refilled before each start, untimed",
      host_ipykernel: summarize(host),
      host_ipykernel_note:
        "python3 -m ipykernel_launcher started and driven by jupyter_client (start_new_kernel, then execute) outside any sandbox, with the base image's own Python and packages (chroot into the rootfs; the host has no ipykernel); includes kernel process start, ZMQ connect and kernel_info",
      cold_note:
        "sandbox boot of the kernel bridge without the warm-up imports, then print(1); the restored kernel additionally has the warm-up's modules imported (warmup)",
      idle_kernel_rss_mb: idleRssMb,
      idle_kernel_rss_note:
        "PSS (so shared pages count once) of every host process of one idle restored sandbox: runsc CLI, sentry, gofer and ptrace stubs",
      snapshot_bytes: snapshotBytes,
      warmup: WARMUP,
      old_runsc: {
        version: await runscVersion(oldPath),
        cold: summarize(oldCold),
        restore: summarize(oldRestore),
        snapshot_bytes: oldSnapshotBytes,
        note: "Debian bookworm's runsc, unpacked from its package; same image, bridge, limits and code path, interleaved with the runs above (its checkpoints are deflated: it has no --compression=none)",
      },
      ...suspended,
      suspend_resume_note:
        "a kernel holding 1 GiB of numpy arrays (np.random.rand), n=1, through the worker's path (KernelSession + SuspendedKernels, CAS over HTTP): suspend_s = KernelSession.suspend() until the kernel is reported suspended (runsc checkpoint, uncompressed, + a rename onto the worker's disk; hashing, compressing and the upload to the CAS follows in the background and is suspend_breakdown_ms.uploadMs); resume_s = the next cell's request on the suspended session → its first output (runsc restore from the local copy + the cell); resume_from_cas_s = the same on a second worker whose disk never had the checkpoint (fetch from the CAS + restore + the cell)",
    };
    const outDir = path.join(repoRoot, "bench/results");
    fs.mkdirSync(outDir, { recursive: true });
    fs.writeFileSync(path.join(outDir, "snapshots.json"), JSON.stringify(result, null, 2));
    console.log(`runsc ${result.runsc_version}; baseline column: ${result.old_runsc.version}; load average at the end ${loadAverage()}`);
    console.log(
      table([
        ["cold boot → first output of print(1)", result.cold],
        ["restore of warm snapshot → first output of print(1)", result.restore],
        ["pre-restored pool kernel → first output of print(1)", result.pool],
        ["host ipykernel (no sandbox) → first output of print(1)", result.host_ipykernel],
        ["old runsc: cold boot → first output", result.old_runsc.cold],
        ["old runsc: restore → first output", result.old_runsc.restore],
      ]),
    );
    console.log(
      `\nrestore is ${(result.cold.median_s / result.restore.median_s).toFixed(1)}× faster than a cold boot and ${(result.host_ipykernel.median_s / result.restore.median_s).toFixed(1)}× faster than a host ipykernel (medians)`,
    );
    console.log(
      `old runsc: restore ${(result.old_runsc.restore.median_s / result.restore.median_s).toFixed(2)}× slower than the new one, cold boot ${(result.old_runsc.cold.median_s / result.cold.median_s).toFixed(2)}×; its snapshot ${(oldSnapshotBytes / 2 ** 20).toFixed(1)} MiB`,
    );
    console.log(
      `idle restored kernel: ${idleRssMb} MB PSS; snapshot: ${(snapshotBytes / 2 ** 20).toFixed(1)} MiB; 1 GiB kernel: suspend ${suspendS} s, resume ${resumeS} s (from the CAS on another worker ${suspended.resume_from_cas_s} s)`,
    );
    console.log("wrote bench/results/snapshots.json");
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** Resolves when the first output (stream, execute_result or error) of `code` arrives. */
async function firstOutput(sb: KernelSandbox, code: string, timeoutMs = 60_000): Promise<string> {
  const { output } = await awaitFirstOutput(sb, code, { timeoutMs });
  return output.header.msg_type === "stream" ? String(output.content.text) : JSON.stringify(output.content);
}

function dirBytes(dir: string): number {
  return fs
    .readdirSync(dir)
    .filter((f) => !f.startsWith("."))
    .reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0);
}

/** Sum of PSS over the sandbox's host processes (those naming the container, and their children). */
function sandboxPssMb(containerId: string): number {
  const procs = fs
    .readdirSync("/proc")
    .filter((p) => /^\d+$/.test(p))
    .map((pid) => {
      try {
        const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
        const ppid = Number(fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ")[1]);
        return { pid: Number(pid), ppid, cmd };
      } catch {
        return null;
      }
    })
    .filter((p): p is { pid: number; ppid: number; cmd: string } => p !== null);
  const chosen = new Set(procs.filter((p) => p.cmd.includes(containerId)).map((p) => p.pid));
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of procs)
      if (chosen.has(p.ppid) && !chosen.has(p.pid)) {
        chosen.add(p.pid);
        grew = true;
      }
  }
  let kb = 0;
  for (const pid of chosen) {
    try {
      const m = /^Pss:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/smaps_rollup`, "utf8"));
      kb += m ? Number(m[1]) : 0;
    } catch {
      /* exited */
    }
  }
  return Math.round(kb / 1024);
}

const HOST_DRIVER = `
import json, time
t0 = time.perf_counter()
from jupyter_client.manager import start_new_kernel
km, kc = start_new_kernel(kernel_name="python3")
kc.execute("print(1)")
while kc.get_iopub_msg(timeout=60)["msg_type"] != "stream":
    pass
print(json.dumps({"s": time.perf_counter() - t0}))
kc.stop_channels()
km.shutdown_kernel(now=True)
`;

/** A plain ipykernel on the host, driven by jupyter_client; the image's Python via chroot. */
function hostIpykernel(n: number): number[] {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const out = execFileSync(
      "unshare",
      [
        "-m",
        "--propagation",
        "private",
        "sh",
        "-c",
        `mount --bind /dev "$0/dev" && mount -t proc proc "$0/proc" && exec chroot "$0" env HOME=/tmp PYDEVD_DISABLE_FILE_VALIDATION=1 python3 -c "$1"`,
        IMAGE,
        HOST_DRIVER,
      ],
      { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] },
    );
    times.push((JSON.parse(out.trim().split("\n")[0]) as { s: number }).s);
  }
  return times;
}
