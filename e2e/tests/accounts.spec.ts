// Issue 13, accounts: the owner (signed in by the printed URL) invites a teammate, who signs up
// in another browser, has notebooks of their own, signs out and back in on the login page.
import { test, expect } from "@playwright/test";
import { login, token } from "./helpers";

test("the owner invites a teammate, who signs up, sees only their own notebooks, signs out and signs in again", async ({
  page,
  browser,
}) => {
  await login(page);
  const ownerNotebook = await page.request.post("/api/notebooks", {
    headers: { authorization: `Bearer ${token()}` },
    data: { title: "owner only" },
  });
  expect(ownerNotebook.status()).toBe(201);
  const { id: ownerNotebookId } = await ownerNotebook.json();

  await page.getByTestId("account-menu").click();
  await page.getByTestId("invite-teammate").click();
  const link = await page.getByTestId("invite-link").inputValue();
  expect(link).toMatch(/\/signup\/\?invite=/);

  const context = () => browser.newContext({ baseURL: test.info().project.use.baseURL });
  const teammate = await (await context()).newPage();
  await teammate.goto(link);
  await expect(teammate.getByTestId("signup-invited-by")).toContainText("Local user");
  await teammate.getByTestId("signup-name").fill("Ada Lovelace");
  await teammate.getByTestId("signup-email").fill("ada@example.com");
  await teammate.getByTestId("signup-password").fill("analytical engine");
  await teammate.getByTestId("signup-submit").click();
  await expect(teammate.getByTestId("new-notebook")).toBeVisible();
  await expect(teammate.getByTestId("account-name")).toHaveText("Ada Lovelace");
  // The owner's notebook is not theirs: not listed, and its page finds nothing.
  await expect(teammate.getByText("owner only")).toHaveCount(0);
  const peek = await teammate.request.get(`/api/notebooks/${ownerNotebookId}`);
  expect(peek.status()).toBe(404);

  // A personal access token for the CLI and API: made in the account menu, shown once, acts as
  // its user until revoked.
  await teammate.getByTestId("account-menu").click();
  await teammate.getByTestId("access-tokens").click();
  await teammate.getByTestId("token-name").fill("laptop");
  await teammate.getByTestId("token-create").click();
  const secret = await teammate.getByTestId("token-secret").inputValue();
  expect(secret).toMatch(/^cellar_pat_/);
  const asToken = async () =>
    (await teammate.request.get("/api/auth/me", { headers: { authorization: `Bearer ${secret}`, cookie: "" } })).status();
  expect(await asToken()).toBe(200);
  await teammate.getByTestId("token-revoke").click();
  await expect(teammate.getByTestId("token-row")).toHaveCount(0);
  expect(await asToken()).toBe(401);
  await teammate.keyboard.press("Escape");

  // The invite was for one person.
  const again = await (await context()).newPage();
  await again.goto(link);
  await expect(again.getByText(/used or has expired/)).toBeVisible();
  await again.context().close();

  await teammate.getByTestId("account-menu").click();
  await teammate.getByTestId("sign-out").click();
  await expect(teammate).toHaveURL(/\/login\//);
  await teammate.goto("/");
  await expect(teammate).toHaveURL(/\/login\//);
  await teammate.getByTestId("login-email").fill("ada@example.com");
  await teammate.getByTestId("login-password").fill("wrong password!");
  await teammate.getByTestId("login-submit").click();
  await expect(teammate.getByTestId("login-error")).toContainText("Wrong email or password");
  await teammate.getByTestId("login-password").fill("analytical engine");
  await teammate.getByTestId("login-submit").click();
  await expect(teammate.getByTestId("account-name")).toHaveText("Ada Lovelace");
  await teammate.context().close();
});
