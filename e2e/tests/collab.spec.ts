// Issue 13, live collaboration: two browsers (two contexts of the owner until sharing lands; then
// owner and teammate) type into the same cell at once and end with the same text holding both
// inputs, each sees the other's cursor with a name on it, and each page shows who is viewing.
// Real stack: browser, gateway, SQLite; the gateway's copy is read back with the HTTP API.
import { test, expect, type Browser, type Page } from "@playwright/test";
import { cells, token } from "./helpers";

const auth = () => ({ authorization: `Bearer ${token()}` });

async function signedInPage(browser: Browser): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`/?token=${token()}`);
  await expect(page.getByTestId("new-notebook")).toBeVisible();
  return page;
}

/** The editor's text as the document has it: without the others' cursors and name labels, which
 * y-codemirror.next draws inside the text. */
async function textOf(page: Page): Promise<string> {
  return cells(page)
    .first()
    .locator(".cm-content")
    .evaluate((el) => {
      const copy = el.cloneNode(true) as HTMLElement;
      for (const extra of copy.querySelectorAll(".cm-ySelectionCaret, .cm-ySelectionInfo, .cm-widgetBuffer")) extra.remove();
      return [...copy.querySelectorAll(".cm-line")]
        .map((line) => (line.textContent ?? "").replace(/[\u2060\u00a0]/g, (c) => (c === "\u00a0" ? " " : "")))
        .join("\n");
    });
}

async function open(page: Page, id: string): Promise<void> {
  await page.goto(`/notebook/?id=${id}`);
  await expect(cells(page).first().locator(".cm-content")).toBeVisible();
}

test("two people typing in the same cell at once end with the same text holding both inputs, and see each other's cursor", async ({
  browser,
  request,
}) => {
  const res = await request.post("/api/notebooks", { headers: auth(), data: { title: "Together" } });
  const id = (await res.json()).id as string;
  const a = await signedInPage(browser);
  const b = await signedInPage(browser);
  await open(a, id);
  await open(b, id);
  await expect(a.getByTestId("presence-avatar")).toHaveCount(2);
  await expect(b.getByTestId("presence-avatar")).toHaveCount(2);

  const editorA = cells(a).first().locator(".cm-content");
  const editorB = cells(b).first().locator(".cm-content");
  await editorA.click();
  await a.keyboard.insertText("left = 1\n");
  await expect.poll(() => textOf(b)).toBe("left = 1\n");
  await editorB.click();
  await b.keyboard.press("ControlOrMeta+End");
  // Both type at once, each at their own end of the cell.
  await Promise.all([a.keyboard.type("# from A", { delay: 15 }), b.keyboard.type("# from B", { delay: 15 })]);

  await expect.poll(async () => (await textOf(a)) === (await textOf(b)), { timeout: 10_000 }).toBe(true);
  const text = await textOf(a);
  expect(text).toContain("# from A");
  expect(text).toContain("# from B");
  expect(text).toContain("left = 1");

  // The other's cursor, with the name it belongs to.
  await expect(a.locator(".cm-ySelectionCaret").first()).toBeAttached();
  await expect(a.locator(".cm-ySelectionInfo").first()).toHaveText(/\S/);
  await expect(b.locator(".cm-ySelectionInfo").first()).toHaveText(/\S/);

  // The gateway has the merged text (the Cell table, where export and runs read it).
  await expect
    .poll(async () => (await (await request.get(`/api/notebooks/${id}`, { headers: auth() })).json()).cells[0].source, { timeout: 5_000 })
    .toBe(text);
});

test("undo takes back only your own typing, not the other person's", async ({ browser, request }) => {
  const res = await request.post("/api/notebooks", { headers: auth(), data: { title: "Undo is mine" } });
  const id = (await res.json()).id as string;
  const a = await signedInPage(browser);
  const b = await signedInPage(browser);
  await open(a, id);
  await open(b, id);
  const editorA = cells(a).first().locator(".cm-content");
  const editorB = cells(b).first().locator(".cm-content");
  await editorA.click();
  await a.keyboard.insertText("mine");
  await expect.poll(() => textOf(b)).toBe("mine");
  await editorB.click();
  await b.keyboard.press("ControlOrMeta+End");
  await b.keyboard.insertText(" theirs");
  await expect.poll(() => textOf(a)).toBe("mine theirs");
  await editorA.click();
  await a.keyboard.press("ControlOrMeta+z");
  await expect.poll(() => textOf(a)).toBe(" theirs");
  await expect.poll(() => textOf(b)).toBe(" theirs");
});
