// Issue 15's figure, through the real stack: a notebook's kernel moved between two workers (the
// second configured as an H100 machine by its labels; on a machine without a GPU both run CPU
// kernels in gVisor, which is what the move costs), for a namespace of numpy arrays of each size:
// from sending the cell that asks for the other device to its reply (export, workspace stored,
// the new kernel started, names loaded, the cell run). Baseline, same run: re-running the cells
// from the top on a fresh kernel (restart, then the cell that builds the arrays, then the cell).
// The arrays are the same bytes at every move (and in every run: seeded); `moves_changed` (sizes
// in BENCH_DEVICE_CHANGED_SIZES, default 1 GB) are moves after a cell on the kernel's device added
// 1 to every array, as a training step changes its weights: new bytes each time. That cell is
// timed apart (`change_cell_s`, and once on the re-run kernel's own arrays): after a move the
// arrays sit on copy-on-write mappings, so its first write to each page pays for a copy.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createGatewaySocket, GatewayClient, GatewayKernel } from "@cellar/kernel-client";
import { repoRoot, startExtraWorker, startStack } from "./stack";
import { loadAverage, summarize, table, type Summary } from "./stats";

const SIZES = (process.env.BENCH_DEVICE_SIZES ?? "10e6,1e9,4e9").split(",").map(Number);
const MOVES = Number(process.env.BENCH_DEVICE_MOVES ?? 5);
const CHANGE = "for a in arrays: a += 1.0\ndel a";
const CHANGED_SIZES = new Set((process.env.BENCH_DEVICE_CHANGED_SIZES ?? "1e9").split(",").filter(Boolean).map(Number));

async function untilIdle(kernel: GatewayKernel): Promise<void> {
  if (kernel.status === "idle") return;
  await new Promise<void>((resolve) => {
    const off = kernel.on("status", (s) => {
      if (s === "idle") {
        off();
        resolve();
      }
    });
  });
}

async function run1(kernel: GatewayKernel, code: string, cellId: string): Promise<number> {
  const t0 = performance.now();
  const reply = await kernel.execute(code, { cellId }).done;
  const content = reply.content as { status: string; evalue?: string };
  if (content.status !== "ok") throw new Error(`cell failed: ${content.evalue}`);
  return (performance.now() - t0) / 1000;
}

export async function run(): Promise<void> {
  // Room for a 4 GB namespace and its copies on the way out and in.
  process.env.CELLAR_SESSION_MEMORY_MB ??= "14000";
  const stack = await startStack(8896);
  const stopGpu = await startExtraWorker(stack, "bench-gpu", "gpu=H100", { CELLAR_KERNEL_POOL_SIZE: "0" });
  const gateway = new GatewayClient({ baseUrl: stack.base, token: stack.token });
  const moves: Array<{ namespace_bytes: number; median_s: number; n: number; samples_s: number[] }> = [];
  const movesChanged: Array<(typeof moves)[number] & { change_cell_s: number[] }> = [];
  const rerun: Array<{ namespace_bytes: number; seconds: number; change_cell_s?: number }> = [];
  try {
    for (const bytes of SIZES) {
      const nb = await gateway.notebooks.create(`device switch ${bytes}`);
      const kernel = new GatewayKernel(createGatewaySocket({ url: stack.base, token: stack.token }), nb.id);
      await untilIdle(kernel);
      const build = `import numpy as np\narrays = [np.random.default_rng(i).random(${Math.round(bytes / 8 / 4)}) for i in range(4)]`;
      await run1(kernel, build, "build");
      const samples: number[] = [];
      // 4 GB moves take most of a minute each on the 2-core machine: three of them.
      const movesN = bytes >= 4e9 ? Math.min(MOVES, 3) : MOVES;
      for (let i = 0; i < movesN; i++) {
        const to = i % 2 === 0 ? "%%gpu H100" : "%%cpu";
        samples.push(await run1(kernel, `${to}\ntotal = sum(float(a.sum()) for a in arrays)`, `move${i}`));
      }
      moves.push({ namespace_bytes: bytes, median_s: summarize(samples).median_s, n: samples.length, samples_s: samples });
      if (CHANGED_SIZES.has(bytes)) {
        const changed: number[] = [];
        const writes: number[] = [];
        for (let i = movesN; i < 2 * movesN; i++) {
          const here = i % 2 === 0 ? "%%cpu" : "%%gpu H100";
          // Timed too: on a kernel a move just filled, the first write to each page of an array
          // copies it out of the moved file's mapping (cellar_mapped.py).
          writes.push(await run1(kernel, `${here}\n${CHANGE}`, `change${i}`));
          const to = i % 2 === 0 ? "%%gpu H100" : "%%cpu";
          changed.push(await run1(kernel, `${to}\ntotal = sum(float(a.sum()) for a in arrays)`, `move${i}`));
        }
        movesChanged.push({
          namespace_bytes: bytes,
          median_s: summarize(changed).median_s,
          n: changed.length,
          samples_s: changed,
          change_cell_s: writes,
        });
      }
      // Baseline: a fresh kernel, the notebook from the top.
      const t0 = performance.now();
      await kernel.restart();
      await new Promise((r) => setTimeout(r, 200));
      await untilIdle(kernel);
      await run1(kernel, build, "build");
      await run1(kernel, "total = sum(float(a.sum()) for a in arrays)", "compute");
      const seconds = (performance.now() - t0) / 1000;
      // The same write on arrays the kernel made itself: the baseline for change_cell_s.
      const change = CHANGED_SIZES.has(bytes) ? { change_cell_s: await run1(kernel, CHANGE, "change") } : {};
      rerun.push({ namespace_bytes: bytes, seconds, ...change });
      kernel.dispose();
      await gateway.notebooks.remove(nb.id);
    }
  } finally {
    await stopGpu();
    await stack.stop();
  }
  const out = { moves, moves_changed: movesChanged, rerun, machine: { cpus: os.cpus().length, load: loadAverage() } };
  fs.mkdirSync(path.join(repoRoot, "bench/results"), { recursive: true });
  fs.writeFileSync(path.join(repoRoot, "bench/results/device-switch.json"), `${JSON.stringify(out, null, 2)}\n`);
  console.log(
    table([
      ...moves.flatMap(
        (m, i): Array<[string, Summary | string]> => [
          [`move + cell, ${(m.namespace_bytes / 1e6).toFixed(0)} MB`, summarize(m.samples_s)],
          [
            `re-run from the top, ${(m.namespace_bytes / 1e6).toFixed(0)} MB`,
            `${rerun[i]!.seconds.toFixed(2)} s (move/rerun ${(m.median_s / rerun[i]!.seconds).toFixed(2)}×)`,
          ],
        ],
      ),
      ...movesChanged.flatMap((m): Array<[string, Summary | string]> => {
        const own = rerun.find((r) => r.namespace_bytes === m.namespace_bytes)?.change_cell_s;
        return [
          [`move + cell, ${(m.namespace_bytes / 1e6).toFixed(0)} MB changed before each move`, summarize(m.samples_s)],
          [
            `the change cell (a += 1.0 on every array) after a move, ${(m.namespace_bytes / 1e6).toFixed(0)} MB`,
            `${summarize(m.change_cell_s).median_s.toFixed(2)} s (on the re-run kernel's own arrays: ${own?.toFixed(2) ?? "?"} s)`,
          ],
        ];
      }),
    ]),
  );
  console.log(`load average: ${loadAverage()}`);
}
