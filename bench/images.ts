// Issue 16's figures, through the real stack: `%pip install PACKAGE` in a cell of a notebook whose
// kernel holds variables, until the next cell (importing the package and reading a variable)
// has replied: the gateway resolves against the local wheel index, installs into a layer over
// the base image on the host, ingests it into the content store, and moves the kernel onto it.
// Cold: nothing cached (the pip layer's record and the notebook images are removed first; the
// content store keeps chunks it already has, as it would on any machine that ran a build).
// Hit: a new notebook asking for the same package. Large: polars (a 50 MB wheel), cold.
// Baseline, same run: what a user without layers does, a fresh kernel (restart) with plain pip
// installing the package from the same local index into a fresh directory, then the variables'
// cell again.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createGatewaySocket, GatewayClient, GatewayKernel } from "@cellar/kernel-client";
import { repoRoot, startStack, type Stack } from "./stack";
import { loadAverage, summarize, table, targetTable } from "./stats";

const INDEX = process.env.BENCH_PIP_INDEX ?? "/opt/pypi/simple";
const CACHE = process.env.CELLAR_CACHE ?? "/var/cache/cellar";
const N = Number(process.env.BENCH_IMAGES_N ?? 5);
const SMALL = "tabulate";
const LARGE = "polars";

/** Forgets every pip layer built with `pkg`, and every notebook's packages image. */
function forgetLayers(pkg: string): void {
  const specs = path.join(CACHE, "images/specs");
  for (const file of fs.existsSync(specs) ? fs.readdirSync(specs) : []) {
    const full = path.join(specs, file);
    const record = JSON.parse(fs.readFileSync(full, "utf8")) as { packages?: string[] };
    if (record.packages?.some((p) => p.startsWith(`${pkg}==`))) fs.rmSync(full);
  }
  fs.rmSync(path.join(CACHE, "images/notebooks"), { recursive: true, force: true });
}

/** The layer's size as the cell was told it ("installed in 1.2 s: layer of 180.5 MB", MiB): all its
 * files, not only the chunks the content store lacked. */
function layerBytesOf(progress: string): number {
  const m = /layer of ([\d.]+) MB/.exec(progress);
  if (!m) throw new Error(`the %pip cell did not say the layer's size:\n${progress}`);
  return Math.round(Number(m[1]) * 2 ** 20);
}

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

/** Runs a cell; resolves with what it printed. */
async function cell(kernel: GatewayKernel, code: string, cellId: string): Promise<string> {
  let text = "";
  const future = kernel.execute(code, { cellId });
  future.onIOPub = (m) => {
    if (m.header.msg_type === "stream") text += (m.content as { text: string }).text;
  };
  const content = (await future.done).content as { status: string; ename?: string; evalue?: string };
  if (content.status !== "ok") throw new Error(`cell ${cellId} failed: ${content.ename}: ${content.evalue}\n${text}`);
  return text;
}

/** A new notebook whose kernel holds `x`; then `%pip install pkg` and the cell after it, timed. */
async function pipInstall(
  stack: Stack,
  gateway: GatewayClient,
  pkg: string,
  label: string,
): Promise<{ seconds: number; progress: string }> {
  const nb = await gateway.notebooks.create(`images bench ${label}`);
  const kernel = new GatewayKernel(createGatewaySocket({ url: stack.base, token: stack.token }), nb.id);
  try {
    await untilIdle(kernel);
    await cell(kernel, "x = 41", "vars");
    const t0 = performance.now();
    const progress = await cell(kernel, `%pip install ${pkg}`, "pip");
    const next = await cell(kernel, `import ${pkg}\nprint(x + 1)`, "next");
    const seconds = (performance.now() - t0) / 1000;
    if (next.trim() !== "42") throw new Error(`the cell after %pip printed ${JSON.stringify(next)}`);
    if (!/the kernel is on pip-/.test(progress)) throw new Error(`%pip did not move the kernel:\n${progress}`);
    return { seconds, progress };
  } finally {
    kernel.dispose();
    await gateway.notebooks.remove(nb.id);
  }
}

/** Restart to a fresh kernel, plain pip from the same index into a fresh directory, the variables again. */
async function plainPip(stack: Stack, gateway: GatewayClient, pkg: string): Promise<number> {
  const nb = await gateway.notebooks.create("images bench baseline");
  const kernel = new GatewayKernel(createGatewaySocket({ url: stack.base, token: stack.token }), nb.id);
  const target = fs.mkdtempSync(path.join(os.tmpdir(), "cellar-bench-pip-"));
  try {
    await untilIdle(kernel);
    await cell(kernel, "x = 41", "vars");
    const t0 = performance.now();
    await kernel.restart();
    await new Promise((r) => setTimeout(r, 200));
    await untilIdle(kernel);
    execFileSync(
      "python3",
      [
        "-m",
        "pip",
        "install",
        "--isolated",
        "--quiet",
        "--no-cache-dir",
        "--disable-pip-version-check",
        "--target",
        target,
        "--index-url",
        `file://${INDEX}`,
        pkg,
      ],
      { stdio: "inherit" },
    );
    await cell(kernel, "x = 41", "vars");
    const seconds = (performance.now() - t0) / 1000;
    return seconds;
  } finally {
    kernel.dispose();
    fs.rmSync(target, { recursive: true, force: true });
    await gateway.notebooks.remove(nb.id);
  }
}

export async function run(): Promise<void> {
  if (!fs.existsSync(INDEX)) throw new Error(`images bench: no local wheel index at ${INDEX}`);
  process.env.CELLAR_PIP_INDEX_URL = `file://${INDEX}`;
  const stack = await startStack(8894);
  const gateway = new GatewayClient({ baseUrl: stack.base, token: stack.token });
  const cold: number[] = [];
  const hit: number[] = [];
  const baseline: number[] = [];
  let large: { name: string; cold_s: number; layer_bytes: number };
  try {
    for (let i = 0; i < N; i++) {
      forgetLayers(SMALL);
      cold.push((await pipInstall(stack, gateway, SMALL, `cold ${i}`)).seconds);
      hit.push((await pipInstall(stack, gateway, SMALL, `hit ${i}`)).seconds);
      baseline.push(await plainPip(stack, gateway, SMALL));
    }
    forgetLayers(LARGE);
    const built = await pipInstall(stack, gateway, LARGE, "large");
    large = { name: LARGE, cold_s: built.seconds, layer_bytes: layerBytesOf(built.progress) };
  } finally {
    await stack.stop();
  }
  const small = { cold_s: summarize(cold).median_s, hit_s: summarize(hit).median_s, n: N };
  const baseline_pip_s = summarize(baseline).median_s;
  const out = {
    small,
    large,
    baseline_pip_s,
    samples: { cold_s: cold, hit_s: hit, baseline_pip_s: baseline },
    machine: { cpus: os.cpus().length, load: loadAverage() },
  };
  fs.mkdirSync(path.join(repoRoot, "bench/results"), { recursive: true });
  fs.writeFileSync(path.join(repoRoot, "bench/results/images.json"), `${JSON.stringify(out, null, 2)}\n`);
  console.log(
    table([
      [`%pip install ${SMALL} → next cell, cold`, summarize(cold)],
      [`%pip install ${SMALL} → next cell, cache hit`, summarize(hit)],
      [`%pip install ${LARGE} → next cell, cold`, `${large.cold_s.toFixed(2)} s, layer ${(large.layer_bytes / 2 ** 20).toFixed(1)} MiB`],
      [`baseline: fresh kernel + plain pip ${SMALL} + variables again`, summarize(baseline)],
    ]),
  );
  console.log(
    targetTable([
      ["small package, cold", "≤ 5 s", `${small.cold_s.toFixed(2)} s`, small.cold_s <= 5],
      ["small package, cache hit", "≤ 1 s", `${small.hit_s.toFixed(2)} s`, small.hit_s <= 1],
    ]),
  );
  console.log(`cold/baseline ${(small.cold_s / baseline_pip_s).toFixed(2)}×, hit/baseline ${(small.hit_s / baseline_pip_s).toFixed(2)}×`);
  console.log(`load average: ${loadAverage()}`);
}
