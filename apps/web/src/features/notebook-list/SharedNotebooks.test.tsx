// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, screen, within } from "@testing-library/react";
import { renderWithQueries, stubGateway } from "../../test-support/render-with-gateway";

vi.mock("../../shared/navigation", () => ({ goTo: vi.fn() }));
vi.mock("next/navigation", () => ({ useRouter: () => ({ push: vi.fn() }) }));
const { NotebookList } = await import("./NotebookList");

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const at = new Date().toISOString();

describe("notebook list", () => {
  it("shows the notebooks shared with the user under 'Shared with me', with their owner and the user's role", async () => {
    stubGateway({
      "GET /api/auth/me": { status: 200, body: { user: { id: "u2", name: "Ada", email: "ada@example.com", role: "member" } } },
      "GET /api/notebooks": {
        status: 200,
        body: [
          { id: "mine", title: "Mine", updatedAt: at, lastRunAt: null, role: "owner", ownerName: "Ada" },
          { id: "theirs", title: "Quarterly", updatedAt: at, lastRunAt: null, role: "runner", ownerName: "Olive" },
        ],
      },
    });
    renderWithQueries(<NotebookList />);
    const shared = await screen.findByTestId("shared-notebooks");
    expect(within(shared).getByText("Shared with me")).toBeTruthy();
    const row = within(shared).getByTestId("shared-notebook-row");
    expect(within(row).getByTestId("shared-notebook-link").getAttribute("href")).toMatch(/^\/notebook\/?\?id=theirs$/);
    expect(within(row).getByTestId("shared-notebook-owner").textContent).toBe("Olive");
    expect(within(row).getByTestId("shared-notebook-role").textContent).toBe("Can run");
    // The user's own notebooks stay above, with their actions; a shared one has none of them.
    expect(screen.getAllByTestId("notebook-row").map((r) => r.getAttribute("data-notebook-id"))).toEqual(["mine"]);
    expect(within(row).queryByTestId("delete-notebook")).toBeNull();
  });

  it("has no 'Shared with me' section when nothing is shared", async () => {
    stubGateway({
      "GET /api/auth/me": { status: 200, body: { user: { id: "u2", name: "Ada", email: null, role: "member" } } },
      "GET /api/notebooks": {
        status: 200,
        body: [{ id: "mine", title: "Mine", updatedAt: at, lastRunAt: null, role: "owner", ownerName: "Ada" }],
      },
    });
    renderWithQueries(<NotebookList />);
    await screen.findByTestId("notebook-row");
    expect(screen.queryByTestId("shared-notebooks")).toBeNull();
  });
});
