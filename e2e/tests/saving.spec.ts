// Issue 5, item 8: every edit reaches the gateway within a second or two, a closed tab or a lost
// network loses nothing, the page says whether it is saved, and offline edits sync when the network
// returns, merging with what others saved meanwhile (issue 13: cells are a shared Yjs document,
// kept in this browser's IndexedDB until the gateway has them), through the real stack (browser,
// gateway, SQLite). The gateway's copy is read with the
// HTTP API, outside the browser, so "saved" means saved where another browser would see it.
import { test, expect, type APIRequestContext, type Page } from "@playwright/test";
import { cells, login, setSource, token } from "./helpers";

const auth = () => ({ authorization: `Bearer ${token()}` });

async function createNotebook(request: APIRequestContext, title: string): Promise<string> {
  const res = await request.post("/api/notebooks", { headers: auth(), data: { title } });
  expect(res.status()).toBe(201);
  return (await res.json()).id;
}

async function savedSources(request: APIRequestContext, id: string): Promise<string[]> {
  const res = await request.get(`/api/notebooks/${id}`, { headers: auth() });
  return (await res.json()).cells.map((c: { source: string }) => c.source);
}

async function open(page: Page, id: string): Promise<void> {
  await page.goto(`/notebook/?id=${id}`);
  await expect(cells(page).first()).toBeVisible();
}

const status = (page: Page) => page.getByTestId("save-status");

/** Keeps every text the save status shows from now on in `window.savedStatuses`. */
async function recordStatuses(page: Page): Promise<void> {
  await page.evaluate(() => {
    const shown: string[] = [];
    (window as unknown as { savedStatuses: string[] }).savedStatuses = shown;
    const el = document.querySelector('[data-testid="save-status"]')!;
    new MutationObserver(() => shown.push(el.textContent ?? "")).observe(el, { childList: true, characterData: true, subtree: true });
  });
}

/** Closes the tab as a user would (unload handlers run) and waits until it is gone. */
async function closeTab(page: Page): Promise<void> {
  await Promise.all([page.waitForEvent("close"), page.close({ runBeforeUnload: true })]);
}

test("an edit reaches the gateway within two seconds, and the page says when it is saved", async ({ page, request }) => {
  await login(page);
  const id = await createNotebook(request, "Saving quickly");
  await open(page, id);
  await expect(status(page)).toHaveText("Saved");
  await recordStatuses(page);
  await setSource(cells(page).first(), "total = 41 + 1");
  const typedAt = Date.now();
  await expect.poll(() => savedSources(request, id), { timeout: 2_000, intervals: [100] }).toEqual(["total = 41 + 1"]);
  expect(Date.now() - typedAt).toBeLessThan(2_000);
  await expect(status(page)).toHaveText("Saved");
  // On a loaded machine the save can finish between two polls, so the page records what it showed.
  expect(await page.evaluate(() => (window as unknown as { savedStatuses: string[] }).savedStatuses)).toEqual(
    expect.arrayContaining([expect.stringMatching(/Unsaved changes|Saving…/)]),
  );
});

test("closing the tab right after typing loses nothing", async ({ page, context, request }) => {
  await login(page);
  const id = await createNotebook(request, "Closed in a hurry");
  await open(page, id);
  await setSource(cells(page).first(), "typed_just_before_closing = True");
  await closeTab(page); // well inside the half-second save delay
  await expect.poll(() => savedSources(request, id), { timeout: 5_000 }).toEqual(["typed_just_before_closing = True"]);
  const again = await context.newPage();
  await open(again, id);
  await expect(cells(again).first().locator(".cm-content")).toHaveText("typed_just_before_closing = True");
  await expect(status(again)).toHaveText("Saved");
});

test("edits made offline are shown as offline, kept, and synced when the network returns", async ({ page, context, request }) => {
  await login(page);
  const id = await createNotebook(request, "Offline then online");
  await open(page, id);
  await context.setOffline(true);
  await expect(status(page)).toHaveText("Offline");
  await setSource(cells(page).first(), "written_offline = 1");
  await page.getByTestId("add-code-cell").click();
  await page.keyboard.insertText("second_offline_cell = 2");
  // Several save attempts' worth of time: nothing reaches the gateway, nothing is lost.
  await page.waitForTimeout(2_500);
  await expect(status(page)).toHaveText("Offline");
  expect(await savedSources(request, id)).toEqual([""]);
  await context.setOffline(false);
  await expect(status(page)).toHaveText("Saved", { timeout: 10_000 });
  expect(await savedSources(request, id)).toEqual(["written_offline = 1", "second_offline_cell = 2"]);
});

/** Opens a new notebook, goes offline and types `code` into its first cell; returns its id. */
async function editOffline(page: Page, request: APIRequestContext, title: string, code: string): Promise<string> {
  await login(page);
  const id = await createNotebook(request, title);
  await open(page, id);
  await page.context().setOffline(true);
  await expect(status(page)).toHaveText("Offline");
  await setSource(cells(page).first(), code);
  await expect(status(page)).toHaveText("Offline");
  return id;
}

/** Kills the tab's renderer once this browser's copy of notebook `id` (the shared document in
 * IndexedDB, y-indexeddb) holds `text`: no unload code runs, so that copy is the only one of the
 * offline edits. Yjs stores inserted text as UTF-8 inside its updates, so the bytes show it. */
async function crashTab(page: Page, id: string, text: string): Promise<void> {
  await expect
    .poll(() =>
      page.evaluate(
        (name) =>
          new Promise<string>((resolve) => {
            const req = indexedDB.open(name);
            req.onsuccess = () => {
              const all = req.result.transaction("updates").objectStore("updates").getAll();
              all.onsuccess = () => resolve(all.result.map((u: Uint8Array) => new TextDecoder().decode(u)).join(""));
            };
            req.onerror = () => resolve("");
          }),
        `cellar:notebook:${id}`,
      ),
    )
    .toContain(text);
  const cdp = await page.context().newCDPSession(page);
  const crashed = page.waitForEvent("crash");
  void cdp.send("Page.crash").catch(() => {}); // answered only when the tab is closed
  await crashed;
  await page.close(); // a dead tab; the context cannot change its network while it is there
}

test("offline edits survive closing the tab, and are on the next visit and saved", async ({ page, context, request }) => {
  const id = await editOffline(page, request, "Offline and closed", "kept_in_this_browser = 'yes'");
  const again = await context.newPage(); // blank for now; the context lives on without the tab
  await closeTab(page);
  expect(await savedSources(request, id)).toEqual([""]);

  // Which copy brings the edits back is not asserted here: Chromium's emulated offline ends with the
  // tab, and a request of the closing tab now and then reaches the gateway once the network is back.
  // The crash test below, where no unload code runs, pins down the restore from this browser.
  await context.setOffline(false);
  await open(again, id);
  await expect(cells(again).first().locator(".cm-content")).toHaveText("kept_in_this_browser = 'yes'");
  await expect(status(again)).toHaveText("Saved", { timeout: 10_000 });
  expect(await savedSources(request, id)).toEqual(["kept_in_this_browser = 'yes'"]);
});

test("offline edits survive a crashed tab: the next visit merges them from this browser and saves them", async ({
  page,
  context,
  request,
}) => {
  const id = await editOffline(page, request, "Offline and crashed", "kept_in_this_browser = 'yes'");
  const again = await context.newPage();
  await crashTab(page, id, "kept_in_this_browser");
  expect(await savedSources(request, id)).toEqual([""]);

  await context.setOffline(false);
  await open(again, id);
  await expect(cells(again).first().locator(".cm-content")).toHaveText("kept_in_this_browser = 'yes'");
  await expect(status(again)).toHaveText("Saved", { timeout: 10_000 });
  expect(await savedSources(request, id)).toEqual(["kept_in_this_browser = 'yes'"]);
});

test("a save from elsewhere after offline edits merges with them: neither is lost", async ({ page, context, request }) => {
  const id = await editOffline(page, request, "Two writers", "mine = 'offline'");
  const cellId = (await (await request.get(`/api/notebooks/${id}`, { headers: auth() })).json()).cells[0].id;
  const again = await context.newPage();
  await crashTab(page, id, "mine = 'offline'"); // see the crash test above for why not closeTab
  // Another browser saves later (its clock and ours are the same machine's here).
  await new Promise((r) => setTimeout(r, 50));
  const put = await request.put(`/api/notebooks/${id}`, {
    headers: auth(),
    data: { cells: [{ id: cellId, cell_type: "code", source: "theirs = 'later'" }] },
  });
  expect(put.ok()).toBe(true);

  await context.setOffline(false);
  await open(again, id);
  const editor = cells(again).first().locator(".cm-content");
  await expect(editor).toContainText("theirs = 'later'");
  await expect(editor).toContainText("mine = 'offline'");
  await expect(status(again)).toHaveText("Saved", { timeout: 10_000 });
  const [merged] = await savedSources(request, id);
  expect(merged).toContain("theirs = 'later'");
  expect(merged).toContain("mine = 'offline'");
});
