// Issue 5, part 1: the editor answers a Jupyter user's hands — command and edit mode keys, cell
// clipboard, undo of deletion, multi-select, drag to reorder, find and replace, markdown with math.
import { test, expect, type Page, type Locator } from "@playwright/test";
import { cells, newNotebook, setSource } from "./helpers";

const mode = (page: Page) => page.getByTestId("notebook-mode");
const activeCell = (page: Page) => page.locator('[data-testid="cell"][data-active="true"]');
const source = (cell: Locator) => cell.locator(".cm-content");

/** Sources of all code cells and markdown cells in editing, in order. */
async function sources(page: Page): Promise<string[]> {
  return cells(page).evaluateAll((els) =>
    els.map((el) => (el.querySelector(".cm-content") as HTMLElement | null)?.innerText ?? `md:${el.textContent}`),
  );
}

test("command mode and edit mode keys work as in JupyterLab", async ({ page }) => {
  await newNotebook(page, "Keys");
  const first = cells(page).first();
  await setSource(first, "x = 1");
  await expect(mode(page)).toHaveAttribute("data-mode", "edit");

  // Esc leaves the editor; the cell stays selected with its marker.
  await page.keyboard.press("Escape");
  await expect(mode(page)).toHaveAttribute("data-mode", "command");
  await expect(first).toHaveAttribute("data-active", "true");
  await expect(first).toHaveAttribute("data-selected", "true");
  await expect(first).toHaveCSS("border-left-color", "rgb(31, 111, 235)");

  // B inserts below and selects it; Enter edits it.
  await page.keyboard.press("b");
  await expect(cells(page)).toHaveCount(2);
  await expect(cells(page).nth(1)).toHaveAttribute("data-active", "true");
  await expect(mode(page)).toHaveAttribute("data-mode", "command");
  await page.keyboard.press("Enter");
  await expect(mode(page)).toHaveAttribute("data-mode", "edit");
  await page.keyboard.insertText("y = 2");
  await page.keyboard.press("Escape");
  await expect(source(cells(page).nth(1))).toHaveText("y = 2");

  // A inserts above; M makes it markdown, which renders math and highlighted code.
  await page.keyboard.press("a");
  await expect(cells(page)).toHaveCount(3);
  const md = cells(page).nth(1);
  await expect(md).toHaveAttribute("data-active", "true");
  await page.keyboard.press("m");
  await expect(md).toHaveAttribute("data-cell-type", "markdown");
  await page.keyboard.press("Enter");
  await page.keyboard.insertText("## Energy $E = mc^2$\n\n$$\\int_0^1 x\\,dx$$\n\n```python\ndef f():\n    return 1\n```");
  await page.keyboard.press("Shift+Enter");
  const rendered = md.getByTestId("markdown-rendered");
  await expect(rendered.locator("h2 .katex")).toBeVisible();
  await expect(rendered.locator(".katex-display")).toBeVisible();
  await expect(rendered.locator("pre code .hljs-keyword").first()).toHaveText("def");
  // Shift+Enter moved the selection to the next cell, in command mode.
  await expect(cells(page).nth(2)).toHaveAttribute("data-active", "true");
  await expect(mode(page)).toHaveAttribute("data-mode", "command");

  // Y turns a markdown cell back into code, M into markdown again.
  await page.keyboard.press("k");
  await expect(md).toHaveAttribute("data-active", "true");
  await page.keyboard.press("y");
  await expect(md).toHaveAttribute("data-cell-type", "code");
  await page.keyboard.press("m");
  await expect(md).toHaveAttribute("data-cell-type", "markdown");

  // D D deletes; Z brings the cell back where it was.
  await page.keyboard.press("d");
  await page.keyboard.press("d");
  await expect(cells(page)).toHaveCount(2);
  await page.keyboard.press("z");
  await expect(cells(page)).toHaveCount(3);
  await expect(cells(page).nth(1)).toHaveAttribute("data-cell-type", "markdown");

  // C, V: a copy lands below; X cuts; Shift+V pastes above.
  await page.keyboard.press("ArrowUp");
  await expect(first).toHaveAttribute("data-active", "true");
  await page.keyboard.press("c");
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("v");
  await expect(cells(page)).toHaveCount(4);
  await expect(source(cells(page).nth(3))).toHaveText("x = 1");
  await page.keyboard.press("x");
  await expect(cells(page)).toHaveCount(3);
  await page.keyboard.press("k");
  await page.keyboard.press("k");
  await expect(first).toHaveAttribute("data-active", "true");
  await page.keyboard.press("Shift+V");
  await expect(cells(page)).toHaveCount(4);
  await expect(source(cells(page).first())).toHaveText("x = 1");
  await expect(cells(page).first()).toHaveAttribute("data-active", "true");

  // Shift+Down selects a range; D D deletes all of it; Z restores all of it.
  await page.keyboard.press("Shift+ArrowDown");
  await page.keyboard.press("Shift+ArrowDown");
  await expect(page.locator('[data-testid="cell"][data-selected="true"]')).toHaveCount(3);
  await page.keyboard.press("d");
  await page.keyboard.press("d");
  await expect(cells(page)).toHaveCount(1);
  await expect(source(cells(page).first())).toHaveText("y = 2");
  await page.keyboard.press("z");
  await expect(cells(page)).toHaveCount(4);
  expect((await sources(page))[0]).toBe("x = 1");

  // Shift+Enter in command mode runs the selected cell.
  await page.keyboard.press("Escape");
  await cells(page).first().getByTestId("execution-count").click();
  await page.keyboard.press("Control+Enter");
  await expect(cells(page).first().getByTestId("execution-count")).toHaveText("[1]");

  // Ctrl+S saves at once, without waiting for the autosave's debounce.
  await activeCell(page).locator(".cm-content").click();
  await page.keyboard.insertText("  # saved now");
  await expect(page.getByTestId("save-status")).toHaveText("Unsaved changes");
  await page.keyboard.press("Control+s");
  // Inside the autosave's half-second debounce: Ctrl+S had the gateway store the cells at once.
  await expect(page.getByTestId("save-status")).toHaveText("Saved", { timeout: 450 });
  await page.reload();
  await expect(source(cells(page).first())).toHaveText("x = 1  # saved now");
  await expect(cells(page)).toHaveCount(4);
});

test("cells are reordered by dragging their handle, and the order is saved", async ({ page }) => {
  await newNotebook(page, "Drag");
  await setSource(cells(page).first(), "first = 1");
  for (const code of ["second = 2", "third = 3"]) {
    await page.keyboard.press("Escape");
    await page.keyboard.press("b");
    await page.keyboard.press("Enter");
    await page.keyboard.insertText(code);
  }
  await page.keyboard.press("Escape");
  expect(await sources(page)).toEqual(["first = 1", "second = 2", "third = 3"]);

  const handle = cells(page).nth(2).getByTestId("drag-handle");
  await cells(page).nth(2).hover();
  const from = (await handle.boundingBox())!;
  const to = (await cells(page).first().boundingBox())!;
  await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
  await page.mouse.down();
  await page.mouse.move(from.x + from.width / 2, from.y - 10, { steps: 5 });
  await page.mouse.move(from.x + from.width / 2, to.y + 5, { steps: 15 });
  await page.mouse.up();
  await expect.poll(() => sources(page)).toEqual(["third = 3", "first = 1", "second = 2"]);

  await expect(page.getByTestId("save-status")).toHaveText("Saved", { timeout: 10_000 });
  await page.reload();
  await expect.poll(() => sources(page)).toEqual(["third = 3", "first = 1", "second = 2"]);
});

test("find and replace works across all cells", async ({ page }) => {
  await newNotebook(page, "Find");
  await setSource(cells(page).first(), "value = 1\nprint(value)");
  await page.keyboard.press("Escape");
  await page.keyboard.press("b");
  await page.keyboard.press("Enter");
  await page.keyboard.insertText("VALUE_2 = value + 1");
  await page.keyboard.press("Escape");

  await page.keyboard.press("Control+f");
  const bar = page.getByTestId("find-bar");
  await expect(bar).toBeVisible();
  await page.getByTestId("find-input").fill("value");
  await expect(page.getByTestId("find-count")).toHaveText("1 of 4");
  await expect(page.locator(".cellar-search-match")).toHaveCount(4);
  await expect(page.locator(".cellar-search-current")).toHaveCount(1);
  await page.getByTestId("find-input").press("Enter");
  await expect(page.getByTestId("find-count")).toHaveText("2 of 4");

  // Match case narrows it down.
  await page.getByTestId("find-case").check();
  await expect(page.getByTestId("find-count")).toHaveText("1 of 3");
  await page.getByTestId("find-case").uncheck();

  await page.getByTestId("replace-input").fill("total");
  await page.getByTestId("replace-one").click();
  await expect(page.getByTestId("find-count")).toHaveText(/of 3$/);
  await page.getByTestId("replace-all").click();
  await expect(page.getByTestId("find-count")).toHaveText("No results");
  expect(await sources(page)).toEqual(["total = 1\nprint(total)", "total_2 = total + 1"]);

  // A bad regex says so instead of failing silently.
  await page.getByTestId("find-regex").check();
  await page.getByTestId("find-input").fill("(");
  await expect(page.getByTestId("find-count")).toHaveText("Invalid regex");

  await page.getByTestId("find-input").press("Escape");
  await expect(bar).toBeHidden();
  await expect(page.locator(".cellar-search-match")).toHaveCount(0);
});
