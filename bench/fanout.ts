// Issue 10's fan-out figures: N sessions (1, 5, 10, 20) started at once on a fresh worker that
// has never seen the 100 GB image, whose warm snapshot is already in the CAS. Each N starts from
// a fresh worker state and starts its sessions the way the worker's session:start does (attach
// the image → KernelPool.start, pool size 0, which restores through WarmSnapshots), sends
// `print(1)` to each, and measures until the last session's first output: the time, every byte
// the worker pulled from the CAS, and the peak memory of the bench and every process it started.
import fs from "node:fs";
import os from "node:os";
import { loadAverage, targetTable } from "./stats";
import path from "node:path";
import type { ImageAttacher } from "../apps/worker/src/images/image-attacher";
import { BenchWorker, describeSnapshot, publishWarmSnapshot, specFor, type PublishedSnapshot } from "./bench-worker";
import {
  baseImage,
  buildImages,
  firstBootEver,
  firstOutput,
  fmtBytes,
  imageSpecs,
  logicalBytes,
  round,
  servedMark,
  servedSince,
  startServer,
  type BenchServer,
  type BuiltImage,
} from "./lazy-images";
import { ProcSampler, type SamplerResult } from "./proc-sampler";
import { repoRoot } from "./stack";

const SESSIONS = (process.env.CELLAR_BENCH_FANOUT ?? "1,5,10,20")
  .split(",")
  .map(Number)
  .filter((n) => n > 0);
const CELL = "print(1)";
const TARGET_S = 5;

interface SessionFigures {
  source: string;
  reason?: string;
  attach_ms: number;
  /** KernelPool.start resolved: the sandbox is restored (or booted) and has become the session. */
  started_ms: number;
  lookup_ms?: number;
  restore_ms?: number;
  first_output_ms: number;
}

export async function run(): Promise<void> {
  const work = fs.mkdtempSync(path.join("/var/tmp", "cellar-bench-fanout-"));
  const server = await startServer(work);
  const attachers: ImageAttacher[] = [];
  const outFile = path.join(repoRoot, "bench/results/fanout.json");
  try {
    const { manifest: base } = await baseImage(server.store);
    const specs = imageSpecs(logicalBytes(base));
    const [image] = await buildImages(server.store, base, specs, ["100 GB"]);
    // What earlier workers left in the CAS: the image's boot profile (its first boot ever) and
    // its warm snapshot (made by another worker through WarmSnapshots.create).
    const firstEver = await firstBootEver(work, server, image.imageId, attachers);
    for (const a of attachers.splice(0)) await a.detachAll();
    console.log(
      `100 GB image ${image.imageId.slice(0, 12)}: first boot ever ${firstEver.first_output_s.toFixed(2)} s, boot profile of ${firstEver.profile.chunks.length} chunks in ${firstEver.profile.packs.length} packs published`,
    );
    let snap = await publishWarmSnapshot(work, server, image.imageId);
    console.log(
      `warm snapshot ${snap.id.slice(0, 12)} in the CAS: ${fmtBytes(snap.bytes)} (${fmtBytes(snap.compressedBytes)} compressed, ${snap.blobs.size} blobs), made in ${snap.create_s.toFixed(1)} s`,
    );

    const runs: Array<Record<string, unknown>> = [];
    const write = () => {
      fs.mkdirSync(path.dirname(outFile), { recursive: true });
      fs.writeFileSync(
        outFile,
        JSON.stringify(
          {
            machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, memory_gb: Math.round(os.totalmem() / 2 ** 30) },
            image: {
              image_id: image.imageId,
              logical_bytes: logicalBytes(image.manifest),
              boot_profile_chunks: firstEver.profile.chunks.length,
              boot_profile_packs: firstEver.profile.packs.length,
            },
            snapshot: { id: snap.id, bytes: snap.bytes, compressed_bytes: snap.compressedBytes, blobs: snap.blobs.size },
            cell: CELL,
            runs,
            notes: NOTES,
          },
          null,
          2,
        ),
      );
    };
    for (const n of SESSIONS) {
      // A cold fallback makes a new snapshot in the background and moves the CAS's ref to it.
      const current = await server.store.getRef(`warm-snapshot/${snap.key}`);
      if (current && current !== snap.id) {
        console.log(`the CAS's warm snapshot of the image is now ${current.slice(0, 12)} (a cold start made it)`);
        snap = { ...(await describeSnapshot(server, snap.key, current)), create_s: snap.create_s };
      }
      await settle();
      const r = await fanout(work, server, image, snap, n);
      runs.push(r);
      write();
      console.log(
        `${n} session(s): last first output ${r.last_first_output_s === null ? "—" : r.last_first_output_s.toFixed(2) + " s"}, ${r.restored} restored / ${r.cold} cold${r.failed ? ` / ${r.failed} FAILED` : ""}, fetched ${fmtBytes(r.bytes_fetched)} (snapshot ${fmtBytes(r.snapshot_bytes_fetched)} in ${r.snapshot_blob_downloads} downloads of ${snap.blobs.size} blobs), peak RSS ${fmtBytes(r.peak_rss_bytes)}, load ${r.load_average_before.join(" ")}`,
      );
    }

    const lines = [
      "| sessions | last first output | median first output | restored / cold | fetched | snapshot fetched (downloads / blobs) | image fetched | peak RSS (sum) | PSS at last output | machine CPU s | load avg before |",
      "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ];
    for (const r of runs as unknown as FanoutRun[]) {
      lines.push(
        `| ${r.sessions} | ${r.last_first_output_s === null ? "—" : r.last_first_output_s.toFixed(2) + " s"} | ${r.median_first_output_s === null ? "—" : r.median_first_output_s.toFixed(2) + " s"} | ${r.restored} / ${r.cold}${r.failed ? ` (${r.failed} failed)` : ""} | ${fmtBytes(r.bytes_fetched)} | ${fmtBytes(r.snapshot_bytes_fetched)} (${r.snapshot_blob_downloads} / ${snap.blobs.size}) | ${fmtBytes(r.image_bytes_fetched)} | ${fmtBytes(r.peak_rss_bytes)} | ${fmtBytes(r.pss_at_last_first_output_bytes)} | ${r.cpu.machine_cpu_s} | ${r.load_average_before.join(" ")} |`,
      );
    }
    console.log(lines.join("\n"));
    const last = (runs as unknown as FanoutRun[]).at(-1)!;
    if (last) {
      console.log(
        `\nwhere the time of ${last.sessions} sessions went (ms after the start; max over sessions): attach ${last.phases_ms.attach_max}, snapshot lookup+fetch ${last.phases_ms.lookup_max}, runsc restore ${last.phases_ms.restore_max}, started ${last.phases_ms.started_max}, first output ${last.phases_ms.first_output_max}`,
      );
      console.log(
        `CPU seconds by process over those ${last.cpu.wall_s} s: ${Object.entries(last.cpu.cpu_s_by_kind)
          .map(([k, v]) => `${k} ${v}`)
          .join("; ")}; machine ${last.cpu.machine_cpu_s} of ${(last.cpu.wall_s * os.cpus().length).toFixed(1)} available`,
      );
    }
    const all = runs as unknown as FanoutRun[];
    const bytes = all.map((r) => r.bytes_fetched);
    const spread = Math.max(...bytes) / Math.min(...bytes);
    const twenty = all.find((r) => r.sessions === 20);
    const twentyMet = !!twenty && twenty.last_first_output_s !== null && twenty.last_first_output_s <= TARGET_S && twenty.cold === 0;
    const notRestored = all.reduce((n, r) => n + r.cold + r.failed, 0);
    console.log(
      `\n${targetTable([
        ["20 sessions, last first output", `≤ ${TARGET_S} s`, `${twenty?.last_first_output_s?.toFixed(2) ?? "not run"} s`, twentyMet],
        ["fetched bytes flat in N (max / min over N)", "≈ 1.0 (≤ 1.1)", spread.toFixed(2), spread <= 1.1],
        ["every session restored (none cold)", "0 cold", `${notRestored} cold or failed`, notRestored === 0],
      ])}`,
    );
    console.log(`load average at the end: ${loadAverage()}`);
    console.log("wrote bench/results/fanout.json");
  } finally {
    for (const a of attachers) await a.detachAll().catch(() => {});
    await server.close();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

type FanoutRun = Awaited<ReturnType<typeof fanout>>;

/** Lets the previous run's teardown finish and the load settle a little. */
async function settle(): Promise<void> {
  await new Promise((r) => setTimeout(r, 3000));
}

async function fanout(work: string, server: BenchServer, image: BuiltImage, snap: PublishedSnapshot, n: number) {
  const worker = new BenchWorker(work, server, { log: (l) => console.log(`  ${l}`) });
  const spec = specFor(image.imageId);
  const load_average_before = os.loadavg().map((x) => Math.round(x * 100) / 100);
  let sampler: ProcSampler | null = new ProcSampler([worker.dir]);
  let cpu: SamplerResult | null = null;
  try {
    const mark = servedMark(server);
    const t0 = performance.now();
    const ms = () => Math.round(performance.now() - t0);
    const settled = await Promise.allSettled(
      Array.from({ length: n }, async (): Promise<SessionFigures> => {
        // gateway-connection.ts's session:start: prefetch the warm snapshot, attach (one mount
        // per image, shared), the notebook's workspace, then the pool (size 0: restore the warm
        // snapshot, else boot cold).
        const forRestore = await worker.snapshots.prefetch(spec);
        const rootfs = await worker.attacher.attach(image.imageId, { forRestore });
        const attach_ms = ms();
        const session = worker.session();
        const started = await worker.pool.start(spec, rootfs, session);
        worker.track(started.sandbox);
        const started_ms = ms();
        await firstOutput(started.sandbox, CELL);
        const timings = started.source === "snapshot" ? started.timings : undefined;
        return {
          source: started.source,
          reason: started.source === "cold" ? started.reason : undefined,
          attach_ms,
          started_ms,
          lookup_ms: timings?.lookupMs,
          restore_ms: timings?.restoreMs,
          first_output_ms: ms(),
        };
      }),
    );
    const wall_ms = ms();
    const atFirstOutput = servedSince(server, mark);
    const pss = await sampler.pssNow();
    cpu = await sampler.stop();
    sampler = null;

    // The boot packs are not awaited by an attach; count them whole.
    const deadline = performance.now() + 60_000;
    while (performance.now() < deadline) {
      const stats = worker.attacher.lastAttach.get(image.imageId);
      if (!stats || stats.packs === 0 || stats.chunksPrefetched > 0) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const served = servedSince(server, mark);

    const ok = settled.filter((s): s is PromiseFulfilledResult<SessionFigures> => s.status === "fulfilled").map((s) => s.value);
    const errors = settled
      .filter((s): s is PromiseRejectedResult => s.status === "rejected")
      .map((s) => String((s.reason as Error)?.message ?? s.reason));
    let snapshotBytes = 0;
    let snapshotDownloads = 0;
    for (const e of server.served.log.slice(mark))
      if (snap.blobs.has(e.hash)) {
        snapshotBytes += e.bytes;
        snapshotDownloads++;
      }
    const firsts = ok.map((s) => s.first_output_ms).sort((a, b) => a - b);
    const max = (f: (s: SessionFigures) => number | undefined) => Math.max(0, ...ok.map(f).filter((x): x is number => x !== undefined));
    const med = (xs: number[]) => (xs.length ? xs[xs.length >> 1] : null);
    return {
      sessions: n,
      last_first_output_s: errors.length || !ok.length ? null : round(firsts[firsts.length - 1] / 1000),
      first_first_output_s: ok.length ? round(firsts[0] / 1000) : null,
      median_first_output_s: med(firsts) === null ? null : round(med(firsts)! / 1000),
      wall_until_all_settled_s: round(wall_ms / 1000),
      bytes_fetched: served.bytes,
      bytes_fetched_at_last_first_output: atFirstOutput.bytes,
      snapshot_bytes_fetched: snapshotBytes,
      snapshot_blob_downloads: snapshotDownloads,
      image_bytes_fetched: served.bytes - snapshotBytes,
      requests: served.requests,
      peak_rss_bytes: cpu.peak_rss_bytes,
      peak_rss_at_s: cpu.peak_rss_at_s,
      peak_rss_processes: cpu.peak_processes,
      peak_rss_bytes_by_kind: cpu.peak_rss_bytes_by_kind,
      pss_at_last_first_output_bytes: pss.bytes,
      pss_processes: pss.processes,
      pss_read_ms: pss.ms,
      restored: ok.filter((s) => s.source === "snapshot").length,
      cold: ok.filter((s) => s.source === "cold").length,
      cold_reasons: [...new Set(ok.filter((s) => s.source === "cold").map((s) => s.reason ?? ""))],
      failed: errors.length,
      errors: [...new Set(errors)].map((e) => e.slice(0, 2000)),
      phases_ms: {
        attach_max: max((s) => s.attach_ms),
        lookup_max: max((s) => s.lookup_ms),
        restore_max: max((s) => s.restore_ms),
        started_max: max((s) => s.started_ms),
        first_output_max: max((s) => s.first_output_ms),
        lookup_median: med(ok.map((s) => s.lookup_ms ?? 0).sort((a, b) => a - b)),
        restore_median: med(ok.map((s) => s.restore_ms ?? 0).sort((a, b) => a - b)),
      },
      cpu: {
        cpu_s_by_kind: cpu.cpu_s_by_kind,
        machine_cpu_s: cpu.machine_cpu_s,
        wall_s: cpu.wall_s,
        samples: cpu.samples,
        sample_ms_mean: cpu.sample_ms_mean,
      },
      per_session: ok.sort((a, b) => a.first_output_ms - b.first_output_ms),
      load_average_before,
    };
  } finally {
    if (sampler) await sampler.stop().catch(() => {});
    await worker.close([spec]);
  }
}

const NOTES = {
  setup:
    "the 100 GB image of the lazyfs bench (built by the same helpers, bench/lazy-images.ts); before the runs its first boot ever published its boot profile and a second worker made its warm snapshot (numpy, pandas, matplotlib, scipy) through WarmSnapshots.create into the bench's HTTP CAS",
  fresh_worker:
    "each N gets a new worker: new home, chunk cache, snapshot dir and runsc state; a new ImageAttacher, BlobFetcher (snapshotCas), WarmSnapshots and KernelPool (size 0), as gateway-connection.ts builds them",
  sessions:
    "N sessions started at once, each: WarmSnapshots.prefetch, ImageAttacher.attach (one shared mount), workspace dir, KernelPool.start(spec, rootfs, {sessionId, workspaceDir}), then execute_request print(1); last_first_output_s = start → the last session's first stream output; null if any session failed",
  bytes_fetched:
    "compressed bytes of every blob the bench's HTTP server sent to this worker (manifest, boot profile, boot packs, chunks read on demand, the snapshot's manifest and chunks), counted at the server, including boot packs still arriving after the last first output; snapshot_blob_downloads counts GETs of the snapshot's blobs (more than its blob count means sessions fetched it more than once)",
  peak_rss_bytes:
    "peak over the run (start → last first output) of the summed RSS of the bench process and every process it started or that names the worker's directory (runsc CLI, sandbox/sentry, gofer, ptrace stubs, FUSE daemon), sampled every 100 ms from /proc/PID/stat on a worker thread; RSS counts pages shared between processes once per process, so pss_at_last_first_output_bytes (PSS from /proc/PID/smaps_rollup, once, when the last session had its output) is the fairer memory figure",
  cpu: "CPU seconds per kind of process from the same samples (a process's last <100 ms before exit is lost), and the machine's busy CPU seconds from /proc/stat; the bench process also serves the CAS",
  phases_ms:
    "per session, ms after the common start: attach (manifest + mount), lookup (WarmSnapshots: ref + what is left of the snapshot's fetch and materialise, which the prefetch began with the attach), restore (runsc restore until the bridge is the session), started, first output",
};
