// Issue 13, live collaboration: the owner and a teammate they shared the notebook with as editor
// type into the same cell at once and end with the same text holding both inputs, each sees the
// other's cursor with a name on it, each page shows who is viewing, and the teammate's run shows
// live on the owner's page.
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
      for (const extra of Array.from(copy.querySelectorAll(".cm-ySelectionCaret, .cm-ySelectionInfo, .cm-widgetBuffer"))) extra.remove();
      return Array.from(copy.querySelectorAll(".cm-line"))
        .map((line) => (line.textContent ?? "").replace(/[\u2060\u00a0]/g, (c: string) => (c === "\u00a0" ? " " : "")))
        .join("\n");
    });
}

/** A teammate who signed up with an invite, in a browser of their own, made an editor of `id`. */
async function teammateEditor(browser: Browser, request: import("@playwright/test").APIRequestContext, id: string): Promise<Page> {
  const invite = await (await request.post("/api/invites", { headers: auth(), data: {} })).json();
  const page = await (await browser.newContext()).newPage();
  await page.goto(invite.url);
  await page.getByTestId("signup-name").fill("Ada Lovelace");
  // Unique per run: other specs sign teammates up in the same database.
  const email = `ada-collab-${Date.now()}@example.com`;
  await page.getByTestId("signup-email").fill(email);
  await page.getByTestId("signup-password").fill("analytical engine");
  await page.getByTestId("signup-submit").click();
  await expect(page.getByTestId("new-notebook")).toBeVisible();
  const granted = await request.post(`/api/notebooks/${id}/grants`, {
    headers: auth(),
    data: { email, role: "editor" },
  });
  expect(granted.status()).toBeLessThan(300);
  return page;
}

async function open(page: Page, id: string): Promise<void> {
  await page.goto(`/notebook/?id=${id}`);
  await expect(cells(page).first().locator(".cm-content")).toBeVisible();
}

test("owner and teammate typing in the same cell at once end with the same text holding both inputs, see each other's cursor, and see each other's runs", async ({
  browser,
  request,
}) => {
  const res = await request.post("/api/notebooks", { headers: auth(), data: { title: "Together" } });
  const id = (await res.json()).id as string;
  const a = await signedInPage(browser);
  const b = await teammateEditor(browser, request, id);
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

  // The teammate runs the cell; the owner's page shows its output as it comes, and who ran it.
  await editorB.click();
  await b.keyboard.press("ControlOrMeta+a");
  await b.keyboard.insertText("print('run by ' + 'Ada')");
  await expect.poll(() => textOf(a)).toBe("print('run by ' + 'Ada')");
  await cells(b).first().getByTestId("run-this-cell").click();
  await expect(cells(a).first().locator(".cellar-outputs")).toContainText("run by Ada", { timeout: 90_000 });
  await expect(cells(a).first().getByTestId("last-run-by")).toHaveText("Last run by Ada Lovelace");
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
