// Issue 17, point 2: outputs that run code (plotly, vega-lite, JavaScript, HTML with scripts)
// render inside a sandboxed frame whose document has an opaque origin, through the real stack —
// and what runs there cannot reach the page, its cookie or the API.
import { expect, test, type Frame, type Locator } from "@playwright/test";
import { cells, newNotebook, overlapsWhile, runInCell, runInLastCell, waitIdle } from "./helpers";

/** The cell's output frame, once its document is there. */
async function frameOf(cell: Locator): Promise<Frame> {
  const iframe = cell.getByTestId("output-frame-iframe");
  await expect(iframe).toHaveAttribute("sandbox", "allow-scripts");
  const frame = await (await iframe.elementHandle())!.contentFrame();
  return frame!;
}

const PLOTLY = `from IPython.display import display
display({"application/vnd.plotly.v1+json": {"data": [{"type": "bar", "x": ["a", "b", "c"], "y": [3, 1, 2]}], "layout": {"title": {"text": "bars"}}}, "text/plain": "fig"}, raw=True)`;

test("a plotly bundle renders its chart inside a frame of another origin, sized to it", async ({ page }) => {
  await newNotebook(page, `plotly ${Date.now()}`);
  const cell = await runInLastCell(page, PLOTLY);
  await expect(cell.getByTestId("output-text")).toHaveCount(0);
  const chart = cell.frameLocator('[data-testid="output-frame-iframe"]').locator("svg.main-svg").first();
  await expect(chart).toBeVisible({ timeout: 30_000 });
  await expect(cell.frameLocator('[data-testid="output-frame-iframe"]').locator(".bars path")).toHaveCount(3);
  const frame = await frameOf(cell);
  expect(await frame.evaluate(() => origin)).toBe("null");
  expect(await page.evaluate(() => origin)).not.toBe("null");
  // The frame reported its height (a plotly figure is 450 px by default), not the placeholder's.
  await expect.poll(async () => (await cell.getByTestId("output-frame-iframe").boundingBox())!.height).toBeGreaterThan(400);
});

test("plotly express from the base image: fig.show() is plotly's own bundle (PLOTLY_RENDERER), drawn in a frame", async ({ page }) => {
  await newNotebook(page, `px ${Date.now()}`);
  const cell = await runInLastCell(page, "import plotly.express as px\npx.bar(x=['a', 'b', 'c'], y=[3, 1, 2]).show()");
  await expect(cell.getByTestId("output-frame")).toHaveAttribute("data-mime", "application/vnd.plotly.v1+json");
  await expect(cell.getByTestId("output-text")).toHaveCount(0);
  await expect(cell.frameLocator('[data-testid="output-frame-iframe"]').locator(".bars path")).toHaveCount(3, { timeout: 30_000 });
});

test("a vega-lite bundle renders", async ({ page }) => {
  await newNotebook(page, `vega ${Date.now()}`);
  const spec = {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    data: {
      values: [
        { a: "A", b: 28 },
        { a: "B", b: 55 },
        { a: "C", b: 43 },
      ],
    },
    mark: "bar",
    encoding: { x: { field: "a", type: "nominal" }, y: { field: "b", type: "quantitative" } },
  };
  const cell = await runInLastCell(
    page,
    `import json\nfrom IPython.display import display\ndisplay({"application/vnd.vegalite.v5+json": json.loads('${JSON.stringify(spec)}'), "text/plain": "chart"}, raw=True)`,
  );
  const inFrame = cell.frameLocator('[data-testid="output-frame-iframe"]');
  await expect(inFrame.locator(".vega-embed canvas, .vega-embed svg").first()).toBeVisible({ timeout: 30_000 });
  expect(await (await frameOf(cell)).evaluate(() => origin)).toBe("null");
});

/** JavaScript that tries what a hostile output would, and records what each attempt got. */
function hostileJs(gateway: string): string {
  return `
const results = {};
const attempt = async (name, f) => {
  try { results[name] = "got: " + String(await f()); } catch (e) { results[name] = "failed: " + (e && e.name); }
};
(async () => {
  await attempt("parentDom", () => parent.document.body.innerHTML.length);
  await attempt("parentWrite", () => { parent.document.body.innerHTML = "pw" + "ned"; return "written"; });
  await attempt("fetchRelative", () => fetch("/api/notebooks").then((r) => r.status));
  await attempt("fetchAbsolute", () => fetch("${gateway}/api/notebooks", { credentials: "include" }).then((r) => r.status));
  await attempt("xhr", () => new Promise((ok, no) => { const x = new XMLHttpRequest(); x.open("GET", "${gateway}/api/auth/me"); x.onload = () => ok(x.status); x.onerror = () => no(new TypeError("xhr")); x.send(); }));
  await attempt("cookie", () => document.cookie);
  await attempt("storage", () => localStorage.length);
  window.__results = results;
  element.textContent = "hostile done";
})();`;
}

test("hostile JavaScript and script HTML run only in their frame: no page, no API, no cookie", async ({ page }) => {
  await newNotebook(page, `hostile ${Date.now()}`);
  const gateway = new URL(page.url()).origin;
  const titleBefore = await page.title();

  const js = await runInLastCell(
    page,
    `from IPython.display import Javascript, display\ndisplay(Javascript(r'''${hostileJs(gateway)}'''))`,
  );
  await expect(js.frameLocator('[data-testid="output-frame-iframe"]').getByText("hostile done")).toBeVisible({ timeout: 30_000 });
  const frame = await frameOf(js);
  expect(await frame.evaluate(() => origin)).toBe("null");
  const results = (await frame.evaluate(() => (window as unknown as { __results: Record<string, string> }).__results)) ?? {};
  expect(Object.keys(results).sort()).toEqual(["cookie", "fetchAbsolute", "fetchRelative", "parentDom", "parentWrite", "storage", "xhr"]);
  test.info().annotations.push({ type: "attempts", description: JSON.stringify(results) });
  for (const [name, got] of Object.entries(results)) expect(`${name}: ${got}`).toMatch(/^\w+: failed: /);

  const html = await runInLastCell(
    page,
    `from IPython.display import HTML\nHTML('<b id="made-bold">bold</b><script>try { parent.document.title = "pw" + "ned"; document.getElementById("made-bold").dataset.got = "wrote"; } catch (e) { document.getElementById("made-bold").dataset.got = e.name; }</script>')`,
  );
  const bold = html.frameLocator('[data-testid="output-frame-iframe"]').locator("#made-bold");
  await expect(bold).toHaveText("bold");
  await expect(bold).toHaveAttribute("data-got", "SecurityError");

  // The page is as it was (the marker is built at run time: the cells' sources hold its halves).
  await waitIdle(page);
  expect(await page.title()).toBe(titleBefore);
  await expect(page.getByTestId("notebook-title")).toBeVisible();
  expect(await page.evaluate(() => document.body.innerHTML.includes("pwned"))).toBe(false);
  expect(await page.evaluate(() => (window as unknown as { __results?: unknown }).__results)).toBeUndefined();
});

test("a frame cell and the cell after it never overlap as the frame grows", async ({ page }) => {
  await newNotebook(page, `frame layout ${Date.now()}`);
  const overlaps = await overlapsWhile(page, async () => {
    await runInCell(cells(page).first(), PLOTLY);
    await runInCell(cells(page).nth(1), "print('after the frame')");
    await expect(cells(page).first().frameLocator('[data-testid="output-frame-iframe"]').locator("svg.main-svg").first()).toBeVisible({
      timeout: 60_000,
    });
    await expect(cells(page).nth(1)).toContainText("after the frame", { timeout: 60_000 });
    await waitIdle(page);
    await page.waitForTimeout(800);
  });
  expect(overlaps).toEqual([]);
  const frameBox = (await cells(page).first().getByTestId("output-frame-iframe").boundingBox())!;
  const [a, b] = await Promise.all([cells(page).first().boundingBox(), cells(page).nth(1).boundingBox()]);
  expect(frameBox.height).toBeGreaterThan(400);
  expect(a!.y + a!.height).toBeGreaterThanOrEqual(frameBox.y + frameBox.height);
  expect(a!.y + a!.height).toBeLessThanOrEqual(b!.y + 1);
});
