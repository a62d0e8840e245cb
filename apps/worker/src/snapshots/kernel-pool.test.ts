// Integration tests of the kernel pool: real runsc restores of the real base image's warm
// snapshot (kept on this worker only). Build the image first with scripts/build-base-image.sh;
// these tests fail (not skip) when it is missing. As root.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { execute } from "../testing/kernel-run";
import { reapOrphanSandboxes, type KernelSandbox } from "../sandbox/kernel-sandbox";
import { runscKill, runscList } from "../sandbox/runsc";
import { DEFAULT_WARMUP, KernelPool, WarmSnapshots, type KernelPoolOptions, type WarmSnapshotSpec } from "./index";

const IMAGE = process.env.CELLAR_BASE_IMAGE ?? path.join(process.env.CELLAR_CACHE ?? "/var/cache/cellar", "images/base/rootfs");
const GIB = 1024 ** 3;
const SPEC: WarmSnapshotSpec = { imageId: "b".repeat(64), limits: { memoryBytes: 4 * GIB, pids: 256 }, warmup: DEFAULT_WARMUP };
const RUN_ID = randomBytes(3).toString("hex");
const sid = (name: string) => `t${RUN_ID}-${name}`;

/** Runs a cell; resolves with its stdout (and error, if any) and the execute_reply content. */
async function run(sb: KernelSandbox, code: string): Promise<{ stdout: string; reply: Record<string, unknown> }> {
  const ran = await execute(sb, code);
  return { stdout: ran.text(), reply: ran.reply.content };
}

async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`never happened: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let work: string;
let stateRoot: string;
let workspaces: string;
let snapshots: WarmSnapshots;
const pools: KernelPool[] = [];
const live: KernelSandbox[] = [];
const logs: string[] = [];

function newPool(opts: Partial<KernelPoolOptions> = {}): KernelPool {
  const pool = new KernelPool({
    snapshots,
    size: 1,
    workspacesDir: workspaces,
    memoryBytes: 64 * GIB,
    liveSessionsMemory: () => 0,
    refillDelayMs: 60_000,
    log: (l) => {
      logs.push(l);
      console.log(l);
    },
    ...opts,
  });
  pools.push(pool);
  return pool;
}
const session = (name: string) => ({ sessionId: sid(name), workspaceDir: path.join(workspaces, `nb-${name}`) });
async function start(pool: KernelPool, name: string) {
  const started = await pool.start(SPEC, IMAGE, session(name));
  live.push(started.sandbox);
  return started;
}
const containerIds = async () => (await runscList({ stateRoot })).map((c) => c.id);

beforeAll(async () => {
  if (!existsSync(path.join(IMAGE, "usr/bin/python3"))) throw new Error(`base image missing at ${IMAGE}: run scripts/build-base-image.sh`);
  work = await mkdtemp(path.join(tmpdir(), "cellar-pool-test-"));
  stateRoot = path.join(work, "state");
  workspaces = path.join(work, "workspaces");
  await mkdir(workspaces, { recursive: true });
  snapshots = new WarmSnapshots({ dir: path.join(work, "snapshots"), remote: null, stateRoot, log: (l) => console.log(l) });
  await snapshots.create(SPEC, IMAGE);
}, 240_000);

afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.stop()));
  await Promise.all(live.splice(0).map((s) => s.stop()));
});

afterAll(async () => {
  await reapOrphanSandboxes(stateRoot).catch(() => {});
  await rm(work, { recursive: true, force: true });
});

describe("kernel pool", { timeout: 120_000 }, () => {
  it("hands a waiting kernel to a session: it answers at once and looks like a fresh restore", async () => {
    const pool = newPool();
    await pool.start(SPEC, IMAGE, session("first")).then((s) => live.push(s.sandbox)); // makes the image popular
    await pool.fill();
    expect(await pool.waitingFor(SPEC)).toHaveLength(1);

    const started = await start(pool, "claimed");
    expect(started.source).toBe("pool");
    if (started.source === "pool") console.log(`[measure] claimed a pool kernel in ${started.claimMs} ms`);
    expect(await pool.waitingFor(SPEC)).toHaveLength(0);
    const first = await run(started.sandbox, "print(1)");
    expect(first.stdout).toBe("1\n");
    expect(first.reply.execution_count).toBe(1);
    const who = await run(
      started.sandbox,
      "import os, sys\nprint(os.getuid(), os.getgid(), 'pandas' in sys.modules, 'pandas' in dir(), os.getcwd())",
    );
    expect(who.stdout).toBe("1000 1000 True False /workspace\n");
  });

  it("gives the claimed kernel the notebook's workspace: files from before and after the claim, and the kernel's own", async () => {
    const pool = newPool();
    await start(pool, "warm-ws");
    await pool.fill();
    const ws = session("ws").workspaceDir;
    await mkdir(path.join(ws, "data"), { recursive: true });
    await writeFile(path.join(ws, "before.txt"), "from before");
    await writeFile(path.join(ws, "data", "nested.csv"), "a,b\n1,2\n");

    const started = await start(pool, "ws");
    expect(started.source).toBe("pool");
    await writeFile(path.join(ws, "after.txt"), "from after");
    const seen = await run(
      started.sandbox,
      [
        "print(open('before.txt').read(), open('data/nested.csv').read().splitlines()[1], open('/workspace/after.txt').read())",
        "open('from-kernel.txt', 'w').write('kernel wrote this')",
        "print(sorted(os.listdir('.')) if (os := __import__('os')) else '')",
      ].join("\n"),
    );
    expect(seen.stdout).toBe("from before 1,2 from after\n['after.txt', 'before.txt', 'data', 'from-kernel.txt']\n");
    expect(await readFile(path.join(ws, "from-kernel.txt"), "utf8")).toBe("kernel wrote this");
    // The slot is now the notebook's workspace; nothing is left in the pool's folder.
    expect(await readdir(path.join(workspaces, ".pool"))).toEqual([]);
  });

  it("gives two sessions two distinct kernels with their own random state", async () => {
    const pool = newPool({ size: 2 });
    await start(pool, "warm-two");
    await pool.fill();
    expect(await pool.waitingFor(SPEC)).toHaveLength(2);
    const a = await start(pool, "two-a");
    const b = await start(pool, "two-b");
    expect([a.source, b.source]).toEqual(["pool", "pool"]);
    expect(a.sandbox.containerId).not.toBe(b.sandbox.containerId);
    const code = "import random, numpy, socket\nprint(random.random(), numpy.random.rand(), socket.gethostname())";
    const [ra, rb] = [(await run(a.sandbox, code)).stdout, (await run(b.sandbox, code)).stdout];
    const [randA, npA, hostA] = ra.trim().split(" ");
    const [randB, npB, hostB] = rb.trim().split(" ");
    expect(randA).not.toBe(randB);
    expect(npA).not.toBe(npB);
    expect(hostA).not.toBe(hostB);
    // Each session's workspace is its own.
    await run(a.sandbox, "open('mine.txt', 'w').write('a')");
    expect(existsSync(path.join(session("two-a").workspaceDir, "mine.txt"))).toBe(true);
    expect(existsSync(path.join(session("two-b").workspaceDir, "mine.txt"))).toBe(false);
  });

  it("refills in the background after a claim, and a pool kernel that died is not handed out", async () => {
    const pool = newPool({ refillDelayMs: 100 });
    await start(pool, "warm-refill");
    await eventually("the pool filled after the first start", async () => (await pool.waitingFor(SPEC)).length === 1);
    const claimed = await start(pool, "refill-claim");
    expect(claimed.source).toBe("pool");
    await eventually("the pool refilled after the claim", async () => (await pool.waitingFor(SPEC)).length === 1);

    // A waiting kernel that dies (killed behind the pool's back) is replaced, never handed out.
    const poolIds = async () => (await containerIds()).filter((id) => id.startsWith("cellar-pool-") && id !== claimed.sandbox.containerId);
    const [dead] = await poolIds();
    await runscKill({ stateRoot }, dead);
    await eventually("a new pool kernel replaced the dead one", async () => {
      const waiting = await pool.waitingFor(SPEC);
      return waiting.length === 1 && waiting[0] !== dead;
    });
    const after = await start(pool, "after-dead");
    expect(after.source).toBe("pool");
    expect(after.sandbox.containerId).not.toBe(dead);
    expect((await run(after.sandbox, "print(2)")).stdout).toBe("2\n");
  });

  it("size 0 turns the pool off: sessions restore, nothing waits", async () => {
    const pool = newPool({ size: 0, refillDelayMs: 10 });
    expect((await start(pool, "off-1")).source).toBe("snapshot");
    await pool.fill();
    expect(pool.size).toBe(0);
    expect((await start(pool, "off-2")).source).toBe("snapshot");
    expect((await containerIds()).filter((id) => id.startsWith("cellar-pool-"))).toEqual([]);
  });

  it("never lets pool kernels and live sessions be allowed more memory than the worker has", async () => {
    let liveMemory = 0;
    // Two 4 GiB limits would fit in 8 GiB, but not with gVisor's 256 MiB per sandbox on top, which
    // each sandbox's cgroup allows: one kernel waits, with 3 wanted.
    const pool = newPool({ size: 3, memoryBytes: 8 * GIB, liveSessionsMemory: () => liveMemory });
    await start(pool, "mem-warm");
    await pool.fill();
    expect(await pool.waitingFor(SPEC)).toHaveLength(1);
    expect(pool.memoryBytes).toBe(4.25 * GIB);
    expect(logs.some((l) => /not refilling .* allowed 8\.5 GiB, more than the worker's 8\.0 GiB/.test(l))).toBe(true);

    // A live session's sandbox holding 4.25 GiB leaves no room for a refill after the claim.
    expect((await start(pool, "mem-claim")).source).toBe("pool");
    liveMemory = 4.25 * GIB;
    await pool.fill();
    expect(pool.size).toBe(0);

    // Nor does a host short of available memory, whatever the limits say.
    const starved = newPool({ availableMemory: () => 512 * 2 ** 20 });
    await start(starved, "mem-starved");
    await starved.fill();
    expect(starved.size).toBe(0);
    expect(logs.some((l) => /only 0\.5 GiB of memory available/.test(l))).toBe(true);
  });

  it("stop() ends every waiting kernel and removes its slot", async () => {
    const pool = newPool({ size: 2 });
    await start(pool, "stop-warm");
    await pool.fill();
    expect((await containerIds()).filter((id) => id.startsWith("cellar-pool-"))).toHaveLength(2);
    await pool.stop();
    expect((await containerIds()).filter((id) => id.startsWith("cellar-pool-"))).toEqual([]);
    expect(existsSync(path.join(workspaces, ".pool"))).toBe(false);
    // A stopped pool still starts sessions, without keeping kernels.
    expect((await start(pool, "stop-after")).source).toBe("snapshot");
    await pool.fill();
    expect(pool.size).toBe(0);
  });
});
