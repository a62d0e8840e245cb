// @vitest-environment jsdom
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, screen, waitFor, within } from "@testing-library/react";
import { renderWithQueries, stubGateway, type StubRoutes } from "../../test-support/render-with-gateway";

vi.mock("../../shared/navigation", () => ({ goTo: vi.fn() }));
const { goTo } = await import("../../shared/navigation");
const { AccountMenu } = await import("./AccountMenu");
const { InviteDialog } = await import("./InviteDialog");

const owner = { id: "u1", name: "Grace", email: null, role: "owner" };
const member = { id: "u2", name: "Ada", email: "ada@example.com", role: "member" };
const later = new Date(Date.now() + 72 * 3600_000).toISOString();
const created = {
  id: "inv1",
  url: "https://cellar.example/signup/?invite=TOKEN1",
  token: "TOKEN1",
  createdAt: new Date().toISOString(),
  expiresAt: later,
  usedAt: null,
};
const { url: _url, token: _token, ...listed } = created;

beforeEach(() => window.history.replaceState(null, "", "/"));
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  vi.mocked(goTo).mockClear();
});

async function openMenu(user: object, routes: StubRoutes = {}) {
  const requests = stubGateway({ "GET /api/auth/me": { status: 200, body: { user } }, ...routes });
  renderWithQueries(<AccountMenu />);
  fireEvent.click(await screen.findByTestId("account-menu"));
  return requests;
}

describe("account menu", () => {
  it("shows the signed-in user's name", async () => {
    await openMenu(member);
    expect(screen.getByTestId("account-name").textContent).toBe("Ada");
  });

  it("offers the owner 'Invite a teammate' (and credentials while they have no email)", async () => {
    await openMenu(owner);
    expect(screen.getByTestId("invite-teammate").textContent).toBe("Invite a teammate");
    expect(screen.getByTestId("set-credentials").textContent).toBe("Set email and password");
  });

  it("offers a member neither", async () => {
    await openMenu(member);
    expect(screen.queryByTestId("invite-teammate")).toBeNull();
    expect(screen.queryByTestId("set-credentials")).toBeNull();
    expect(screen.getByTestId("sign-out")).toBeTruthy();
  });

  it("signs out, or out everywhere, and goes to the sign-in page", async () => {
    const requests = await openMenu(member, {
      "POST /api/auth/logout": { status: 204 },
      "POST /api/auth/logout-everywhere": { status: 204 },
    });
    fireEvent.click(screen.getByTestId("sign-out"));
    await waitFor(() => expect(goTo).toHaveBeenCalledWith("/login/"));
    fireEvent.click(screen.getByTestId("account-menu"));
    fireEvent.click(screen.getByTestId("sign-out-everywhere"));
    await waitFor(() => expect(goTo).toHaveBeenCalledTimes(2));
    expect(requests.filter((r) => r.method === "POST").map((r) => r.path)).toEqual(["/api/auth/logout", "/api/auth/logout-everywhere"]);
  });

  it("sets the owner's email and password, then stops offering it", async () => {
    const requests = await openMenu(owner, {
      "PUT /api/auth/credentials": { status: 200, body: { user: { ...owner, email: "grace@example.com" } } },
    });
    fireEvent.click(screen.getByTestId("set-credentials"));
    fireEvent.change(screen.getByTestId("credentials-email"), { target: { value: "grace@example.com" } });
    fireEvent.change(screen.getByTestId("credentials-password"), { target: { value: "a long password" } });
    fireEvent.submit(screen.getByTestId("credentials-submit").closest("form")!);
    await waitFor(() => expect(screen.queryByTestId("credentials-dialog")).toBeNull());
    expect(requests.at(-1)).toEqual({
      method: "PUT",
      path: "/api/auth/credentials",
      body: { email: "grace@example.com", password: "a long password" },
    });
    fireEvent.click(screen.getByTestId("account-menu"));
    expect(screen.queryByTestId("set-credentials")).toBeNull();
  });
});

describe("invite dialog", () => {
  it("opens from the menu, creates an invite and shows its link", async () => {
    const requests = await openMenu(owner, {
      "POST /api/invites": { status: 201, body: created },
      "GET /api/invites": { status: 200, body: [listed] },
    });
    fireEvent.click(screen.getByTestId("invite-teammate"));
    const link = (await screen.findByTestId("invite-link")) as HTMLInputElement;
    expect(link.value).toBe("https://cellar.example/signup/?invite=TOKEN1");
    expect(link.readOnly).toBe(true);
    expect(requests.filter((r) => r.path === "/api/invites" && r.method === "POST")).toHaveLength(1);
  });

  it("copies the link, lists pending invites and revokes one", async () => {
    const writeText = vi.fn(async () => {});
    Object.defineProperty(navigator, "clipboard", { value: { writeText }, configurable: true });
    let invites = [listed, { ...listed, id: "inv0", createdAt: new Date(Date.now() - 3600_000).toISOString() }];
    const requests = stubGateway({
      "POST /api/invites": { status: 201, body: created },
      "GET /api/invites": () => ({ status: 200, body: invites }),
      "DELETE /api/invites/id/inv0": () => {
        invites = invites.filter((i) => i.id !== "inv0");
        return { status: 204 };
      },
    });
    renderWithQueries(<InviteDialog onClose={() => {}} />);
    await screen.findByTestId("invite-link");
    fireEvent.click(screen.getByTestId("invite-copy"));
    await waitFor(() => expect(writeText).toHaveBeenCalledWith("https://cellar.example/signup/?invite=TOKEN1"));
    await waitFor(() => expect(screen.getAllByTestId("invite-pending")).toHaveLength(2));
    const old = screen.getAllByTestId("invite-pending").find((li) => !li.textContent?.includes("the link above"))!;
    fireEvent.click(within(old).getByTestId("invite-revoke"));
    await waitFor(() => expect(screen.getAllByTestId("invite-pending")).toHaveLength(1));
    expect(requests.some((r) => r.method === "DELETE" && r.path === "/api/invites/id/inv0")).toBe(true);
    expect(screen.getByTestId("invite-link")).toBeTruthy();
  });
});
