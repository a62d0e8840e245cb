// Issue 13's live-editing figures, on two gateway replicas (bench/collab-replica.ts: one process
// each, sharing a PostgreSQL and a Redis, as replicas do):
// - keystroke: a key pressed in Chromium page A → the character painted in page B, B on A's
//   replica and on the other one, alternating;
// - yjs_clients: 20 headless clients (socket.io + the DocumentProvider the web uses), half on each
//   replica, typing into one 200-cell notebook for 60 s; whether every client ends with the same
//   cells, the stored document's size before and after the compaction of the last close, and the
//   CPU seconds both gateways used meanwhile.
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium, type Browser, type Page } from "@playwright/test";
import { openDatabase } from "@cellar/db";
import { GatewayClient } from "@cellar/kernel-client";
import { cellText, DocumentProvider, toCells } from "@cellar/notebook-doc";
import { io as connect, type Socket } from "socket.io-client";
import * as Y from "yjs";
import { freePort, startPostgres, startRedis } from "../scripts/engines/index";
import { repoRoot } from "./stack";
import { loadAverage, summarize, table } from "./stats";

const KEYSTROKES = 60;
const CLIENTS = Number(process.env.CELLAR_BENCH_COLLAB_CLIENTS ?? 20);
const TYPING_S = Number(process.env.CELLAR_BENCH_COLLAB_SECONDS ?? 60);
const CELLS = 200;
/** Each headless client's typing speed: about a fast typist. */
const KEYS_PER_S = 8;

interface Replica {
  url: string;
  child: ChildProcess;
}

export async function run(): Promise<void> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "cellar-bench-collab-"));
  // PostgreSQL runs as its own user, which must reach its data directory inside.
  fs.chmodSync(home, 0o755);
  const token = `bench-${Math.random().toString(36).slice(2)}`;
  const [postgres, redis] = await Promise.all([
    startPostgres({ dir: path.join(home, "postgres") }),
    startRedis({ dir: path.join(home, "redis") }),
  ]);
  const replicas: Replica[] = [];
  let browser: Browser | undefined;
  try {
    // One after the other: both migrate the same database.
    for (let i = 0; i < 2; i++) replicas.push(await startReplica(home, postgres.url, redis.url, token));
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
    });
    const keystroke = await measureKeystrokes(browser, replicas, token);
    await browser.close();
    browser = undefined;
    const yjs = await measureClients(replicas, token, postgres.url);
    const ms = (s: number) => Math.round(s * 1000 * 10) / 10;
    const result = {
      keystroke: {
        same_replica: { median_ms: ms(keystroke.same.median_s), p95_ms: ms(keystroke.same.p95_s), n: keystroke.same.n },
        cross_replica: { median_ms: ms(keystroke.cross.median_s), p95_ms: ms(keystroke.cross.p95_s), n: keystroke.cross.n },
      },
      yjs_clients: yjs,
    };
    const outDir = path.join(repoRoot, "bench/results");
    fs.mkdirSync(outDir, { recursive: true });
    fs.writeFileSync(path.join(outDir, "collab.json"), JSON.stringify(result, null, 2));
    console.log(
      table([
        ["keystroke in page A → painted in page B, same replica", keystroke.same],
        ["keystroke in page A → painted in page B, other replica", keystroke.cross],
      ]),
    );
    console.log(
      `\n${yjs.clients} headless clients, ${yjs.seconds} s of typing into ${CELLS} cells: converged ${yjs.converged}, ` +
        `stored document ${yjs.doc_bytes_before} B → ${yjs.doc_bytes_after} B after compaction, gateways' CPU ${yjs.gateway_cpu_s} s`,
    );
    console.log(`load average: ${loadAverage()} (${os.cpus().length} CPUs)\nwrote bench/results/collab.json`);
  } finally {
    await browser?.close();
    await Promise.all(replicas.map(stopReplica));
    await Promise.all([postgres.stop(), redis.stop()]);
    fs.rmSync(home, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  }
}

async function startReplica(home: string, databaseUrl: string, redisUrl: string, token: string): Promise<Replica> {
  const port = await freePort();
  const args = [path.join(repoRoot, "bench/collab-replica.ts"), String(port), home, databaseUrl, redisUrl, token];
  const child = spawn(process.execPath, ["--import", "tsx", ...args], { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise<void>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`a gateway replica exited (${code}) before it was ready`)));
    child.stdout!.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("ready")) resolve();
    });
  });
  child.stdout!.resume();
  return { url: `http://127.0.0.1:${port}`, child };
}

function stopReplica(replica: Replica): Promise<void> {
  if (replica.child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    replica.child.once("exit", () => resolve());
    replica.child.kill("SIGTERM");
  });
}

async function openPage(browser: Browser, base: string, token: string, id: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${base}/?token=${token}`);
  await page.goto(`${base}/notebook/?id=${id}`);
  await page.getByTestId("cell").first().locator(".cm-content").waitFor();
  return page;
}

/** Page B notes when each new "x" is painted (a frame after the text changed); page A notes
 * when each key went down. Both clocks are this machine's. */
async function measureKeystrokes(browser: Browser, replicas: Replica[], token: string) {
  const api = new GatewayClient({ baseUrl: replicas[0].url, token });
  const nb = await api.notebooks.create("keystrokes");
  const typist = await openPage(browser, replicas[0].url, token, nb.id);
  const same = await openPage(browser, replicas[0].url, token, nb.id);
  const cross = await openPage(browser, replicas[1].url, token, nb.id);
  // A string, not a function: tsx names inner functions with a helper the page does not have.
  const watch = `(() => {
    const painted = [];
    window.painted = painted;
    const content = document.querySelector('[data-testid="cell"] .cm-content');
    const count = () => Array.from(content.querySelectorAll(".cm-line")).reduce((n, l) => n + l.textContent.split("x").length - 1, 0);
    new MutationObserver(() => {
      const seen = count();
      if (seen <= painted.length) return;
      requestAnimationFrame(() => {
        const now = Date.now();
        while (painted.length < seen) painted.push(now);
      });
    }).observe(content, { childList: true, characterData: true, subtree: true });
  })()`;
  for (const watcher of [same, cross]) await watcher.evaluate(watch);
  await typist.evaluate(() => {
    const w = window as unknown as { pressed: number[] };
    w.pressed = [];
    document.addEventListener("keydown", () => w.pressed.push(Date.now()), { capture: true });
  });
  await typist.getByTestId("cell").first().locator(".cm-content").click();
  for (let i = 0; i < KEYSTROKES; i++) {
    await typist.keyboard.press("x");
    await typist.waitForTimeout(120);
  }
  await typist.waitForTimeout(1000);
  const pressed = await typist.evaluate(() => (window as unknown as { pressed: number[] }).pressed);
  const latencies = async (watcher: Page) => {
    const painted = await watcher.evaluate(() => (window as unknown as { painted: number[] }).painted);
    return pressed.slice(0, painted.length).map((t, i) => (painted[i] - t) / 1000);
  };
  const result = { same: summarize(await latencies(same)), cross: summarize(await latencies(cross)) };
  for (const p of [typist, same, cross]) await p.context().close();
  return result;
}

/** A headless editor: the notebook opened on a socket, its document kept by a DocumentProvider. */
async function headlessClient(url: string, token: string, notebookId: string) {
  const socket: Socket = connect(url, { transports: ["websocket"], forceNew: true, extraHeaders: { authorization: `Bearer ${token}` } });
  await new Promise<void>((r) => socket.once("connect", () => r()));
  const opened = await socket.timeout(30_000).emitWithAck("notebook:open", { notebookId });
  if (!opened.ok) throw new Error(`notebook:open: ${opened.error}`);
  const doc = new Y.Doc();
  const provider = new DocumentProvider(socket, notebookId, doc);
  provider.start();
  await provider.whenSynced();
  return { socket, doc, provider };
}

async function measureClients(replicas: Replica[], token: string, databaseUrl: string) {
  const api = new GatewayClient({ baseUrl: replicas[0].url, token });
  const nb = await api.notebooks.create("yjs clients");
  await api.notebooks.update(nb.id, {
    cells: Array.from({ length: CELLS }, (_, i) => ({ id: `cell-${i}`, cell_type: "code" as const, source: `# cell ${i}\n` })),
  });
  const clients = [];
  for (let i = 0; i < CLIENTS; i++) clients.push(await headlessClient(replicas[i % replicas.length].url, token, nb.id));
  const cpuBefore = replicas.map((r) => cpuSeconds(r.child.pid!));
  const end = Date.now() + TYPING_S * 1000;
  await Promise.all(
    clients.map(async ({ doc }, c) => {
      let n = 0;
      while (Date.now() < end) {
        const text = cellText(doc, `cell-${Math.floor(Math.random() * CELLS)}`);
        if (text) text.insert(Math.floor(Math.random() * (text.length + 1)), String.fromCharCode(97 + ((c + n++) % 26)));
        // Now and then a word is deleted again, as people do.
        if (text && n % 10 === 0 && text.length > 20) text.delete(Math.floor(Math.random() * (text.length - 5)), 5);
        await new Promise((r) => setTimeout(r, 1000 / KEYS_PER_S));
      }
    }),
  );
  // Everything typed reaches everyone: wait until the clients agree (or 30 s).
  const snapshot = (doc: Y.Doc) => JSON.stringify(toCells(doc));
  const settleBy = Date.now() + 30_000;
  let converged = false;
  while (!converged && Date.now() < settleBy) {
    await new Promise((r) => setTimeout(r, 250));
    const first = snapshot(clients[0].doc);
    converged = clients.every(({ doc }) => snapshot(doc) === first);
  }
  const gatewayCpu = replicas.reduce((sum, r, i) => sum + cpuSeconds(r.child.pid!) - cpuBefore[i], 0);
  const db = await openDatabase(databaseUrl, { log: () => {} });
  const size = async () => {
    const s = await db.documents.size(nb.id);
    return s ? s.stateBytes + s.updateBytes : 0;
  };
  const before = await size();
  // The last page leaving each replica compacts.
  for (const { provider, socket } of clients) {
    provider.destroy();
    socket.close();
  }
  const closedBy = Date.now() + 30_000;
  while (((await db.documents.size(nb.id))?.updates ?? 0) > 0 && Date.now() < closedBy) await new Promise((r) => setTimeout(r, 250));
  const after = await size();
  await db.close();
  return {
    clients: CLIENTS,
    seconds: TYPING_S,
    converged,
    doc_bytes_before: before,
    doc_bytes_after: after,
    gateway_cpu_s: Math.round(gatewayCpu * 100) / 100,
  };
}

/** User + system CPU seconds of a process, from /proc. */
function cpuSeconds(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  // After the command: state is field 3, utime 14 and stime 15 (1-based, man 5 proc).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
