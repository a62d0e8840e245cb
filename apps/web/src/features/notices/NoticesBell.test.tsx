// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, screen, waitFor, within } from "@testing-library/react";
import { renderWithQueries, stubGateway } from "../../test-support/render-with-gateway";

vi.mock("../../shared/navigation", () => ({ goTo: vi.fn() }));
const { NoticesBell } = await import("./NoticesBell");

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const notice = (id: string, over: Record<string, unknown>): Record<string, unknown> => ({
  id,
  kind: "run_failure",
  message: "Morning failed",
  scheduleId: "s1",
  runId: null,
  createdAt: "2026-03-20T08:00:00Z",
  readAt: null,
  ...over,
});

describe("notices bell", () => {
  it("counts unread notices, links a failure to its run, and marks them read", async () => {
    let list = [
      notice("n1", { runId: "r7" }),
      notice("n2", { kind: "schedule_disabled", message: "Morning was disabled: the notebook was deleted" }),
      notice("n3", { kind: "run_success", readAt: "2026-03-19T00:00:00Z" }),
    ];
    const requests = stubGateway({
      "GET /api/notices": () => ({ status: 200, body: list }),
      "POST /api/notices/read": () => {
        list = list.map((n) => ({ ...n, readAt: n.readAt ?? "2026-03-20T09:00:00Z" }));
        return { status: 204 };
      },
    });
    renderWithQueries(<NoticesBell />);
    await waitFor(() => expect(screen.getByTestId("notice-count").textContent).toBe("2"));
    fireEvent.click(screen.getByTestId("notice-bell"));
    const items = within(screen.getByTestId("notice-list")).getAllByTestId("notice-item");
    expect(items.map((i) => i.dataset.read)).toEqual(["false", "false", "true"]);
    expect(within(items[0]!).getByTestId("notice-run-link").getAttribute("href")).toBe("/run/?id=r7");
    expect(within(items[1]!).queryByTestId("notice-run-link")).toBeNull();

    fireEvent.click(screen.getByTestId("notice-mark-all-read"));
    await waitFor(() => expect(screen.queryByTestId("notice-count")).toBeNull());
    expect(requests.find((r) => r.method === "POST")!.body).toEqual({});
  });
});
