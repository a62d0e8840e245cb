// Issue 5's editor figures, in headless Chromium through the real stack: time to interactive of
// notebooks of 10, 100 and 1,000 cells with outputs (imported as .ipynb), the tab's JS heap and
// DOM size once open, and keypress → paint while another cell prints 100,000 lines. Baseline in
// the same run: the same notebooks rendered by a plain list of the same components (`?virtual=0`).
// Issue 17 adds the `interactive` part: a 100-cell notebook of plotly figures and widgets (output
// frames) against the same notebook with static PNGs, open → keystroke and idle keypress → paint.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium, type Browser, type Page } from "@playwright/test";
import { createGatewaySocket, GatewayClient, GatewayKernel } from "@cellar/kernel-client";
import { typeAndTimePaints } from "../e2e/tests/input-latency";
import { syntheticIpynb } from "../e2e/tests/synthetic-notebook";
import { interactiveIpynbs } from "./interactive-notebook";
import { startStack, repoRoot } from "./stack";
import { loadAverage, summarize, table, targetTable, type Summary } from "./stats";

// BENCH_EDITOR_SIZES=10,100 for a quicker run; the typing figures use the largest size.
const SIZES = (process.env.BENCH_EDITOR_SIZES ?? "10,100,1000").split(",").map(Number);
// BENCH_EDITOR_PARTS=interactive runs only issue 17's frames-vs-static notebooks; =sizes only
// issue 5's. Both by default.
const PARTS = new Set((process.env.BENCH_EDITOR_PARTS ?? "sizes,interactive").split(","));
/** Issue 17's notebook size and target: the frames notebook within this factor of the static one. */
const INTERACTIVE_CELLS = 100;
const INTERACTIVE_TARGET = 1.5;
const OPENS = 3; // per size and mode; the median is reported
/** Opens per notebook of the interactive part: its open times spread more (kernel, frames). */
const INTERACTIVE_OPENS = 5;
/** After the warm-up kernel, how long the worker gets to refill its pool before the opens. */
const POOL_REFILL_MS = 10_000;
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

/** One notebook of the interactive part. `frames`: the output frames (iframes) that exist in the
 * frame after the first keystroke painted, per open; `frames_rendered_s`: from navigation until
 * every frame then present had drawn (last open; null if some had not within FRAMES_SETTLE_MS);
 * `frames_heap_mb`: the JS heap of out-of-process frames, once per V8 isolate (0 when they share
 * the page's renderer, whose heap `heap_mb` then includes). */
interface InteractiveFigures {
  tti: Summary | null;
  /** Idle keypress → paint in the second cell, the frames drawn and the kernel idle. */
  typing: Summary | null;
  /** Keypress → paint right after an open (all opens but the last), while frames load and draw. */
  typing_while_frames_draw?: Summary;
  heap_mb: number;
  frames_heap_mb: number;
  dom_nodes: number;
  frames: number[];
  frames_rendered_s: number | null;
  timed_out_after_s?: number;
  error?: string;
}

interface InteractiveResults {
  cells: number;
  plotly_outputs: number;
  widget_outputs: number;
  frames_notebook?: InteractiveFigures;
  static_notebook?: InteractiveFigures;
  ratio_tti?: number | null;
  ratio_typing?: number | null;
  target_ratio: number;
}

/** Typed right after each open but the last, for `typing_while_frames_draw`. */
const WHILE_DRAWING_TEXT = "#abcde";
/** How long after the open the frames near the viewport may take to draw before typing starts. */
const FRAMES_SETTLE_MS = 60_000;

export async function run(): Promise<void> {
  const stack = await startStack(8896);
  let browser = await launch();
  const opens: Record<string, Record<Mode, OpenFigures>> = {};
  const typing = {} as Record<Mode, Summary | null>;
  const idleTyping = {} as Record<Mode, Summary | null>;
  const typingNotes = {} as Record<Mode, { print_finished?: boolean; error?: string }>;
  const typingSize = {} as Record<Mode, number>;
  let interactive: InteractiveResults | undefined;
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
      parts: [...PARTS],
      open: opens,
      typing_cells: typingSize,
      typing_idle: idleTyping,
      typing_while_printing_100k_lines: typing,
      typing_notes: typingNotes,
      interactive,
    });
  try {
    const gateway = new GatewayClient({ baseUrl: stack.base, token: stack.token });
    if (PARTS.has("sizes")) {
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
    }
    if (PARTS.has("interactive")) {
      await browser.close();
      browser = await launch();
      const notebooks = interactiveIpynbs(INTERACTIVE_CELLS);
      interactive = {
        cells: INTERACTIVE_CELLS,
        plotly_outputs: notebooks.plotly_outputs,
        widget_outputs: notebooks.widget_outputs,
        target_ratio: INTERACTIVE_TARGET,
      };
      // The same import path as the sizes' notebooks; the widgets' state travels in its metadata.
      const framesId = (await gateway.notebooks.import(notebooks.frames, `bench-frames-${INTERACTIVE_CELLS}`)).id;
      const staticId = (await gateway.notebooks.import(notebooks.static, `bench-static-${INTERACTIVE_CELLS}`)).id;
      const saved = (await gateway.notebooks.get(framesId)).metadata?.widgets;
      if (!saved) throw new Error("the imported frames notebook lost its metadata.widgets: its widgets would not draw");
      // Both notebooks open under the same conditions: a worker still filling its kernel pool
      // (restoring snapshots on these 2 cores) slowed whichever was measured first.
      await warmKernelPool(gateway, stack.base, stack.token);
      for (const [key, id] of [
        ["frames_notebook", framesId],
        ["static_notebook", staticId],
      ] as const) {
        interactive[key] = await measureInteractive(browser, stack.base, stack.token, id);
        const f = interactive[key];
        log(
          `${key}: ${f.tti ? `open → keystroke median ${f.tti.median_s} s, typing median ${f.typing?.median_s ?? "n/a"} s, heap ${f.heap_mb.toFixed(1)} MB (+${f.frames_heap_mb.toFixed(1)} MB in frames), frames after open ${f.frames.join("/")}, drawn by ${f.frames_rendered_s ?? "n/a"} s` : `no keystroke within ${OPEN_LIMIT_MS / 1000} s`}${f.error ? ` (${f.error})` : ""}`,
        );
        save();
      }
      const ratio = (a?: Summary | null, b?: Summary | null) => (a && b ? Math.round((a.median_s / b.median_s) * 100) / 100 : null);
      interactive.ratio_tti = ratio(interactive.frames_notebook?.tti, interactive.static_notebook?.tti);
      interactive.ratio_typing = ratio(interactive.frames_notebook?.typing, interactive.static_notebook?.typing);
    }
  } finally {
    await browser.close();
    await stack.stop();
  }

  save();
  const rows: Array<[string, Summary | string]> = [];
  if (PARTS.has("sizes")) {
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
  }
  if (interactive) {
    for (const [key, name] of [
      ["frames_notebook", "plotly + widgets"],
      ["static_notebook", "static PNGs"],
    ] as const) {
      const f = interactive[key];
      if (!f) continue;
      const label = `${INTERACTIVE_CELLS} cells, ${name}`;
      rows.push([`${label}: open → first keystroke painted`, f.tti ?? `> ${f.timed_out_after_s} s (timed out)`]);
      rows.push([`${label}: keypress → paint, kernel idle`, f.typing ?? `not measured: ${f.error ?? "n/a"}`]);
      if (f.typing_while_frames_draw) rows.push([`${label}: keypress → paint right after open`, f.typing_while_frames_draw]);
      rows.push([
        `${label}: JS heap page + frames / frames after open / all drawn`,
        `${f.heap_mb.toFixed(1)} + ${f.frames_heap_mb.toFixed(1)} MB / ${f.frames.join(", ")} / ${f.frames_rendered_s === null ? `not within ${FRAMES_SETTLE_MS / 1000} s` : `${f.frames_rendered_s} s`}`,
      ]);
    }
  }
  console.log(`load average (1/5/15 min) at start ${loadAtStart.join(" / ")}, at end ${loadAverage(" / ")}`);
  console.log(table(rows));
  if (interactive) {
    const met = (r: number | null | undefined) => r !== null && r !== undefined && r <= INTERACTIVE_TARGET;
    console.log(
      targetTable([
        ["open → keystroke, frames / static", `≤ ${INTERACTIVE_TARGET}×`, `${interactive.ratio_tti ?? "n/a"}×`, met(interactive.ratio_tti)],
        [
          "keypress → paint, frames / static",
          `≤ ${INTERACTIVE_TARGET}×`,
          `${interactive.ratio_typing ?? "n/a"}×`,
          met(interactive.ratio_typing),
        ],
      ]),
    );
  }
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

/** Issue 17: opens `id` OPENS times (open → first keystroke painted, and the frames there are
 * then), waits for the frames near the viewport to draw and the kernel to be idle, then times
 * idle keypress → paint in the second cell, then the heap. */
async function measureInteractive(browser: Browser, base: string, token: string, id: string): Promise<InteractiveFigures> {
  const page = await newPage(browser, base, token);
  const url = `${base}/notebook/?id=${id}`;
  const frameCount = () => page.locator('[data-testid="output-frame-iframe"]').count();
  const tti: number[] = [];
  const frames: number[] = [];
  const drawingTyping: number[] = [];
  let framesRendered: number | null = null;
  try {
    for (let i = 0; i < INTERACTIVE_OPENS; i++) {
      try {
        tti.push((await timeToInteractive(page, url)) / 1000);
      } catch {
        log(`${url}: no keystroke painted within ${OPEN_LIMIT_MS / 1000} s`);
        return {
          ...interactiveEmpty(),
          tti: null,
          timed_out_after_s: OPEN_LIMIT_MS / 1000,
        };
      }
      frames.push(await frameCount());
      if (i < INTERACTIVE_OPENS - 1) {
        // Right after the open, while the frames near the viewport load and draw; then undone.
        drawingTyping.push(...(await typeAndTimePaints(page, WHILE_DRAWING_TEXT)));
        for (const _ of WHILE_DRAWING_TEXT) await page.keyboard.press("Backspace");
      }
      await page.keyboard.press("Backspace");
      if (i === INTERACTIVE_OPENS - 1) framesRendered = await framesDrawn(page);
      await page.getByTestId("save-status").filter({ hasText: "Saved" }).waitFor({ timeout: OPEN_LIMIT_MS });
    }
    let error: string | undefined;
    try {
      await kernelReady(page);
    } catch (e) {
      // Typing does not need the kernel; the figure is kept and says it was not idle.
      error = `kernel not idle before typing: ${(e as Error).message.split("\n")[0]}`;
      log(error);
    }
    await page.locator('[data-testid="cell"][data-cell-id="code-1"] .cm-content').click();
    await page.keyboard.press("Control+End");
    const typing = summarize((await typeAndTimePaints(page, "idle_typing = 1")).map((ms) => ms / 1000));
    const heap = await heapAfterGc(page);
    return {
      tti: summarize(tti),
      typing,
      typing_while_frames_draw: summarize(drawingTyping.map((ms) => ms / 1000)),
      frames,
      frames_rendered_s: framesRendered,
      ...heap,
      error,
    };
  } finally {
    await page.context().close();
  }
}

/** Starts (and leaves) one kernel on a scratch notebook, then gives the worker time to refill its pool. */
async function warmKernelPool(gateway: GatewayClient, base: string, token: string): Promise<void> {
  const scratch = await gateway.notebooks.create("bench warm-up");
  const kernel = new GatewayKernel(createGatewaySocket({ url: base, token }), scratch.id);
  const deadline = Date.now() + OPEN_LIMIT_MS;
  while (kernel.status !== "idle" && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  kernel.dispose();
  await new Promise((r) => setTimeout(r, POOL_REFILL_MS));
}

function interactiveEmpty(): InteractiveFigures {
  return { tti: null, typing: null, heap_mb: NaN, frames_heap_mb: NaN, dom_nodes: NaN, frames: [], frames_rendered_s: null };
}

/** Seconds from navigation until every output frame present has drawn: reported a height
 * other than FrameOutput's 150 px placeholder and the 0 px of a frame that is ready but has not
 * drawn yet. 0 with no frames; null if not within FRAMES_SETTLE_MS. */
async function framesDrawn(page: Page): Promise<number | null> {
  const deadline = Date.now() + FRAMES_SETTLE_MS;
  while (Date.now() < deadline) {
    const at = (await page.evaluate(`(() => {
      const frames = [...document.querySelectorAll('[data-testid="output-frame-iframe"]')];
      if (!frames.length) return 0;
      return frames.every((f) => f.dataset.drawn === "true") ? performance.now() / 1000 : null;
    })()`)) as number | null;
    if (at !== null) return Math.round(at * 1000) / 1000;
    await new Promise((r) => setTimeout(r, 100));
  }
  return null;
}

/** The page's JS heap after a GC, and that of its out-of-process frames (sandboxed frames may get
 * renderers of their own), counted once per V8 isolate. */
async function heapAfterGc(page: Page): Promise<Pick<InteractiveFigures, "heap_mb" | "frames_heap_mb" | "dom_nodes">> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Performance.enable");
  await cdp.send("HeapProfiler.collectGarbage");
  const { metrics } = await cdp.send("Performance.getMetrics");
  const metric = (name: string) => metrics.find((m) => m.name === name)?.value ?? 0;
  const { id: pageIsolate } = await cdp.send("Runtime.getIsolateId");
  const isolates = new Map<string, number>();
  for (const frame of page.frames()) {
    if (frame === page.mainFrame()) continue;
    // Playwright refuses a session for a frame that is part of its parent's (same renderer).
    const session = await page
      .context()
      .newCDPSession(frame)
      .catch(() => null);
    if (!session) continue;
    const { id } = await session.send("Runtime.getIsolateId");
    if (id === pageIsolate || isolates.has(id)) continue;
    await session.send("HeapProfiler.collectGarbage");
    isolates.set(id, (await session.send("Runtime.getHeapUsage")).usedSize);
  }
  const framesHeap = [...isolates.values()].reduce((a, b) => a + b, 0);
  return { heap_mb: metric("JSHeapUsedSize") / 2 ** 20, frames_heap_mb: framesHeap / 2 ** 20, dom_nodes: metric("Nodes") };
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
