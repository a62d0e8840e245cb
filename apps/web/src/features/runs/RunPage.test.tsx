// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, screen, waitFor, within } from "@testing-library/react";
import { renderWithQueries, stubGateway, type StubRoutes } from "../../test-support/render-with-gateway";
import { aRun } from "./test-runs";

vi.mock("../../shared/navigation", () => ({ goTo: vi.fn() }));
const { RunPage } = await import("./RunPage");

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

function openRun(run: object, routes: StubRoutes = {}) {
  stubGateway({
    "GET /api/runs/r2": { status: 200, body: { previousSuccessfulRunId: "r1", notifications: [], ...aRun({ id: "r2" }), ...run } },
    "GET /api/notices": { status: 200, body: [] },
    ...routes,
  });
  renderWithQueries(<RunPage id="r2" />);
}

describe("run page", () => {
  it("shows a failed run: where and why it failed, its parameters, its notifications, and its executed notebook", async () => {
    openRun(
      {
        status: "failed",
        attempt: 2,
        parameters: { alpha: 0.5, label: "x" },
        failingCellIndex: 2,
        errorName: "ZeroDivisionError",
        errorValue: "division by zero",
        traceback: "Traceback (most recent call last):\nZeroDivisionError: division by zero",
        notifications: [
          { channel: "in_app", event: "failure", status: "delivered", attempts: 1, lastError: null, deliveredAt: "2026-03-20T08:00:14Z" },
          { channel: "webhook", event: "failure", status: "failed", attempts: 5, lastError: "HTTP 500", deliveredAt: null },
        ],
      },
      { "GET /api/runs/r2/diff": { status: 200, body: { runId: "r2", previousRunId: "r1", cells: [] } } },
    );
    await screen.findByTestId("run-status");
    expect(screen.getByTestId("run-status").textContent).toBe("Failed");
    expect(screen.getByTestId("run-failing-cell").textContent).toBe("3");
    expect(screen.getByTestId("run-failure").textContent).toContain("ZeroDivisionError: division by zero");
    expect(screen.getByTestId("run-traceback").textContent).toContain("Traceback (most recent call last)");
    expect(screen.getByTestId("run-parameters").textContent).toContain("alpha = 0.5");
    expect(screen.getByTestId("run-parameters").textContent).toContain('label = "x"');
    expect(screen.getByTestId("run-attempt").textContent).toBe("2");
    expect(screen.getByTestId("run-worker").textContent).toBe("worker-1");
    expect(screen.getByTestId("run-duration").textContent).toBe("12.5 s");
    const notes = screen.getAllByTestId("run-notification");
    expect(notes.map((n) => `${n.dataset.channel}:${n.dataset.status}`)).toEqual(["in_app:delivered", "webhook:failed"]);
    expect(notes[1]!.textContent).toContain("failed after 5 attempts: HTTP 500");
    expect(screen.getByTestId("run-open-executed").getAttribute("href")).toBe("/notebook/?id=nb-run-1");
    expect(screen.getByTestId("run-download-ipynb").getAttribute("href")).toBe("/api/notebooks/nb-run-1/export");
    expect(screen.getByTestId("run-download-html").getAttribute("href")).toBe("/api/notebooks/nb-run-1/export.html");
  });

  it("lists what ended each earlier attempt of a retried run, and no such list for a first attempt", async () => {
    openRun({
      status: "succeeded",
      attempt: 3,
      earlierAttempts: [
        {
          attempt: 1,
          status: "failed",
          workerId: "w1",
          startedAt: "2026-03-20T08:00:01Z",
          finishedAt: "2026-03-20T08:00:09Z",
          failingCellId: "c",
          failingCellIndex: 0,
          errorName: "WorkerLost",
          errorValue: "Worker w1 was lost mid-run: it disconnected and did not come back with the run's kernel.",
          reason: null,
        },
        {
          attempt: 2,
          status: "failed",
          workerId: "w2",
          startedAt: "2026-03-20T08:00:10Z",
          finishedAt: "2026-03-20T08:00:45Z",
          failingCellId: null,
          failingCellIndex: null,
          errorName: null,
          errorValue: null,
          reason: "The gateway running it stopped (its lease expired at 2026-03-20T08:00:40.000Z)",
        },
      ],
    });
    const attempts = await screen.findAllByTestId("run-attempt-summary");
    expect(attempts.map((a) => a.textContent)).toEqual([
      "Attempt 1 failed in cell 1 on worker w1: WorkerLost: Worker w1 was lost mid-run: it disconnected and did not come back with the run's kernel.",
      "Attempt 2 failed on worker w2: The gateway running it stopped (its lease expired at 2026-03-20T08:00:40.000Z)",
    ]);
    expect(screen.getByTestId("run-attempt").textContent).toBe("3");
    cleanup();

    openRun({ status: "succeeded" });
    await screen.findByTestId("run-status");
    expect(screen.queryByTestId("run-earlier-attempts")).toBeNull();
  });

  it("shows the outputs against the previous successful run, the changed cells highlighted", async () => {
    openRun(
      {},
      {
        "GET /api/runs/r2/diff": {
          status: 200,
          body: {
            runId: "r2",
            previousRunId: "r1",
            cells: [
              { cellId: "c1", index: 0, change: "same", source: "import math", before: "", after: "" },
              { cellId: "c2", index: 1, change: "changed", source: "print(total)", before: "41\n", after: "42\n" },
              { cellId: "c3", index: 2, change: "added", source: "print('new')", before: "", after: "new\n" },
            ],
          },
        },
      },
    );
    const diff = await screen.findByTestId("run-diff");
    const cells = within(diff).getAllByTestId("run-diff-cell");
    expect(cells.map((c) => c.dataset.change)).toEqual(["same", "changed", "added"]);
    expect(within(diff).getByTestId("run-diff-summary").textContent).toContain("2 cells differ");
    const changed = cells[1]!;
    expect(within(changed).getByTestId("run-diff-before").textContent).toBe("41\n");
    expect(within(changed).getByTestId("run-diff-after").textContent).toBe("42\n");
    expect(within(changed).getByTestId("run-diff-change").textContent).toBe("changed");
    expect(within(cells[2]!).getByTestId("run-diff-change").textContent).toBe("new in this run");
  });

  it("says so when there is no earlier successful run, and shows no diff while the run is going", async () => {
    openRun({}, { "GET /api/runs/r2/diff": { status: 200, body: { runId: "r2", previousRunId: null, cells: [] } } });
    expect((await screen.findByTestId("run-diff-none")).textContent).toContain("No earlier successful run");
    cleanup();
    const requests = stubGateway({
      "GET /api/runs/r2": {
        status: 200,
        body: { previousSuccessfulRunId: null, notifications: [], ...aRun({ id: "r2", status: "running" }) },
      },
    });
    renderWithQueries(<RunPage id="r2" />);
    await waitFor(() => expect(screen.getByTestId("run-status").textContent).toBe("Running"));
    expect(screen.queryByTestId("run-diff")).toBeNull();
    expect(requests.some((r) => r.path.endsWith("/diff"))).toBe(false);
  });
});
