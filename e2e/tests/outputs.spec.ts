// Issue 5, part 3: every output type a Jupyter user meets, produced by real kernel code and
// rendered in Chromium — and nothing a kernel sends may run script in our page.
import { test, expect } from "@playwright/test";
import { cells, lastCell, newNotebook, runInCell, runInLastCell } from "./helpers";

test("display updates and clear_output(wait=True) change outputs in place", async ({ page }) => {
  await newNotebook(page, "Updates");

  const updated = await runInLastCell(
    page,
    "from IPython.display import display\nimport time\nh = display('a', display_id=True)\ntime.sleep(0.5)\nh.update('b')",
  );
  await expect(updated.getByTestId("output-text")).toHaveText("'b'");
  await expect(updated.getByTestId("output-text")).toHaveCount(1);

  // A display made in one cell and updated from another changes where it is shown.
  const shown = await runInLastCell(page, "display('before', display_id='shared');");
  await expect(shown.getByTestId("output-text")).toHaveText("'before'");
  const updater = await runInLastCell(page, "from IPython.display import update_display\nupdate_display('after', display_id='shared')");
  await expect(shown.getByTestId("output-text")).toHaveText("'after'");
  await expect(updater.getByTestId("cell-output")).toBeEmpty();

  // A clear_output loop (how IPython progress displays redraw) leaves only its last frame.
  const frames = await lastCell(page);
  await runInCell(
    frames,
    "from IPython.display import clear_output\nimport time\nfor i in range(6):\n    clear_output(wait=True)\n    print(f'step {i}')\n    time.sleep(0.4)",
  );
  await expect(frames.getByTestId("output-stream")).toHaveText(/^step [1-4]\n$/);
  await expect(frames.getByTestId("output-stream")).toHaveText("step 5\n", { timeout: 30_000 });
  await expect(frames.getByTestId("output-stream")).toHaveCount(1);

  // A hand-written \r progress bar (tqdm's text mode) redraws one line.
  const bar = await runInLastCell(
    page,
    "import sys, time\nfor i in range(0, 101, 25):\n    sys.stderr.write(f'\\rprogress {i:3d}%|' + '#' * (i // 10))\n    sys.stderr.flush()\n    time.sleep(0.2)\nsys.stderr.write('\\n')",
  );
  await expect(bar.getByTestId("output-stream")).toHaveText("progress 100%|##########\n");

  // All of it is what a reload shows, too.
  await expect(page.getByTestId("save-status")).toHaveText("Saved", { timeout: 10_000 });
  await page.reload();
  await expect(cells(page).first().getByTestId("output-text")).toHaveText("'b'");
  await expect(cells(page).nth(3).getByTestId("output-stream")).toHaveText("step 5\n");
});

test("rich outputs: JSON tree, LaTeX, markdown, images, ANSI, sanitised HTML and SVG", async ({ page }) => {
  await newNotebook(page, "Rich outputs");

  const json = await runInLastCell(page, "from IPython.display import JSON\nJSON({'name': 'cellar', 'nested': {'deep': [1, 2, 3]}})");
  const tree = json.getByTestId("output-json");
  await expect(tree).toContainText("cellar");
  await expect(tree).not.toContainText("deep");
  await tree.getByText("nested:").click();
  await expect(tree).toContainText("deep");

  const math = await runInLastCell(page, "from IPython.display import Math\nMath(r'\\frac{a}{b} + \\sqrt{x}')");
  await expect(math.getByTestId("output-latex").locator(".katex .mfrac")).toBeVisible();
  // What is shown is typeset; the TeX source lives only in KaTeX's hidden MathML copy.
  await expect(math.getByTestId("output-latex").locator(".katex-html")).not.toContainText("\\frac");

  const md = await runInLastCell(page, "from IPython.display import Markdown\nMarkdown('**bold** and $x^2$')");
  await expect(md.getByTestId("output-markdown").locator("strong")).toHaveText("bold");
  await expect(md.getByTestId("output-markdown").locator(".katex")).toBeVisible();

  const jpeg = await runInLastCell(
    page,
    [
      "import io",
      "import matplotlib.pyplot as plt",
      "from IPython.display import Image, display",
      "fig, ax = plt.subplots(); ax.plot([1, 3, 2])",
      "buf = io.BytesIO(); fig.savefig(buf, format='jpg'); plt.close(fig)",
      "display(Image(buf.getvalue(), format='jpeg'))",
    ].join("\n"),
  );
  const img = jpeg.getByTestId("output-image");
  await expect(img).toHaveAttribute("src", /^data:image\/jpeg;base64,/);
  await expect.poll(() => img.evaluate((el: HTMLImageElement) => el.naturalWidth)).toBeGreaterThan(100);

  const png = await runInLastCell(page, "import matplotlib.pyplot as plt\nplt.plot([1, 2]); plt.show()");
  await expect(png.getByTestId("output-image")).toHaveAttribute("src", /^data:image\/png;base64,/);

  const ansi = await runInLastCell(page, "print('\\x1b[31mred\\x1b[0m and \\x1b[1;32mgreen\\x1b[0m')");
  await expect(ansi.getByTestId("output-stream")).toHaveText("red and green\n");
  await expect(ansi.locator(".ansi-red-fg")).toHaveText("red");
  await expect(ansi.locator(".ansi-green-fg")).toHaveText("green");

  const html = await runInLastCell(
    page,
    'from IPython.display import HTML\nHTML(\'<b id="made-bold">bold</b><script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">\')',
  );
  // HTML with scripts is shown in the sandboxed output frame (output-frames.spec.ts): its script
  // and handler run there, against the frame's own window, never in the page.
  await expect(html.frameLocator('[data-testid="output-frame-iframe"]').locator("#made-bold")).toHaveText("bold");
  await expect(html.locator("script")).toHaveCount(0);

  const svg = await runInLastCell(
    page,
    'from IPython.display import SVG\nSVG(\'<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40" onload="window.__pwned = 3"><circle cx="20" cy="20" r="15" fill="red"/><script>window.__pwned = 4</script></svg>\')',
  );
  await expect(svg.getByTestId("output-svg").locator("circle")).toBeVisible();
  await expect(svg.locator("script")).toHaveCount(0);

  const df = await runInLastCell(page, "import pandas as pd\npd.DataFrame({'x': [1, 2], 'y': ['a', 'b']})");
  await expect(df.getByTestId("output-html").locator("table td").first()).toBeVisible();

  // Nothing the kernel sent ran in our page.
  await page.waitForTimeout(500);
  expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
});

test("long output is cut to its last lines, with a way to see the rest", async ({ page }) => {
  await newNotebook(page, "Long output");
  const cell = await runInLastCell(page, "for i in range(12_000): print(f'line {i}')");
  const stream = cell.getByTestId("output-stream");
  await expect(cell.getByTestId("output-tail-note")).toHaveText("Showing the last 5,000 of 12,000 lines");
  await expect(stream).toContainText("line 11999");
  await expect(stream).not.toContainText("line 0\n");
  await cell.getByTestId("output-show-more").click();
  await expect(cell.getByTestId("output-tail-note")).toHaveText("Showing the last 10,000 of 12,000 lines");
  await cell.getByTestId("output-show-all").click();
  await expect(cell.getByTestId("output-tail-note")).toHaveCount(0);
  await expect(stream).toContainText("line 0\nline 1\n");
});
