// @vitest-environment jsdom
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, screen, waitFor, within } from "@testing-library/react";
import { renderWithQueries, stubGateway, type StubRoutes } from "../../test-support/render-with-gateway";

vi.mock("../../shared/navigation", () => ({ goTo: vi.fn() }));
const { AccountMenu } = await import("./AccountMenu");

const member = { id: "u2", name: "Ada", email: "ada@example.com", role: "member" };
const hourAgo = new Date(Date.now() - 3600_000).toISOString();
const ci = { id: "pat0", name: "CI", createdAt: hourAgo, lastUsedAt: hourAgo, expiresAt: null };
const secret = "cellar_pat_S3CRET";

beforeEach(() => window.history.replaceState(null, "", "/"));
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

/** Ada's menu, opened, and "Access tokens" chosen; `tokens` is what GET /api/auth/tokens answers. */
async function openTokens(tokens: () => object[], routes: StubRoutes = {}) {
  const requests = stubGateway({
    "GET /api/auth/me": { status: 200, body: { user: member } },
    "GET /api/auth/tokens": () => ({ status: 200, body: tokens() }),
    ...routes,
  });
  renderWithQueries(<AccountMenu />);
  fireEvent.click(await screen.findByTestId("account-menu"));
  fireEvent.click(screen.getByTestId("access-tokens"));
  await screen.findByTestId("access-tokens-dialog");
  return requests;
}

const rows = () => screen.queryAllByTestId("token-row");

describe("access tokens dialog", () => {
  it("is in every user's menu and lists their tokens", async () => {
    await openTokens(() => [ci]);
    await waitFor(() => expect(rows()).toHaveLength(1));
    expect(rows()[0]!.textContent).toContain("CI");
    expect(rows()[0]!.textContent).toContain("last used 1 hour ago");
    expect(rows()[0]!.textContent).toContain("never expires");
    expect(screen.queryByTestId("token-secret")).toBeNull();
  });

  it("creates a token, shows its secret once with how to use it, and the list gains the row", async () => {
    const writeText = vi.fn(async () => {});
    Object.defineProperty(navigator, "clipboard", { value: { writeText }, configurable: true });
    let tokens: object[] = [];
    const requests = await openTokens(() => tokens, {
      "POST /api/auth/tokens": () => {
        const made = {
          id: "pat1",
          name: "laptop",
          createdAt: new Date().toISOString(),
          lastUsedAt: null,
          expiresAt: new Date(Date.now() + 90 * 86_400_000).toISOString(),
        };
        tokens = [made];
        return { status: 201, body: { ...made, token: secret } };
      },
    });
    expect(await screen.findByText("None yet.")).toBeTruthy();
    fireEvent.change(screen.getByTestId("token-name"), { target: { value: "laptop" } });
    fireEvent.change(screen.getByTestId("token-expiry"), { target: { value: "90" } });
    fireEvent.click(screen.getByTestId("token-create"));

    const field = (await screen.findByTestId("token-secret")) as HTMLInputElement;
    expect(field.value).toBe(secret);
    expect(field.readOnly).toBe(true);
    expect(screen.getByText("Copy it now: it is not shown again.")).toBeTruthy();
    expect(screen.getByTestId("token-usage").textContent).toContain(`export CELLAR_URL='${window.location.origin}/?token=${secret}'`);
    expect(screen.getByTestId("token-usage").textContent).toContain("npx cellar run");
    fireEvent.click(screen.getByTestId("token-copy"));
    await waitFor(() => expect(writeText).toHaveBeenCalledWith(secret));

    await waitFor(() => expect(rows()).toHaveLength(1));
    expect(rows()[0]!.textContent).toContain("laptop");
    expect(rows()[0]!.textContent).toContain("never used");
    expect(rows()[0]!.textContent).toContain("expires");
    expect(rows()[0]!.textContent).not.toContain(secret);
    expect((screen.getByTestId("token-name") as HTMLInputElement).value).toBe("");
    expect(requests.filter((r) => r.method === "POST").map((r) => [r.path, r.body])).toEqual([
      ["/api/auth/tokens", { name: "laptop", expiresInDays: 90 }],
    ]);

    // Closed and opened again: the row stays, the secret is gone for good.
    fireEvent.click(within(screen.getByTestId("access-tokens-dialog")).getByText("Done"));
    await waitFor(() => expect(screen.queryByTestId("access-tokens-dialog")).toBeNull());
    fireEvent.click(screen.getByTestId("account-menu"));
    fireEvent.click(screen.getByTestId("access-tokens"));
    await waitFor(() => expect(rows()).toHaveLength(1));
    expect(screen.queryByTestId("token-secret")).toBeNull();
    expect(document.body.textContent).not.toContain(secret);
  });

  it("sends no expiry for a token that never expires", async () => {
    const requests = await openTokens(() => [], {
      "POST /api/auth/tokens": { status: 201, body: { ...ci, id: "pat2", token: secret } },
    });
    fireEvent.change(screen.getByTestId("token-name"), { target: { value: "forever" } });
    fireEvent.change(screen.getByTestId("token-expiry"), { target: { value: "" } });
    fireEvent.submit(screen.getByTestId("token-create").closest("form")!);
    await screen.findByTestId("token-secret");
    expect(requests.find((r) => r.method === "POST")?.body).toEqual({ name: "forever" });
  });

  it("revokes a token: DELETE, then the row goes", async () => {
    let tokens = [ci, { ...ci, id: "pat9", name: "old laptop", lastUsedAt: null }];
    const requests = await openTokens(() => tokens, {
      "DELETE /api/auth/tokens/pat9": () => {
        tokens = tokens.filter((t) => t.id !== "pat9");
        return { status: 204 };
      },
    });
    await waitFor(() => expect(rows()).toHaveLength(2));
    const old = rows().find((li) => li.textContent?.includes("old laptop"))!;
    expect(old.textContent).toContain("never used");
    fireEvent.click(within(old).getByTestId("token-revoke"));
    await waitFor(() => expect(rows()).toHaveLength(1));
    expect(rows()[0]!.textContent).toContain("CI");
    expect(requests.filter((r) => r.method === "DELETE").map((r) => r.path)).toEqual(["/api/auth/tokens/pat9"]);
    expect(screen.getByTestId("token-error").hidden).toBe(true);
  });

  it("shows the gateway's refusal in an alert and no secret", async () => {
    await openTokens(() => [ci], {
      "POST /api/auth/tokens": { status: 400, body: { error: "a name is needed" } },
      "DELETE /api/auth/tokens/pat0": { status: 500, body: { error: "database is down" } },
    });
    fireEvent.change(screen.getByTestId("token-name"), { target: { value: "   " } });
    fireEvent.submit(screen.getByTestId("token-create").closest("form")!);
    const alert = screen.getByTestId("token-error");
    await waitFor(() => expect(alert.textContent).toBe("a name is needed"));
    expect(alert.getAttribute("role")).toBe("alert");
    expect(alert.hidden).toBe(false);
    expect(screen.queryByTestId("token-secret")).toBeNull();

    await waitFor(() => expect(rows()).toHaveLength(1));
    fireEvent.click(within(rows()[0]!).getByTestId("token-revoke"));
    await waitFor(() => expect(screen.getByTestId("token-error").textContent).toBe("database is down"));
    expect(rows()).toHaveLength(1);
  });
});
