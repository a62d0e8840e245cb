// @vitest-environment jsdom
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, screen, waitFor, within } from "@testing-library/react";
import { renderWithQueries, stubGateway, type StubRoutes } from "../../test-support/render-with-gateway";

vi.mock("../../shared/navigation", () => ({ goTo: vi.fn() }));
const { ShareDialog } = await import("./ShareDialog");

const owner = { id: "local", name: "Olive", email: "olive@example.com", role: "owner" };
const now = new Date().toISOString();
const ada = { userId: "u2", name: "Ada", email: "ada@example.com", role: "viewer", createdAt: now };
const secret = "L1NK-S3CRET";

beforeEach(() => window.history.replaceState(null, "", "/notebook/?id=nb1"));
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

/** The dialog of notebook nb1; `grants` and `links` are what the gateway lists. */
async function openShare(state: { grants: object[]; links: object[] }, routes: StubRoutes = {}) {
  const requests = stubGateway({
    "GET /api/auth/me": { status: 200, body: { user: owner } },
    "GET /api/notebooks/nb1/grants": () => ({ status: 200, body: state.grants }),
    "GET /api/notebooks/nb1/links": () => ({ status: 200, body: state.links }),
    ...routes,
  });
  renderWithQueries(<ShareDialog notebookId="nb1" onClose={() => {}} />);
  await screen.findByTestId("share-dialog");
  return requests;
}

const people = () => screen.queryAllByTestId("share-person");

describe("share dialog", () => {
  it("lists who has access, the owner first", async () => {
    await openShare({ grants: [ada], links: [] });
    await waitFor(() => expect(people()).toHaveLength(1));
    const list = screen.getByTestId("share-people");
    expect(list.firstElementChild!.textContent).toContain("Olive (you)");
    expect(list.firstElementChild!.textContent).toContain("Owner");
    expect(people()[0]!.textContent).toContain("ada@example.com");
    expect((within(people()[0]!).getByTestId("share-person-role") as HTMLSelectElement).value).toBe("viewer");
  });

  it("adds a teammate by email with a role, and says so when there is no such teammate", async () => {
    const state = { grants: [] as object[], links: [] };
    const requests = await openShare(state, {
      "POST /api/notebooks/nb1/grants": (body) => {
        const { email, role } = body as { email: string; role: string };
        if (email !== "ada@example.com") return { status: 404, body: { error: "No teammate with that email" } };
        state.grants = [{ ...ada, role }];
        return { status: 200, body: state.grants[0] };
      },
    });
    fireEvent.change(screen.getByTestId("share-email"), { target: { value: "bob@example.com" } });
    fireEvent.click(screen.getByTestId("share-add"));
    await waitFor(() => expect(screen.getByTestId("share-error").textContent).toBe("No teammate with that email"));

    fireEvent.change(screen.getByTestId("share-email"), { target: { value: "ada@example.com" } });
    fireEvent.change(screen.getByTestId("share-role"), { target: { value: "runner" } });
    fireEvent.click(screen.getByTestId("share-add"));
    await waitFor(() => expect(people()).toHaveLength(1));
    expect(requests.filter((r) => r.method === "POST").at(-1)!.body).toEqual({ email: "ada@example.com", role: "runner" });
    expect((screen.getByTestId("share-email") as HTMLInputElement).value).toBe("");
    expect(screen.getByTestId("share-error").hidden).toBe(true);
  });

  it("changes a teammate's role and removes them", async () => {
    const state = { grants: [ada] as object[], links: [] };
    const requests = await openShare(state, {
      "PUT /api/notebooks/nb1/grants/u2": (body) => {
        state.grants = [{ ...ada, ...(body as object) }];
        return { status: 200, body: state.grants[0] };
      },
      "DELETE /api/notebooks/nb1/grants/u2": () => {
        state.grants = [];
        return { status: 204 };
      },
    });
    await waitFor(() => expect(people()).toHaveLength(1));
    fireEvent.change(within(people()[0]!).getByTestId("share-person-role"), { target: { value: "editor" } });
    await waitFor(() => expect((within(people()[0]!).getByTestId("share-person-role") as HTMLSelectElement).value).toBe("editor"));
    expect(requests.find((r) => r.method === "PUT")!.body).toEqual({ role: "editor" });
    const remove = within(people()[0]!).getByTestId("share-person-remove");
    expect(remove.getAttribute("aria-label")).toBe("Remove Ada");
    fireEvent.click(remove);
    await waitFor(() => expect(people()).toHaveLength(0));
  });

  it("creates a link with a role and an expiry, shows its address once with Copy, and revokes it", async () => {
    const writeText = vi.fn(async () => {});
    Object.defineProperty(navigator, "clipboard", { value: { writeText }, configurable: true });
    const state = { grants: [], links: [] as object[] };
    const link = {
      id: "h1",
      role: "viewer",
      createdAt: now,
      expiresAt: new Date(Date.now() + 7 * 86_400_000).toISOString(),
      createdByName: "Olive",
    };
    const requests = await openShare(state, {
      "POST /api/notebooks/nb1/links": () => {
        state.links = [link];
        return { status: 201, body: { ...link, secret, url: `/notebook/?id=nb1&link=${secret}` } };
      },
      "DELETE /api/notebooks/nb1/links/h1": () => {
        state.links = [];
        return { status: 204 };
      },
    });
    expect(await screen.findByText("No links.")).toBeTruthy();
    fireEvent.change(screen.getByTestId("share-link-expiry"), { target: { value: "7" } });
    fireEvent.click(screen.getByTestId("share-link-create"));
    const field = (await screen.findByTestId("share-link-url")) as HTMLInputElement;
    expect(field.value).toBe(`${window.location.origin}/notebook/?id=nb1&link=${secret}`);
    expect(requests.find((r) => r.method === "POST")!.body).toEqual({ role: "viewer", expiresInDays: 7 });
    fireEvent.click(screen.getByTestId("share-link-copy"));
    await waitFor(() => expect(writeText).toHaveBeenCalledWith(field.value));

    const rows = await screen.findAllByTestId("share-link-row");
    expect(rows[0]!.textContent).toContain("Can view");
    expect(rows[0]!.textContent).toContain("expires");
    fireEvent.click(within(rows[0]!).getByTestId("share-link-revoke"));
    await waitFor(() => expect(screen.queryAllByTestId("share-link-row")).toHaveLength(0));
    // The address shown above no longer works: it is gone too.
    expect(screen.queryByTestId("share-link-url")).toBeNull();
  });
});
