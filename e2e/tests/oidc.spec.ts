// Issue 13, single sign-on: a teammate with an invite signs up through the suite's OpenID Connect
// provider (oidc-provider.mts) by clicking the button, signs in at the provider's own pages and
// lands in Cellar signed in; later the login page's button signs the same person in again.
import { test, expect, type Page } from "@playwright/test";
import { E2E_OIDC_NAME } from "../playwright.config";
import { login } from "./helpers";

/** The provider's development pages: any password; consent once per person. */
async function signInAtProvider(page: Page, loginName: string): Promise<void> {
  await page.locator('input[name="login"]').fill(loginName);
  await page.locator('input[name="password"]').fill("any password");
  await page.getByRole("button", { name: "Sign-in" }).click();
  const consent = page.getByRole("button", { name: "Continue" });
  if (await consent.isVisible({ timeout: 5_000 }).catch(() => false)) await consent.click();
}

test("a teammate signs up and signs in with single sign-on", async ({ page, browser }) => {
  await login(page);
  await page.getByTestId("account-menu").click();
  await page.getByTestId("invite-teammate").click();
  const link = await page.getByTestId("invite-link").inputValue();

  const teammate = await (await browser.newContext({ baseURL: test.info().project.use.baseURL })).newPage();
  await teammate.goto(link);
  await teammate.getByTestId("oidc-sign-in").click();
  await signInAtProvider(teammate, "grace");
  await expect(teammate.getByTestId("new-notebook")).toBeVisible();
  await expect(teammate.getByTestId("account-name")).toHaveText("Grace Hopper");

  // Signed out, the login page's button signs the same person in (the provider remembers them).
  await teammate.getByTestId("account-menu").click();
  await teammate.getByTestId("sign-out").click();
  await teammate.waitForURL(/\/login\//);
  await expect(teammate.getByTestId("oidc-sign-in")).toHaveText(`Sign in with ${E2E_OIDC_NAME}`);
  await teammate.getByTestId("oidc-sign-in").click();
  await expect(teammate.getByTestId("account-name")).toHaveText("Grace Hopper");

  // Someone the provider knows but this Cellar does not is sent back with the reason.
  const stranger = await (await browser.newContext({ baseURL: test.info().project.use.baseURL })).newPage();
  await stranger.goto("/login/");
  await stranger.getByTestId("oidc-sign-in").click();
  await signInAtProvider(stranger, "stranger");
  await expect(stranger.getByTestId("login-error")).toContainText("no account here");
  await teammate.context().close();
  await stranger.context().close();
});
