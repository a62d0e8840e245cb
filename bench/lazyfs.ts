// Issue 3's figures: attach → first output of `import numpy; print(1)` on lazily mounted images of
// about 1, 10 and 100 GB (cold worker cache, blobs over real HTTP), what each fetched, the full copy
// a pull would do instead, and sequential read throughput through the mount against local disk.
// Issue 10's row beside them: the same cell on a fresh worker when the image's warm snapshot is
// already in the CAS (WarmSnapshots restores it instead of booting).
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import { loadAverage, targetTable } from "./stats";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { randomUUID } from "node:crypto";
import { bootProfileRef, decompressBlob, type BlobStore, type BootProfile, type Manifest } from "@cellar/fs-client";
import type { ImageAttacher } from "../apps/worker/src/images/image-attacher";
import { startKernelSandbox } from "../apps/worker/src/sandbox";
import { BenchWorker, publishWarmSnapshot, specFor, type PublishedSnapshot } from "./bench-worker";
import {
  CACHE,
  CODE,
  GIB,
  baseImage,
  bootOnce,
  buildImages,
  firstBootEver,
  firstOutput,
  fmtBytes,
  imageSpecs,
  logicalBytes,
  newAttacher,
  round,
  servedMark,
  servedSince,
  startServer,
  type BenchServer,
} from "./lazy-images";
import { repoRoot } from "./stack";

export async function run(): Promise<void> {
  const work = fs.mkdtempSync(path.join("/var/tmp", "cellar-bench-lazyfs-"));
  const server = await startServer(work);
  const attachers: ImageAttacher[] = [];
  try {
    const { imageId: baseImageId, manifest: base } = await baseImage(server.store);
    const baseBytes = logicalBytes(base);
    const specs = imageSpecs(baseBytes);
    console.log(`base image ${baseImageId.slice(0, 12)}: ${fmtBytes(baseBytes)}, ${base.entries.length} entries`);
    const built = await buildImages(server.store, base, specs);

    const images: ImageRow[] = [];
    const snaps: PublishedSnapshot[] = [];
    for (const b of built) {
      const r = await measureAttach(work, server, b.imageId, b.manifest, attachers);
      console.log(
        `${b.spec.label}: first output ${r.first_output_s.toFixed(2)} s (mounted after ${r.attach_s.toFixed(2)} s; first boot ever ${r.first_boot_ever_s.toFixed(2)} s), fetched ${fmtBytes(r.bytes_fetched)} in ${r.blobs_requested} blobs (${r.packs_fetched} packs; ${r.chunks_fetched} chunks, ${r.files_fetched} files)`,
      );
      const snap = await publishWarmSnapshot(work, server, b.imageId);
      snaps.push(snap);
      console.log(
        `${b.spec.label}: warm snapshot ${snap.id.slice(0, 12)} made and stored in the CAS in ${snap.create_s.toFixed(1)} s (${fmtBytes(snap.bytes)}, ${fmtBytes(snap.compressedBytes)} compressed, ${snap.blobs.size} blobs)`,
      );
      const rs = await measureRestore(work, server, b.imageId, b.manifest, snap, r.profile);
      console.log(
        `${b.spec.label}: fresh worker, warm snapshot in the CAS: first output ${rs.first_output_restore_s.toFixed(2)} s (mounted after ${rs.restore_attach_s.toFixed(2)} s; snapshot lookup+fetch ${rs.restore_timings_ms.lookupMs} ms, runsc restore ${rs.restore_timings_ms.restoreMs} ms), fetched ${fmtBytes(rs.restore_bytes_fetched)} (snapshot ${fmtBytes(rs.restore_snapshot_bytes_fetched)}, image ${fmtBytes(rs.restore_image_bytes_fetched)}) in ${rs.restore_blobs_requested} requests`,
      );
      const { profile: _profile, ...cold } = r;
      images.push({
        label: b.spec.label,
        logical_bytes: logicalBytes(b.manifest),
        ...cold,
        ...rs,
        snapshot_bytes: snap.bytes,
        snapshot_compressed_bytes: snap.compressedBytes,
        snapshot_create_s: snap.create_s,
      });
    }

    // Baseline: the same cell on the base image's local, fully extracted rootfs (no lazy mount).
    const localFirst = await measureLocalBoot(work);
    console.log(`baseline: local extracted rootfs, first output ${localFirst.toFixed(2)} s`);

    const full_copy = [];
    for (const b of built.slice(0, 2)) {
      const seconds = await measureFullCopy(work, server.store, b.manifest);
      full_copy.push({ label: b.spec.label, logical_bytes: logicalBytes(b.manifest), seconds });
      console.log(`${b.spec.label}: full copy ${seconds.toFixed(1)} s`);
    }

    const throughput = await measureThroughput(work, server, built[1].imageId, built[1].bigFiles[0], attachers);

    const result = {
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, memory_gb: Math.round(os.totalmem() / 2 ** 30) },
      load_average: os.loadavg().map((x) => Math.round(x * 100) / 100),
      images: images.map(({ label, ...r }) => r),
      full_copy: full_copy.map(({ label, ...r }) => r),
      throughput,
      local_rootfs_first_output_s: localFirst,
      notes: {
        labels: images.map((r) => r.label),
        base_image_bytes: baseBytes,
        one_gb_image: "the base image alone is about 1.3 GB, so the smallest image is the base plus one 128 MiB file",
        hundred_gb_image: `the 100 GB image holds the 10 GB image's ${specs[1].distinctFiles} distinct 1 GiB files plus ${specs[2].repeatedFiles} files of 1 GiB made of the same chunks: the disk cannot hold 100 GB of distinct bytes, so the CAS stores that content once`,
        content:
          "added files are AES-256-CTR keystreams (incompressible, distinct per file), ingested as 4 MiB Brotli blobs into a bench-only CAS layered over the base image's CAS",
        bytes_fetched:
          "compressed bytes the HTTP blob server sent, manifest included; files_fetched counts image files with at least one fetched chunk",
        full_copy: "reads every chunk from the local CAS, decompresses and writes the tree (no network): a lower bound for a pull",
        first_output_s:
          "attach on a cold worker cache of an image whose boot profile is published (every attach after the image's first boot on any worker): the worker pulls the boot packs while it mounts",
        first_boot_ever_s:
          "not an issue figure: the image's very first boot, nothing cached or published, every file fetched on demand; it records and publishes the boot packs",
        first_output_restore_s:
          "issue 10: attach → first output of the same cell on a fresh worker (empty chunk cache, no local snapshots, new ImageAttacher and WarmSnapshots whose remote is a BlobFetcher on the bench's HTTP CAS) when the image's warm snapshot (numpy, pandas, matplotlib, scipy imported) is already in the CAS: as the worker's session:start does, WarmSnapshots.prefetch starts fetching the snapshot before the attach, then WarmSnapshots.start joins that fetch and runsc restores it (checked: source 'snapshot'); an attach for a restore pulls no boot packs (ImageAttacher's forRestore), only what the restore reads. The snapshot was made by another worker through WarmSnapshots.create on the lazily mounted image after the image's first boot had published its boot profile",
        restore_bytes_fetched:
          "compressed bytes the HTTP blob server sent to that fresh worker from attach to first output: restore_snapshot_bytes_fetched (the snapshot's manifest and chunks) + restore_image_bytes_fetched (image manifest — restore_image_manifest_bytes —, boot profile, boot packs, chunks read on demand); boot packs still arriving after the first output are not counted",
        restore_timings_ms:
          "WarmSnapshots' own split: lookupMs = ref lookup + what is left of the snapshot's fetch and materialise once the image is mounted (the prefetch began with the attach), restoreMs = runsc restore until the bridge has become the session",
        throughput: "1 GiB file, 1 MiB reads; page cache dropped before each run; warm = chunks already in the worker's chunk cache",
      },
    };
    const outDir = path.join(repoRoot, "bench/results");
    fs.mkdirSync(outDir, { recursive: true });
    fs.writeFileSync(path.join(outDir, "lazyfs.json"), JSON.stringify(result, null, 2));

    const lines = [
      "| image | logical | start | attach → first output | first boot ever | fetched | % of image | requests | chunks | files | full copy | full copy / lazy |",
      "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ];
    for (const [i, r] of images.entries()) {
      const fc = full_copy[i];
      lines.push(
        `| ${r.label} | ${fmtBytes(r.logical_bytes)} | cold boot | ${r.first_output_s.toFixed(2)} s | ${r.first_boot_ever_s.toFixed(2)} s | ${fmtBytes(r.bytes_fetched)} | ${pct(r.bytes_fetched, r.logical_bytes)} | ${r.blobs_requested} | ${r.chunks_fetched} | ${r.files_fetched} | ${fc ? fc.seconds.toFixed(1) + " s" : "—"} | ${fc ? (fc.seconds / r.first_output_s).toFixed(1) + "×" : "—"} |`,
      );
      lines.push(
        `| ${r.label} | ${fmtBytes(r.logical_bytes)} | fresh worker, warm snapshot in the CAS | ${r.first_output_restore_s.toFixed(2)} s | — | ${fmtBytes(r.restore_bytes_fetched)} (snapshot ${fmtBytes(r.restore_snapshot_bytes_fetched)} + image ${fmtBytes(r.restore_image_bytes_fetched)}) | ${pct(r.restore_bytes_fetched, r.logical_bytes)} | ${r.restore_blobs_requested} | ${r.restore_image_chunks_fetched} | ${r.restore_image_files_fetched} | ${fc ? fc.seconds.toFixed(1) + " s" : "—"} | ${fc ? (fc.seconds / r.first_output_restore_s).toFixed(1) + "×" : "—"} |`,
      );
    }
    console.log(lines.join("\n"));
    console.log(
      `\nbaseline: \`${CODE}\` on the local extracted rootfs: ${localFirst.toFixed(2)} s to first output (gVisor boot + import, no lazy fetch)`,
    );
    console.log(
      `throughput (1 GiB sequential): mount cold ${throughput.mount_cold_MBps} MB/s, mount warm ${throughput.mount_warm_MBps} MB/s, local disk ${throughput.local_disk_MBps} MB/s`,
    );

    const worstPct = (f: (r: ImageRow) => number) => Math.max(...images.map((r) => (100 * f(r)) / r.logical_bytes));
    const restore100 = images[2].first_output_restore_s;
    const maxCold = Math.max(...images.map((r) => r.first_output_s));
    const scaleRestore = images[2].first_output_restore_s / images[0].first_output_restore_s;
    const scaleCold = images[2].first_output_s / images[0].first_output_s;
    const pctRestore = worstPct((r) => r.restore_bytes_fetched);
    const pctCold = worstPct((r) => r.bytes_fetched);
    const speedRestore = full_copy[1].seconds / images[1].first_output_restore_s;
    const speedCold = full_copy[1].seconds / images[1].first_output_s;
    const targets: Array<[string, string, string, boolean]> = [
      ["first output, fresh worker, 100 GB image, snapshot in the CAS", "≤ 1 s", `${restore100.toFixed(2)} s`, restore100 <= 1],
      ["first output without a snapshot (cold boot), every size", "≤ 3 s", `worst ${maxCold.toFixed(2)} s`, maxCold <= 3],
      ["t(100 GB) / t(1 GB), snapshot in the CAS", "≤ 1.2", scaleRestore.toFixed(2), scaleRestore <= 1.2],
      ["t(100 GB) / t(1 GB), cold boot", "≤ 1.2", scaleCold.toFixed(2), scaleCold <= 1.2],
      ["fetched / image, snapshot in the CAS (worst size)", "≤ 2 %", `${pctRestore.toFixed(2)} %`, pctRestore <= 2],
      ["fetched / image, cold boot (worst size)", "≤ 2 %", `${pctCold.toFixed(2)} %`, pctCold <= 2],
      ["full copy / lazy start at 10 GB, snapshot in the CAS", "≥ 30×", `${speedRestore.toFixed(1)}×`, speedRestore >= 30],
      ["full copy / lazy start at 10 GB, cold boot", "≥ 30×", `${speedCold.toFixed(1)}×`, speedCold >= 30],
    ];
    console.log(`\n${targetTable(targets)}`);
    console.log(`load average at the end: ${loadAverage()}`);
    console.log(`wrote bench/results/lazyfs.json`);
  } finally {
    for (const a of attachers) await a.detachAll().catch(() => {});
    await server.close();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

type ImageRow = {
  label: string;
  logical_bytes: number;
  snapshot_bytes: number;
  snapshot_compressed_bytes: number;
  snapshot_create_s: number;
} & Omit<Awaited<ReturnType<typeof measureAttach>>, "profile"> &
  Awaited<ReturnType<typeof measureRestore>>;

const pct = (n: number, of: number) => `${((100 * n) / of).toFixed(2)}%`;

// ---- measurements ----

/**
 * The measured attach is the one after the image's first boot ever, on another cold worker
 * cache: what every later worker sees.
 */
export async function measureAttach(work: string, server: BenchServer, imageId: string, manifest: Manifest, attachers: ImageAttacher[]) {
  const firstEver = await firstBootEver(work, server, imageId, attachers);
  const profile = firstEver.profile;

  const second = newAttacher(work, server, attachers);
  const mark = servedMark(server);
  const cold = await bootOnce(work, second.attacher, imageId);
  const served = servedSince(server, mark);
  const requested = served.hashes;
  const packs = profile.packs.filter((p) => requested.has(p.hash));
  const docHash = await server.store.getRef(bootProfileRef(imageId));
  const onDemand = [...requested].filter((h) => h !== imageId && h !== docHash && !profile.packs.some((p) => p.hash === h));
  const chunks = new Set([...(packs.length ? profile.chunks : []), ...onDemand]);
  const files = manifest.entries.filter((e) => e.chunks?.some((h) => chunks.has(h))).length;
  return {
    first_output_s: cold.first_output_s,
    attach_s: cold.attach_s,
    bytes_fetched: served.bytes,
    files_fetched: files,
    chunks_fetched: chunks.size,
    packs_fetched: packs.length,
    blobs_requested: requested.size,
    first_boot_ever_s: firstEver.first_output_s,
    profile,
  };
}

/**
 * Attach → first output on a fresh worker whose CAS already holds the image's warm snapshot:
 * WarmSnapshots.start must restore it. A cold fallback would be a wrong figure, so it throws.
 */
export async function measureRestore(
  work: string,
  server: BenchServer,
  imageId: string,
  manifest: Manifest,
  snap: PublishedSnapshot,
  profile: BootProfile,
) {
  const worker = new BenchWorker(work, server, { log: (l) => console.log(`  ${l}`) });
  const spec = specFor(imageId);
  try {
    const mark = servedMark(server);
    const t0 = performance.now();
    // gateway-connection.ts's session:start: the snapshot's fetch starts before the attach.
    const forRestore = await worker.snapshots.prefetch(spec);
    const rootfs = await worker.attacher.attach(imageId, { forRestore });
    const attach_s = (performance.now() - t0) / 1000;
    const started = await worker.snapshots.start(spec, rootfs, worker.session(), false);
    worker.track(started.sandbox);
    if (started.source !== "snapshot")
      throw new Error(
        `the fresh worker booted ${imageId.slice(0, 12)} cold instead of restoring its warm snapshot from the CAS: ${started.reason}`,
      );
    await firstOutput(started.sandbox, CODE);
    const first_output_restore_s = (performance.now() - t0) / 1000;
    const served = servedSince(server, mark);
    let snapshotBytes = 0;
    for (const [h, n] of served.bytesByHash) if (snap.blobs.has(h)) snapshotBytes += n;
    const docHash = await server.store.getRef(bootProfileRef(imageId));
    const packHashes = new Set(profile.packs.map((p) => p.hash));
    const imageBlobs = [...served.hashes].filter((h) => !snap.blobs.has(h));
    const packs = imageBlobs.filter((h) => packHashes.has(h));
    const onDemand = imageBlobs.filter((h) => h !== imageId && h !== docHash && !packHashes.has(h));
    const packChunks = new Set<string>();
    let at = 0;
    for (const p of profile.packs) {
      if (served.hashes.has(p.hash)) for (const h of profile.chunks.slice(at, at + p.chunks)) packChunks.add(h);
      at += p.chunks;
    }
    const chunks = new Set([...packChunks, ...onDemand]);
    return {
      first_output_restore_s: round(first_output_restore_s),
      restore_attach_s: round(attach_s),
      restore_timings_ms: started.timings ?? { lookupMs: 0, restoreMs: 0 },
      restore_bytes_fetched: served.bytes,
      restore_snapshot_bytes_fetched: snapshotBytes,
      restore_image_bytes_fetched: served.bytes - snapshotBytes,
      restore_image_manifest_bytes: served.bytesByHash.get(imageId) ?? 0,
      restore_blobs_requested: served.requests,
      restore_packs_fetched: packs.length,
      restore_image_chunks_fetched: chunks.size,
      restore_image_chunks_on_demand: onDemand.length,
      restore_image_files_fetched: manifest.entries.filter((e) => e.chunks?.some((h) => chunks.has(h))).length,
    };
  } finally {
    await worker.close([spec]);
  }
}

async function measureLocalBoot(work: string): Promise<number> {
  const stateRoot = fs.mkdtempSync(path.join(work, "sbx-"));
  const workspaceDir = path.join(stateRoot, "workspace");
  fs.mkdirSync(workspaceDir);
  const imageRootfs = path.join(CACHE, "images/base/rootfs");
  const t0 = performance.now();
  const sb = await startKernelSandbox({
    sessionId: randomUUID(),
    imageRootfs,
    workspaceDir,
    stateRoot,
    limits: { memoryBytes: 4 * GIB, pids: 512 },
  });
  try {
    await firstOutput(sb, CODE);
    return round((performance.now() - t0) / 1000);
  } finally {
    await sb.stop();
  }
}

/** What a pull does before boot: every chunk read, decompressed and written out as the tree. */
async function measureFullCopy(work: string, store: BlobStore, manifest: Manifest): Promise<number> {
  const root = path.join(work, "full-copy");
  dropCaches();
  const t0 = performance.now();
  for (const e of manifest.entries) if (e.type === "dir") fs.mkdirSync(path.join(root, e.path), { recursive: true });
  const files = manifest.entries.filter((e) => e.type !== "dir");
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const e = files[next++];
      const dest = path.join(root, e.path);
      if (e.type === "symlink") {
        fs.symlinkSync(e.target!, dest);
        continue;
      }
      const fh = await fs.promises.open(dest, "w", e.mode);
      try {
        for (const h of e.chunks ?? []) await fh.write(await decompressBlob(await store.get(h)));
      } finally {
        await fh.close();
      }
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  execSyncQuiet("sync");
  const seconds = (performance.now() - t0) / 1000;
  fs.rmSync(root, { recursive: true, force: true });
  return round(seconds);
}

async function measureThroughput(work: string, server: BenchServer, imageId: string, file: string, attachers: ImageAttacher[]) {
  const { attacher } = newAttacher(work, server, attachers);
  const root = await attacher.attach(imageId);
  const inMount = path.join(root, file);
  dropCaches();
  const cold = await readAll(inMount);
  dropCaches();
  const warm = await readAll(inMount);
  // The same bytes as a plain local file, copied out while the mount is up.
  const local = path.join(work, "local.bin");
  await pipeline(fs.createReadStream(inMount, { highWaterMark: 2 ** 20 }), fs.createWriteStream(local));
  await attacher.detachAll();
  dropCaches();
  const disk = await readAll(local);
  return { mount_cold_MBps: cold.mbps, mount_warm_MBps: warm.mbps, local_disk_MBps: disk.mbps };
}

async function readAll(file: string): Promise<{ mbps: number; bytes: number }> {
  const fd = await fs.promises.open(file, "r");
  const buf = Buffer.allocUnsafe(2 ** 20);
  let bytes = 0;
  const t0 = performance.now();
  for (;;) {
    const { bytesRead } = await fd.read(buf, 0, buf.length, null);
    if (bytesRead === 0) break;
    bytes += bytesRead;
  }
  const s = (performance.now() - t0) / 1000;
  await fd.close();
  return { mbps: Math.round(bytes / 1e6 / s), bytes };
}

function dropCaches(): void {
  execSyncQuiet("sync");
  try {
    fs.writeFileSync("/proc/sys/vm/drop_caches", "3");
  } catch {
    /* not root: figures include the page cache */
  }
}

function execSyncQuiet(cmd: string): void {
  try {
    execFileSync(cmd, { stdio: "ignore" });
  } catch {
    /* best effort */
  }
}
