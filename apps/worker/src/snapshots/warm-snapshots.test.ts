// Integration tests: real runsc checkpoints and restores of the real base image, stored in a real
// CAS served over HTTP (fs-client's blob handler on a local directory). Build the image first
// with scripts/build-base-image.sh; these tests fail (not skip) when it is missing. As root.
import { randomBytes } from "node:crypto";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, readdir, rm, stat, truncate, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BlobFetcher, compressChunk, createBlobHandler, fetchManifest, LocalDirStore } from "@cellar/fs-client";
import { execute } from "../testing/kernel-run";
import { reapOrphanSandboxes, type KernelSandbox } from "../sandbox/kernel-sandbox";
import { DEFAULT_WARMUP, WarmSnapshots, type LocalSnapshot, type WarmSnapshotSpec } from "./index";

const IMAGE = process.env.CELLAR_BASE_IMAGE ?? path.join(process.env.CELLAR_CACHE ?? "/var/cache/cellar", "images/base/rootfs");
const SPEC: WarmSnapshotSpec = { imageId: "a".repeat(64), limits: { memoryBytes: 4 * 1024 ** 3, pids: 256 }, warmup: DEFAULT_WARMUP };
const TOKEN = "Bearer snapshot-test";
const RUN_ID = randomBytes(3).toString("hex");
const sid = (name: string) => `t${RUN_ID}-${name}`;

/** Runs a cell; resolves with its stdout, the execute_reply content and ms to the first output. */
async function run(sb: KernelSandbox, code: string): Promise<{ stdout: string; reply: Record<string, unknown>; firstOutputMs: number }> {
  const ran = await execute(sb, code);
  return { stdout: ran.text(), reply: ran.reply.content, firstOutputMs: ran.firstOutputMs };
}

let work: string;
let stateRoot: string;
let server: Server;
let casDir: string;
let fetcher: BlobFetcher;
let snapshots: WarmSnapshots;
let snap: LocalSnapshot;
const live: KernelSandbox[] = [];

function newWorker(name: string): WarmSnapshots {
  return new WarmSnapshots({ dir: path.join(work, name), remote: fetcher, stateRoot, log: (l) => console.log(l) });
}
const session = (name: string) => ({ sessionId: sid(name), workspaceDir: path.join(work, "ws", name) });

beforeAll(async () => {
  if (!existsSync(path.join(IMAGE, "usr/bin/python3"))) throw new Error(`base image missing at ${IMAGE}: run scripts/build-base-image.sh`);
  work = await mkdtemp(path.join(tmpdir(), "cellar-snap-test-"));
  stateRoot = path.join(work, "state");
  casDir = path.join(work, "cas");
  const authorize = (req: { headers: { authorization?: string } }) => req.headers.authorization === TOKEN;
  const handle = createBlobHandler(new LocalDirStore(casDir), { authorize, authorizeWrite: authorize });
  server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  fetcher = new BlobFetcher({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, authorization: TOKEN });
  snapshots = newWorker("worker-a");
  const t0 = performance.now();
  snap = await snapshots.create(SPEC, IMAGE);
  console.log(`[measure] warm snapshot made (boot + warm-up + checkpoint + upload) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}, 240_000);

afterAll(async () => {
  await Promise.all(live.map((s) => s.stop()));
  await reapOrphanSandboxes(stateRoot).catch(() => {});
  fetcher?.close();
  server?.close();
  await rm(work, { recursive: true, force: true });
});

describe("warm snapshots", { timeout: 120_000 }, () => {
  it("stores the checkpoint in the CAS under a ref for its key, and keeps a local copy", async () => {
    const key = await snapshots.key(SPEC);
    expect(await fetcher.fetchRef(`warm-snapshot/${key}`)).toBe(snap.id);
    expect((await readdir(snap.dir)).filter((f) => !f.startsWith("."))).toContain("checkpoint.img");
    // A different kernel spec is a different snapshot.
    expect(await snapshots.key({ ...SPEC, limits: { ...SPEC.limits, pids: 128 } })).not.toBe(key);
    expect(await snapshots.key({ ...SPEC, warmup: ["numpy"] })).not.toBe(key);
  });

  it("restores on another worker from the CAS alone, and starts much faster than a cold boot", async () => {
    const other = newWorker("worker-b");
    let t0 = performance.now();
    const restored = await other.start(SPEC, IMAGE, session("from-cas"), false);
    live.push(restored.sandbox);
    const first = await run(restored.sandbox, "print(1)");
    const restoreFromCas = performance.now() - t0;
    expect(restored.source).toBe("snapshot");
    expect(first.stdout).toBe("1\n");

    t0 = performance.now();
    const again = await other.start(SPEC, IMAGE, session("local-copy"), false);
    live.push(again.sandbox);
    await run(again.sandbox, "print(1)");
    const restoreLocal = performance.now() - t0;

    t0 = performance.now();
    const cold = await other.start({ ...SPEC, warmup: ["numpy"] }, IMAGE, session("cold"), false);
    live.push(cold.sandbox);
    expect(cold.source).toBe("cold");
    await run(cold.sandbox, "import numpy, pandas, matplotlib, scipy\nprint(1)");
    const coldMs = performance.now() - t0;
    console.log(
      `[measure] start -> first output of print(1): restore fetched from CAS ${restoreFromCas.toFixed(0)} ms, restore from local copy ${restoreLocal.toFixed(0)} ms, cold boot + same imports ${coldMs.toFixed(0)} ms`,
    );
    expect(again.source).toBe("snapshot");
    expect(restoreLocal * 2).toBeLessThan(coldMs);
  });

  it("gives every restored kernel its own session: random state, hostname, clock, workspace, scratch", async () => {
    const probe = [
      "import json, os, random, socket, sys, time, numpy",
      "open('/tmp/mine', 'a').write(socket.gethostname())",
      "print(json.dumps({'r': random.random(), 'n': float(numpy.random.rand()), 'host': socket.gethostname(),",
      "  't': time.time(), 'uid': os.getuid(), 'files': sorted(os.listdir('/workspace')), 'tmp': open('/tmp/mine').read()}))",
    ].join("\n");
    const results = [];
    for (const name of ["one", "two"]) {
      const ws = session(name);
      await rm(ws.workspaceDir, { recursive: true, force: true });
      const started = await snapshots.start(SPEC, IMAGE, ws, false);
      live.push(started.sandbox);
      expect(started.source).toBe("snapshot");
      await writeFile(path.join(ws.workspaceDir, `${name}.txt`), name);
      // Nothing the snapshot boot defined is visible: its imports are warm but unnamed, and
      // this is the session's first cell.
      const fresh = await run(started.sandbox, "import sys\nprint('pandas' in sys.modules, 'pandas' in dir(), 'numpy' in globals())");
      expect(fresh.stdout).toBe("True False False\n");
      expect(fresh.reply.execution_count).toBe(1);
      const out = await run(started.sandbox, probe);
      results.push({ ...JSON.parse(out.stdout), now: Date.now() / 1000, name });
    }
    const [a, b] = results;
    expect(a.r).not.toBe(b.r);
    expect(a.n).not.toBe(b.n);
    expect(a.host).toBe(`cellar-${sid("one").toLowerCase()}`);
    expect(b.host).toBe(`cellar-${sid("two").toLowerCase()}`);
    for (const x of results) {
      expect(Math.abs(x.t - x.now)).toBeLessThan(5);
      expect(x.uid).toBe(1000);
      expect(x.files).toEqual([`${x.name}.txt`]);
      expect(x.tmp).toBe(x.host);
    }
  });

  it("a pip layer with no snapshot of its own restores its parent's, and the restored kernel imports the layer's module", async () => {
    // The layer as the gateway's pip builder makes it: files under /usr/local only, over the parent.
    const layer = path.join(work, "pip-layer");
    const site = path.join(layer, "upper/usr/local/lib/python3.11/dist-packages/cellar_layer_probe");
    await mkdir(site, { recursive: true });
    await mkdir(path.join(layer, "work"));
    await mkdir(path.join(layer, "root"));
    await writeFile(path.join(site, "__init__.py"), "VALUE = 'from the layer'\n");
    const root = path.join(layer, "root");
    execFileSync("mount", ["-t", "overlay", "overlay", "-o", `lowerdir=${IMAGE},upperdir=${layer}/upper,workdir=${layer}/work`, root]);
    try {
      const other = newWorker("worker-layer");
      const layerSpec: WarmSnapshotSpec = { ...SPEC, imageId: "b".repeat(64), from: { imageId: SPEC.imageId, warmup: SPEC.warmup } };
      const started = await other.start(layerSpec, root, session("layer"), false);
      live.push(started.sandbox);
      expect(started.reason).toBeUndefined();
      expect(started.source).toBe("snapshot");
      expect(started.timings?.from).toBe(SPEC.imageId);
      const ran = await run(
        started.sandbox,
        "import cellar_layer_probe, numpy\nprint(cellar_layer_probe.VALUE, numpy.__file__.startswith('/usr/lib/python3/'))",
      );
      expect(ran.stdout).toBe("from the layer True\n");
      // The parent's snapshot is still the parent's, and the layer's key never got one.
      expect(await other.store.lookup(await other.key(layerSpec))).toBeNull();
      expect(await other.store.lookup(await other.key(SPEC))).toBe(snap.id);
      await started.sandbox.stop();
    } finally {
      execFileSync("umount", ["-l", root]);
    }
  });

  it("discards a corrupted snapshot, never trusts it again, and boots cold instead", async () => {
    const worker = newWorker("worker-c");
    const local = (await worker.store.get(await worker.key(SPEC)))!;
    expect(local.id).toBe(snap.id);
    const img = path.join(local.dir, "checkpoint.img");
    const bytes = await readFile(img);
    bytes.fill(0x5a, bytes.length >> 1, (bytes.length >> 1) + 64 * 1024);
    await writeFile(img, bytes);

    const lines: string[] = [];
    const logged = new WarmSnapshots({ dir: path.join(work, "worker-c"), remote: fetcher, stateRoot, log: (l) => lines.push(l) });
    const started = await logged.start(SPEC, IMAGE, session("after-corrupt"), false);
    live.push(started.sandbox);
    expect(started.source).toBe("cold");
    expect(started.reason).toMatch(/failed to restore/);
    expect(lines.join("\n")).toMatch(/failed to restore; discarding it and booting cold/);
    expect((await run(started.sandbox, "print(1)")).stdout).toBe("1\n");
    expect(existsSync(local.dir)).toBe(false);
    // The CAS still names that snapshot, but this worker will not use it again.
    expect(await fetcher.fetchRef(`warm-snapshot/${await logged.key(SPEC)}`)).toBe(snap.id);
    expect(await logged.store.get(await logged.key(SPEC))).toBeNull();
    const next = await logged.start(SPEC, IMAGE, session("after-corrupt-2"), false);
    live.push(next.sandbox);
    expect(next).toMatchObject({ source: "cold", reason: "no warm snapshot yet" });
  });

  it("discards a truncated snapshot and boots cold instead of hanging", async () => {
    const worker = newWorker("worker-t");
    const local = (await worker.store.get(await worker.key(SPEC)))!;
    // The memory pages: the largest file of an uncompressed checkpoint.
    const files = await Promise.all(
      (await readdir(local.dir))
        .filter((f) => !f.startsWith("."))
        .map(async (f) => ({ f, size: (await stat(path.join(local.dir, f))).size })),
    );
    const pages = files.sort((a, b) => b.size - a.size)[0];
    await truncate(path.join(local.dir, pages.f), pages.size >> 1);
    const started = await worker.start(SPEC, IMAGE, session("after-truncate"), false);
    live.push(started.sandbox);
    expect(started.source).toBe("cold");
    expect(started.reason).toMatch(/failed to restore/);
    expect((await run(started.sandbox, "print(2)")).stdout).toBe("2\n");
    expect(existsSync(local.dir)).toBe(false);
  });

  it("says why a warm-up failed, and does not retry it on every cold boot", async () => {
    const lines: string[] = [];
    const worker = new WarmSnapshots({ dir: path.join(work, "worker-d"), remote: fetcher, stateRoot, log: (l) => lines.push(l) });
    const bad = { ...SPEC, warmup: ["numpy", "no_such_module_here"] };
    expect(await worker.createInBackground(bad, IMAGE)).toBe(false);
    expect(lines.join("\n")).toMatch(
      /could not make the warm snapshot[\s\S]*the warm-up failed: ModuleNotFoundError: No module named 'no_such_module_here'/,
    );
    expect(await worker.createInBackground(bad, IMAGE)).toBe(false);
    expect(lines.filter((l) => l.includes("could not make"))).toHaveLength(1);
    expect(await worker.store.get(await worker.key(bad))).toBeNull();
    await expect(worker.create({ ...SPEC, warmup: ["os; import shutil"] }, IMAGE)).rejects.toThrow(/not a Python module name/);
  });

  // Last: it damages the shared CAS's copy of the snapshot.
  it("a snapshot blob that fails its hash in the CAS means a cold boot with the reason, and is not discarded", async () => {
    const manifest = await fetchManifest(fetcher, snap.id);
    const pagesEntry = manifest.entries.filter((e) => e.type === "file").sort((a, b) => b.size - a.size)[0];
    const hash = pagesEntry.chunks![0];
    // A well-formed blob of other bytes under the chunk's name. Flipping a byte of the stored
    // blob is not enough: in an LZ4 frame over zero pages a flipped match offset can decode to
    // the very same bytes, which then (rightly) pass their hash.
    const other = Buffer.from(await fetcher.fetchChunk(hash));
    other[other.length >> 1] ^= 0xff;
    await writeFile(new LocalDirStore(casDir).pathOf(hash), await compressChunk(other, "lz4"));
    const lines: string[] = [];
    const fresh = new WarmSnapshots({ dir: path.join(work, "worker-h"), remote: fetcher, stateRoot, log: (l) => lines.push(l) });
    const started = await fresh.start(SPEC, IMAGE, session("after-bad-blob"), false);
    live.push(started.sandbox);
    expect(started.source).toBe("cold");
    expect(started.reason).toMatch(/could not be fetched/);
    expect(lines.join("\n")).toMatch(/cannot fetch the warm snapshot/);
    expect((await run(started.sandbox, "print(3)")).stdout).toBe("3\n");
    // A fetch fault may be the network's: the snapshot is not marked as bad.
    expect(await fresh.store.isDistrusted(await fresh.key(SPEC), snap.id)).toBe(false);
  });
});
