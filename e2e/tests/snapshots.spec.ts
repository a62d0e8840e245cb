// Issue 4 through the product: after an image's first kernel, new kernels are restored from its
// warm snapshot (numpy, pandas, matplotlib and scipy already imported) and each one is still a
// session of its own.
import { test, expect, type Page } from "@playwright/test";
import { cells, newNotebook, runInCell } from "./helpers";

const PROBE = [
  "import sys, json, socket, random, time, numpy",
  "print(json.dumps({'warm': 'pandas' in sys.modules, 'host': socket.gethostname(), 'r': random.random(),",
  "  'n': float(numpy.random.rand()), 't': time.time(), 'leaked': [n for n in ('pandas', 'scipy', 'matplotlib') if n in dir()]}))",
].join("\n");

interface Probe {
  warm: boolean;
  host: string;
  r: number;
  n: number;
  t: number;
  leaked: string[];
}

async function probe(page: Page, title: string): Promise<Probe & { count: string | null }> {
  await newNotebook(page, title);
  const cell = cells(page).first();
  await runInCell(cell, PROBE);
  await expect(cell.getByTestId("cell-output")).toContainText("warm", { timeout: 60_000 });
  const out = JSON.parse((await cell.getByTestId("cell-output").textContent())!.trim()) as Probe;
  // The output shows a moment before the run's reply gives the cell its count ("[*]" until then).
  await expect(cell.getByTestId("execution-count")).toHaveText(/^\[\d+\]$/, { timeout: 30_000 });
  return { ...out, count: await cell.getByTestId("execution-count").textContent() };
}

test("new kernels come from the warm snapshot, each with its own hostname, random state and clock", async ({ page }) => {
  // The first kernel of the image may boot cold; the worker then makes the snapshot in the
  // background, and kernels started after that restore it.
  const warm: Array<Probe & { count: string | null }> = [];
  const deadline = Date.now() + 120_000;
  for (let i = 0; warm.length < 2 && Date.now() < deadline; i++) {
    const p = await probe(page, `warm snapshot ${i}`);
    if (p.warm) warm.push(p);
    else await page.waitForTimeout(3000);
  }
  expect(warm).toHaveLength(2);
  const [a, b] = warm;
  expect(a.host).not.toBe(b.host);
  expect(a.r).not.toBe(b.r);
  expect(a.n).not.toBe(b.n);
  for (const p of warm) {
    expect(Math.abs(p.t - Date.now() / 1000)).toBeLessThan(30);
    expect(p.leaked).toEqual([]);
    expect(p.count).toBe("[1]");
  }
});
