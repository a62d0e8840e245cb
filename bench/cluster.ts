// Issue 12's figures, on the scaled-out layout (scripts/cluster/start-cluster.ts: PostgreSQL,
// Redis, s3rver, three gateway replicas behind HAProxy, two workers on gVisor, IPython):
// - failover: kill -9 of the replica the browser (Chromium, through HAProxy) is on, while a cell
//   prints every 50 ms, to the page showing live output again; the supervisor restarts the
//   replica, the worker (if it was on it) redials and is adopted, the page reconnects;
// - relay: Shift+Enter → output of 1+1 on a warm kernel, from a page on the replica that holds
//   the kernel's worker and from a page on another replica, alternating, same run;
// - placement: 200 notebook opens at once for 20 notebooks (10 each, one socket each, spread over
//   the replicas) from a Node client, and how many kernels that made, in the database and on the
//   workers.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium, type Browser, type Page } from "@playwright/test";
import { openDatabase } from "@cellar/db";
import { createGatewaySocket, GatewayClient, GatewayKernel } from "@cellar/kernel-client";
import { startCluster, type Cluster, type ClusterGateway } from "../scripts/cluster/start-cluster";
import { repoRoot } from "./stack";
import { loadAverage, summarize, table } from "./stats";

const KILLS = 10;
const RELAY_RUNS = 20;
const NOTEBOOKS = 20;
const OPENS_PER_NOTEBOOK = 10;

export async function run(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cellar-bench-cluster-"));
  // PostgreSQL runs as its own user, which must reach its data directory inside.
  fs.chmodSync(dir, 0o755);
  const cluster = await startCluster({ dir, port: 8960, prefixOutput: false, log: () => {} });
  let placement: Awaited<ReturnType<typeof measurePlacement>>;
  let failover: Awaited<ReturnType<typeof measureFailover>>;
  let relay: Awaited<ReturnType<typeof measureRelay>>;
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
  });
  try {
    // Relay first and on a settled machine: the workers' pools fill after a start, and placement
    // leaves 20 kernels to stop; a few ms of difference drown in that.
    await settle();
    relay = await measureRelay(cluster, browser);
    placement = await measurePlacement(cluster);
    failover = await measureFailover(cluster, browser);
  } finally {
    await browser.close();
    await cluster.stop();
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  }
  const ms = (s: number) => Math.round(s * 1000 * 10) / 10;
  const result = {
    machine: { cpus: os.cpus().length, load: loadAverage(), replicas: cluster.gateways.length, workers: cluster.workers.length },
    failover: { median_s: failover.median_s, p95_s: failover.p95_s, n: failover.n },
    relay: {
      same_replica_ms: ms(relay.same.median_s),
      cross_replica_ms: ms(relay.cross.median_s),
      cross_minus_same_ms: ms(relay.cross.median_s - relay.same.median_s),
      n: relay.same.n,
    },
    placement,
  };
  const outDir = path.join(repoRoot, "bench/results");
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, "cluster.json"), JSON.stringify(result, null, 2));
  console.log(
    table([
      [`failover: kill -9 of the browser's replica → page shows live output again (n=${failover.n})`, failover],
      ["relay: Shift+Enter → output of 1+1, page on the worker's replica", relay.same],
      ["relay: Shift+Enter → output of 1+1, page on another replica", relay.cross],
    ]),
  );
  console.log(
    `\nplacement: ${placement.requests} opens for ${placement.notebooks} notebooks over ${cluster.gateways.length} replicas → ` +
      `${placement.kernels} kernels (${placement.kernels_on_workers} on the workers), ${placement.starts_per_s} opens/s, p95 ${placement.p95_s} s`,
  );
  console.log(`load average: ${loadAverage()}\nwrote bench/results/cluster.json`);
}

/** Waits (up to 2 min) until the 1-minute load average is under 1.5 on this 2-core machine. */
async function settle(): Promise<void> {
  const until = Date.now() + 120_000;
  while (os.loadavg()[0] > 1.5 && Date.now() < until) await new Promise((r) => setTimeout(r, 2000));
}

const client = (cluster: Cluster, base = cluster.url) => new GatewayClient({ baseUrl: base, token: cluster.token });

async function measurePlacement(cluster: Cluster) {
  const notebooks = await Promise.all(Array.from({ length: NOTEBOOKS }, (_, i) => client(cluster).notebooks.create(`placement ${i}`)));
  const kernels: GatewayKernel[] = [];
  const t0 = performance.now();
  let next = 0;
  const latencies = await Promise.all(
    notebooks.flatMap((nb) =>
      Array.from({ length: OPENS_PER_NOTEBOOK }, async () => {
        // Each notebook's ten opens land on every replica.
        const replica = cluster.gateways[next++ % cluster.gateways.length];
        const started = performance.now();
        const kernel = new GatewayKernel(createGatewaySocket({ url: replica.url, token: cluster.token }), nb.id);
        kernels.push(kernel);
        await kernel.opened();
        return (performance.now() - started) / 1000;
      }),
    ),
  );
  const wallS = (performance.now() - t0) / 1000;
  // Every kernel up (or dead) before counting, so none is still being placed.
  const deadline = Date.now() + 180_000;
  while (kernels.some((k) => k.status === "starting" || k.status === "disconnected") && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 250));
  const db = await openDatabase(cluster.engines.postgres.url, { log: () => {} });
  const ids = new Set(notebooks.map((n) => n.id));
  const rows = (await db.kernels.list()).filter((r) => ids.has(r.notebookId));
  await db.close();
  // Any replica lists the whole cluster's workers.
  const onWorkers = (await client(cluster).workers.list()).reduce((n, w) => n + w.sessions, 0);
  for (const k of kernels) k.dispose();
  for (const nb of notebooks) await client(cluster).notebooks.remove(nb.id);
  const s = summarize(latencies);
  return {
    notebooks: NOTEBOOKS,
    requests: latencies.length,
    kernels: rows.length,
    distinct_sessions: new Set(rows.map((r) => r.sessionId)).size,
    kernels_on_workers: onWorkers,
    starts_per_s: Math.round((latencies.length / wallS) * 10) / 10,
    p95_s: s.p95_s,
  };
}

async function openNotebook(browser: Browser, base: string, token: string, id: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${base}/?token=${token}`);
  await page.goto(`${base}/notebook/?id=${id}`);
  await idle(page, 120_000);
  return page;
}

const idle = (page: Page, timeout = 60_000) =>
  page.getByTestId("kernel-status").and(page.locator('[data-status="idle"]')).waitFor({ timeout });

/** Shift+Enter on the first cell with `i+1`, to its output on the page. */
async function timedRun(page: Page, i: number): Promise<number> {
  const cell = page.getByTestId("cell").first();
  const editor = cell.locator(".cm-content");
  await editor.click();
  await editor.press("ControlOrMeta+a");
  await page.keyboard.insertText(`${i}+1`);
  const t = Date.now();
  await editor.press("Shift+Enter");
  await cell
    .getByTestId("cell-output")
    .getByText(String(i + 1), { exact: true })
    .waitFor();
  const seconds = (Date.now() - t) / 1000;
  await idle(page);
  return seconds;
}

async function measureRelay(cluster: Cluster, browser: Browser) {
  const nb = await client(cluster).notebooks.create("relay");
  // Start the kernel, then find the replica its worker is connected to.
  const opener = await openNotebook(browser, cluster.url, cluster.token, nb.id);
  const db = await openDatabase(cluster.engines.postgres.url, { log: () => {} });
  const workerId = (await db.kernels.get(nb.id))?.workerId;
  await db.close();
  let home: ClusterGateway | undefined;
  // Every replica lists every worker; `local` marks those connected to it.
  for (const g of cluster.gateways) if ((await client(cluster, g.url).workers.list()).some((w) => w.id === workerId && w.local)) home = g;
  if (!home) throw new Error(`the kernel's worker ${workerId} is on no replica`);
  const other = cluster.gateways.find((g) => g !== home)!;
  await opener.context().close();
  const same = await openNotebook(browser, home.url, cluster.token, nb.id);
  const cross = await openNotebook(browser, other.url, cluster.token, nb.id);
  const times = { same: [] as number[], cross: [] as number[] };
  // Alternating, so that load on the machine falls on both alike.
  for (let i = 0; i < RELAY_RUNS; i++) {
    times.same.push(await timedRun(same, 2 * i));
    times.cross.push(await timedRun(cross, 2 * i + 1));
  }
  await same.context().close();
  await cross.context().close();
  await client(cluster).notebooks.remove(nb.id);
  return { same: summarize(times.same), cross: summarize(times.cross) };
}

async function measureFailover(cluster: Cluster, browser: Browser) {
  const nb = await client(cluster).notebooks.create("failover");
  const page = await openNotebook(browser, cluster.url, cluster.token, nb.id);
  const cell = page.getByTestId("cell").first();
  const editor = cell.locator(".cm-content");
  await editor.click();
  await editor.press("ControlOrMeta+a");
  await page.keyboard.insertText("import time\nfor i in range(10**6):\n    print(i, flush=True)\n    time.sleep(0.05)");
  await editor.press("Shift+Enter");
  await cell.getByTestId("output-stream").waitFor();
  // The page notes the time of every change to the cell's output.
  await page.evaluate(() => {
    const out = document.querySelector('[data-testid="cell"] [data-testid="cell-output"]')!;
    const w = window as unknown as { outputChanged: number };
    w.outputChanged = Date.now();
    new MutationObserver(() => (w.outputChanged = Date.now())).observe(out, { childList: true, subtree: true, characterData: true });
  });
  const failover: number[] = [];
  for (let i = 0; i < KILLS; i++) {
    await new Promise((r) => setTimeout(r, 1500));
    const cookie = (await page.context().cookies(cluster.url)).find((c) => c.name === "cellar-replica");
    const replica = cluster.gateways.find((g) => g.name === cookie?.value) ?? cluster.gateways[0];
    const pid = replica.pid;
    const killedAt = Date.now();
    replica.kill("SIGKILL");
    // Bytes already on their way when it died may still land in the first milliseconds.
    for (;;) {
      const changed = await page.evaluate(() => (window as unknown as { outputChanged: number }).outputChanged);
      if (changed > killedAt + 50) {
        failover.push((changed - killedAt) / 1000);
        break;
      }
      if (Date.now() - killedAt > 60_000) throw new Error("no live output within 60 s of the kill");
      await new Promise((r) => setTimeout(r, 20));
    }
    // Back to three replicas before the next kill.
    for (;;) {
      const up = replica.pid !== pid && (await fetch(`${replica.url}/api/ready`).catch(() => null))?.status === 200;
      if (up) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  await page.context().close();
  return summarize(failover);
}
