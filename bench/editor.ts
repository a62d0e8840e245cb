// Issue 5's editor figures, in headless Chromium through the real stack: time to interactive of
// notebooks of 10, 100 and 1,000 cells with outputs (imported as .ipynb), the tab's JS heap and
// DOM size once open, and keypress → paint while another cell prints 100,000 lines. Baseline in
// the same run: the same notebooks rendered by a plain list of the same components (`?virtual=0`).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium, type Browser, type Page } from "@playwright/test";
import { GatewayClient } from "@cellar/kernel-client";
import { typeAndTimePaints } from "../e2e/tests/input-latency";
import { syntheticIpynb } from "../e2e/tests/synthetic-notebook";
import { startStack, repoRoot } from "./stack";
import { loadAverage, summarize, table, type Summary } from "./stats";

// BENCH_EDITOR_SIZES=10,100 for a quicker run; the typing figures use the largest size.
const SIZES = (process.env.BENCH_EDITOR_SIZES ?? "10,100,1000").split(",").map(Number);
const OPENS = 3; // per size and mode; the median is reported
const MODES = { virtual: "", plain: "&virtual=0" } as const;
type Mode = keyof typeof MODES;
const PRINT_100K = "import time\nfor i in range(100_000):\n    print('line', i)\n    if i % 2000 == 0: time.sleep(0.25)";

/** How long an open may take before it counts as "never became interactive". */
const OPEN_LIMIT_MS = 180_000;

/** `tti` null: the page did not take a keystroke within OPEN_LIMIT_MS (`timed_out_after_s`). */
interface OpenFigures {
  tti: Summary | null;
  heap_mb: number;
  dom_nodes: number;
  editors: number;
  timed_out_after_s?: number;
}

/** `error`: why this list's typing could not be measured (it is reported, not thrown, so the
 * figures measured before it are still written). */
interface TypingFigures {
  idle: Summary | null;
  printing: Summary | null;
  print_finished?: boolean;
  error?: string;
}

const log = (line: string) => console.log(`[editor ${new Date().toISOString().slice(11, 19)}] ${line}`);

export async function run(): Promise<void> {
  const stack = await startStack(8896);
  let browser = await launch();
  const opens: Record<string, Record<Mode, OpenFigures>> = {};
  const typing = {} as Record<Mode, Summary | null>;
  const idleTyping = {} as Record<Mode, Summary | null>;
  const typingNotes = {} as Record<Mode, { print_finished?: boolean; error?: string }>;
  const typingSize = {} as Record<Mode, number>;
  const loadAtStart = os.loadavg().map((l) => Math.round(l * 100) / 100);
  // Written after every step: a later step that fails must not lose what was measured before it.
  const save = () =>
    writeResults({
      machine: {
        cpus: os.cpus().length,
        model: os.cpus()[0]?.model,
        memory_gb: Math.round(os.totalmem() / 2 ** 30),
        loadavg_at_start: loadAtStart,
        loadavg_when_written: os.loadavg().map((l) => Math.round(l * 100) / 100),
      },
      open: opens,
      typing_cells: typingSize,
      typing_idle: idleTyping,
      typing_while_printing_100k_lines: typing,
      typing_notes: typingNotes,
    });
  try {
    const gateway = new GatewayClient({ baseUrl: stack.base, token: stack.token });
    const ids: Record<number, string> = {};
    for (const n of SIZES) {
      ids[n] = (await gateway.notebooks.import(syntheticIpynb(n), `bench-${n}`)).id;
      opens[n] = {} as Record<Mode, OpenFigures>;
      for (const mode of Object.keys(MODES) as Mode[]) {
        opens[n][mode] = await measureOpen(browser, stack.base, stack.token, ids[n], mode);
        const o = opens[n][mode];
        log(
          `${n} cells, ${mode}: ${o.tti ? `open → keystroke median ${o.tti.median_s} s, heap ${o.heap_mb.toFixed(1)} MB, ${o.dom_nodes} DOM nodes, ${o.editors} editors` : `no keystroke within ${OPEN_LIMIT_MS / 1000} s`}`,
        );
        save();
      }
    }
    // A fresh browser: a plain list that never became interactive may still be burning CPU.
    await browser.close();
    browser = await launch();
    for (const mode of Object.keys(MODES) as Mode[]) {
      // The largest notebook this list could open at all.
      typingSize[mode] = Math.max(...SIZES.filter((n) => opens[n][mode].tti !== null));
      const figures = await measureTypingWhilePrinting(browser, stack.base, stack.token, ids[typingSize[mode]], mode);
      typing[mode] = figures.printing;
      idleTyping[mode] = figures.idle;
      typingNotes[mode] = { print_finished: figures.print_finished, error: figures.error };
      log(
        `${typingSize[mode]} cells, ${mode}: typing ${figures.error ? `not measured: ${figures.error}` : `idle median ${figures.idle?.median_s} s, while printing median ${figures.printing?.median_s} s`}`,
      );
      save();
    }
  } finally {
    await browser.close();
    await stack.stop();
  }

  save();
  const rows: Array<[string, Summary | string]> = [];
  for (const n of SIZES) {
    for (const mode of Object.keys(MODES) as Mode[]) {
      const o = opens[n][mode];
      rows.push([`${n} cells, ${mode} list: open → first keystroke painted`, o.tti ?? `> ${o.timed_out_after_s} s (timed out)`]);
      rows.push([
        `${n} cells, ${mode} list: JS heap / DOM nodes / editors`,
        o.tti ? `${o.heap_mb.toFixed(1)} MB / ${o.dom_nodes} / ${o.editors}` : "n/a",
      ]);
    }
  }
  for (const mode of Object.keys(MODES) as Mode[]) {
    const n = typingSize[mode];
    const why = typingNotes[mode]?.error ? `not measured: ${typingNotes[mode].error}` : "n/a";
    rows.push([`${n} cells, ${mode} list: keypress → paint, kernel idle`, idleTyping[mode] ?? why]);
    rows.push([`${n} cells, ${mode} list: keypress → paint while a cell prints 100k lines`, typing[mode] ?? why]);
  }
  console.log(`load average (1/5/15 min) at start ${loadAtStart.join(" / ")}, at end ${loadAverage(" / ")}`);
  console.log(table(rows));
  console.log(`wrote bench/results/editor.json`);
}

function writeResults(result: unknown): void {
  const outDir = path.join(repoRoot, "bench/results");
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, "editor.json"), JSON.stringify(result, null, 2));
}

function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
  });
}

async function newPage(browser: Browser, base: string, token: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${base}/?token=${token}`);
  return page;
}

/** Navigation start → the frame in which a key typed into the first cell shows, in page time. */
async function timeToInteractive(page: Page, url: string): Promise<number> {
  await page.goto(url, { waitUntil: "commit" });
  const editor = page.locator('[data-testid="cell"][data-cell-id="code-0"] .cm-content');
  await editor.click({ timeout: OPEN_LIMIT_MS });
  await page.keyboard.press("End");
  await typeAndTimePaints(page, "x");
  return (await page.evaluate("performance.now()")) as number;
}

async function measureOpen(browser: Browser, base: string, token: string, id: string, mode: Mode): Promise<OpenFigures> {
  const page = await newPage(browser, base, token);
  const url = `${base}/notebook/?id=${id}${MODES[mode]}`;
  const tti: number[] = [];
  for (let i = 0; i < OPENS; i++) {
    // Each open types one "x"; undo it so every open sees the same notebook.
    try {
      tti.push((await timeToInteractive(page, url)) / 1000);
    } catch {
      log(`${url}: no keystroke painted within ${OPEN_LIMIT_MS / 1000} s`);
      await page.context().close();
      return { tti: null, heap_mb: NaN, dom_nodes: NaN, editors: NaN, timed_out_after_s: OPEN_LIMIT_MS / 1000 };
    }
    await page.keyboard.press("Backspace");
    // A plain list of 1,000 editors can take long to save; the next open must see the same notebook.
    await page.getByTestId("save-status").filter({ hasText: "Saved" }).waitFor({ timeout: OPEN_LIMIT_MS });
  }
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Performance.enable");
  await cdp.send("HeapProfiler.collectGarbage");
  const { metrics } = await cdp.send("Performance.getMetrics");
  const metric = (name: string) => metrics.find((m) => m.name === name)?.value ?? 0;
  const editors = await page.locator(".cm-editor").count();
  await page.context().close();
  return { tti: summarize(tti), heap_mb: metric("JSHeapUsedSize") / 2 ** 20, dom_nodes: metric("Nodes"), editors };
}

async function measureTypingWhilePrinting(browser: Browser, base: string, token: string, id: string, mode: Mode): Promise<TypingFigures> {
  const page = await newPage(browser, base, token);
  try {
    await page.goto(`${base}/notebook/?id=${id}${MODES[mode]}`);
    await kernelReady(page);
    const printer = page.locator('[data-testid="cell"][data-cell-id="code-0"]');
    const typist = page.locator('[data-testid="cell"][data-cell-id="code-1"]');

    await typist.locator(".cm-content").click();
    await page.keyboard.press("Control+End");
    const idle = summarize((await typeAndTimePaints(page, "idle_typing = 1")).map((ms) => ms / 1000));

    await printer.locator(".cm-content").click();
    await page.keyboard.press("Control+a");
    await page.keyboard.press("Delete");
    await page.keyboard.insertText(PRINT_100K);
    await printer.locator(".cm-content").press("Control+Enter");
    await printer.getByTestId("cell-running").waitFor({ timeout: 120_000 });
    await printer
      .getByTestId("output-stream")
      .filter({ hasText: /line \d+/ })
      .waitFor({ timeout: 60_000 });
    await typist.locator(".cm-content").click();
    await page.keyboard.press("Control+End");
    await page.keyboard.press("Enter");
    const printing = summarize((await typeAndTimePaints(page, "typed_while_printing = 42")).map((ms) => ms / 1000));
    const stillRunning = await printer.getByTestId("cell-running").count();
    if (!stillRunning) log(`(${mode}) the print finished before the typing did; figures include quiet time`);
    // Only so the next list starts on a quiet kernel: the figures are already taken.
    const finished = await printer
      .getByTestId("output-stream")
      .filter({ hasText: "line 99999" })
      .waitFor({ timeout: 300_000 })
      .then(
        () => true,
        () => false,
      );
    if (!finished) log(`(${mode}) the 100k-line print did not show its last line within 300 s`);
    return { idle, printing, print_finished: finished };
  } catch (e) {
    return { idle: null, printing: null, error: (e as Error).message.split("\n")[0] };
  } finally {
    await page.context().close();
  }
}

/** Waits for an idle kernel. One that died (a sandbox that failed to boot while the big opens
 * held the CPU) is restarted the way a user would, once, with its reason logged. */
async function kernelReady(page: Page): Promise<void> {
  const badge = page.getByTestId("kernel-status");
  // The plain list of 1,000 cells takes minutes to render; it gets as long as an open may take.
  await badge.and(page.locator("[data-status=idle], [data-status=dead]")).waitFor({ timeout: OPEN_LIMIT_MS + 120_000 });
  if ((await badge.getAttribute("data-status")) === "dead") {
    log(`kernel dead (${(await badge.getAttribute("title")) ?? (await badge.textContent())}); restarting it`);
    await page.getByTestId("restart-kernel").click();
  }
  await page.locator('[data-testid="kernel-status"][data-status="idle"]').waitFor({ timeout: 120_000 });
}
