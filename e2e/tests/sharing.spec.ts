// Issue 13, roles and links: the owner shares a notebook with a teammate (a second browser), who
// finds it under "Shared with me" and opens it; the owner makes them an editor, then removes
// them, and their reload finds nothing. A view link opens the notebook in a third, signed-out
// browser, read-only and offering nothing its role may not do, until the owner revokes it.
import { test, expect, type Browser } from "@playwright/test";
import { cells, login, token } from "./helpers";

const owner = { authorization: `Bearer ${token()}` };
// Unique per run: other specs sign teammates up in the same database.
const graceEmail = `grace-${Date.now()}@example.com`;

const newContext = (browser: Browser) => browser.newContext({ baseURL: test.info().project.use.baseURL });

test("the owner shares a notebook with a teammate and by a view link, changes and removes access, and revokes the link", async ({
  page,
  browser,
}) => {
  await login(page);
  const created = await page.request.post("/api/notebooks", { headers: owner, data: { title: "Team report" } });
  const { id } = await created.json();
  const saved = await page.request.put(`/api/notebooks/${id}`, {
    headers: owner,
    data: {
      cells: [
        { id: "c1", cell_type: "code", source: "print('numbers for the team')" },
        { id: "c2", cell_type: "code", source: "print('live', 6 * 7)" },
      ],
    },
  });
  expect(saved.status()).toBe(200);

  // A teammate signs up with an invite, in a browser of their own.
  const invite = await (await page.request.post("/api/invites", { headers: owner, data: {} })).json();
  const teammate = await (await newContext(browser)).newPage();
  await teammate.goto(invite.url);
  await teammate.getByTestId("signup-name").fill("Grace Hopper");
  await teammate.getByTestId("signup-email").fill(graceEmail);
  await teammate.getByTestId("signup-password").fill("compiler of compilers");
  await teammate.getByTestId("signup-submit").click();
  await expect(teammate.getByTestId("new-notebook")).toBeVisible();
  await expect(teammate.getByTestId("shared-notebooks")).toHaveCount(0);

  // The owner shares it with her as a viewer.
  await page.goto(`/notebook/?id=${id}`);
  await expect(cells(page).first()).toContainText("numbers for the team");
  await page.getByTestId("share-open").click();
  const dialog = page.getByTestId("share-dialog");
  await expect(dialog.getByTestId("share-owner")).toContainText("(you)");
  await dialog.getByTestId("share-email").fill(graceEmail);
  await dialog.getByTestId("share-role").selectOption("viewer");
  await dialog.getByTestId("share-add").click();
  const person = dialog.getByTestId("share-person");
  await expect(person).toContainText("Grace Hopper");
  await expect(person.getByTestId("share-person-role")).toHaveValue("viewer");

  // She finds it under "Shared with me", with its owner and her role, and opens it.
  await teammate.reload();
  const row = teammate.getByTestId("shared-notebook-row");
  await expect(row).toContainText("Team report");
  await expect(row.getByTestId("shared-notebook-owner")).toHaveText("Local user");
  await expect(row.getByTestId("shared-notebook-role")).toHaveText("Can view");
  await row.getByTestId("shared-notebook-link").click();
  await expect(cells(teammate).first()).toContainText("numbers for the team");
  // Only the owner is offered sharing; a viewer reads, and is offered no editing or running.
  await expect(teammate.getByTestId("share-open")).toHaveCount(0);
  await expect(teammate.getByTestId("notebook-access")).toHaveText("View only");
  await expect(cells(teammate).first().locator(".cm-content")).toHaveAttribute("contenteditable", "false");
  await expect(cells(teammate).first().getByTestId("run-this-cell")).toHaveCount(0);

  // The owner makes her an editor: the gateway answers her with that role.
  await person.getByTestId("share-person-role").selectOption("editor");
  await expect.poll(async () => (await (await teammate.request.get(`/api/notebooks/${id}`)).json()).role).toBe("editor");
  // Her open page follows at once, without a reload.
  await expect(teammate.getByTestId("notebook-access")).toHaveCount(0);
  await expect(cells(teammate).first().locator(".cm-content")).toHaveAttribute("contenteditable", "true");

  // Removed, her reload finds no such notebook.
  await person.getByTestId("share-person-remove").click();
  await expect(dialog.getByTestId("share-person")).toHaveCount(0);
  // Her open page is cut off within seconds, and says so.
  await expect(teammate.getByTestId("notice")).toContainText("access to this notebook was removed", { timeout: 5_000 });
  await expect(cells(teammate).first().locator(".cm-content")).toHaveAttribute("contenteditable", "false");
  await teammate.reload();
  await expect(teammate.getByText("This notebook does not exist")).toBeVisible();
  await teammate.context().close();

  // The owner runs the first cell before anyone opens the link.
  await dialog.getByRole("button", { name: "Done" }).click();
  await cells(page).first().getByTestId("run-this-cell").click();
  await expect(cells(page).first().locator(".cellar-outputs")).toContainText("numbers for the team", { timeout: 90_000 });
  await page.getByTestId("share-open").click();

  // A view link, opened in a signed-out browser, shows the cells, their outputs and who ran them.
  await dialog.getByTestId("share-link-role").selectOption("viewer");
  await dialog.getByTestId("share-link-create").click();
  const linkUrl = await dialog.getByTestId("share-link-url").inputValue();
  expect(linkUrl).toContain(`/notebook/?id=${id}&link=`);
  const secret = new URL(linkUrl).searchParams.get("link")!;
  const guest = await (await newContext(browser)).newPage();
  await guest.goto(linkUrl);
  await expect(cells(guest).first()).toContainText("numbers for the team");
  expect(new URL(guest.url()).pathname).toMatch(/^\/notebook\/?$/);
  expect((await guest.request.get(`/api/notebooks/${id}?link=${secret}`)).status()).toBe(200);
  await expect(guest.getByTestId("notebook-access")).toHaveText("View only");
  await expect(cells(guest).first().locator(".cellar-outputs")).toContainText("numbers for the team");
  await expect(cells(guest).first().getByTestId("last-run-by")).toHaveText("Last run by Local user");
  // Nothing offered that the gateway would refuse: no save state, files, terminal or run buttons.
  await expect(guest.getByTestId("save-status")).toHaveCount(0);
  await expect(guest.getByTestId("files-panel")).toHaveCount(0);
  await expect(guest.getByTestId("files-upload")).toHaveCount(0);
  await expect(guest.getByTestId("files-new-folder")).toHaveCount(0);
  await expect(guest.getByText(/Needs the \w+ role/)).toHaveCount(0);
  await expect(guest.getByTestId("terminal-new")).toHaveCount(0);
  await expect(guest.getByTestId("run-this-cell")).toHaveCount(0);
  // What a viewer may do works: the export is a download the browser makes by itself, no header
  // with it, so it carries the link.
  const exported = guest.waitForEvent("download");
  await guest.getByTestId("export-notebook").click();
  expect(await (await exported).failure()).toBeNull();
  expect((await exported).suggestedFilename()).toMatch(/\.ipynb$/);
  // The owner runs the second cell: the signed-out viewer sees its output arrive live, and who ran it.
  await dialog.getByRole("button", { name: "Done" }).click();
  await cells(page).nth(1).getByTestId("run-this-cell").click();
  await expect(cells(guest).nth(1).locator(".cellar-outputs")).toContainText("live 42", { timeout: 90_000 });
  await expect(cells(guest).nth(1).getByTestId("last-run-by")).toHaveText("Last run by Local user");
  await expect(guest.getByText("Unsaved changes")).toHaveCount(0);
  await page.getByTestId("share-open").click();

  // Revoked, the link opens nothing.
  await dialog.getByTestId("share-link-revoke").click();
  await expect(dialog.getByTestId("share-link-row")).toHaveCount(0);
  expect((await guest.request.get(`/api/notebooks/${id}?link=${secret}`)).status()).toBe(404);
  await expect(guest.getByTestId("notice")).toContainText("access to this notebook was removed", { timeout: 5_000 });
  await guest.context().close();
});
