// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, screen, waitFor, within } from "@testing-library/react";
import { renderWithQueries, stubGateway } from "../../test-support/render-with-gateway";
import { aRun } from "./test-runs";

vi.mock("../../shared/navigation", () => ({ goTo: vi.fn() }));
const { RunsPanel } = await import("./RunsPanel");

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const RUNS_PATH = "GET /api/notebooks/nb1/runs?limit=100";
const rows = () => screen.queryAllByTestId("runs-row");

describe("runs panel", () => {
  it("shows each run's status, when it was due, duration, attempt and trigger, and opens its page", async () => {
    const statuses = ["queued", "running", "succeeded", "failed", "timed_out", "cancelled", "skipped"];
    stubGateway({
      [RUNS_PATH]: {
        status: 200,
        body: statuses.map((status, i) =>
          aRun({ id: `r${i}`, status, attempt: i === 3 ? 2 : 1, trigger: i === 1 ? "manual" : "schedule" }),
        ),
      },
    });
    renderWithQueries(<RunsPanel notebookId="nb1" onHide={() => {}} />);
    await waitFor(() => expect(rows()).toHaveLength(7));
    expect(rows().map((r) => within(r).getByTestId("runs-status").textContent)).toEqual([
      "Queued",
      "Running",
      "Succeeded",
      "Failed",
      "Timed out",
      "Cancelled",
      "Skipped",
    ]);
    const failed = rows()[3]!;
    expect(within(failed).getByTestId("runs-duration").textContent).toBe("12.5 s");
    expect(within(failed).getByTestId("runs-attempt").textContent).toBe("attempt 2");
    expect(within(rows()[1]!).getByTestId("runs-trigger").textContent).toBe("Run now");
    expect(within(failed).getByTestId("runs-link").getAttribute("href")).toBe("/run/?id=r3");
    // Only what is still going can be cancelled.
    expect(rows().map((r) => within(r).queryByTestId("runs-cancel") !== null)).toEqual([true, true, false, false, false, false, false]);
  });

  it("cancels a running run and shows it cancelled", async () => {
    let run = aRun({ status: "running", durationMs: null, finishedAt: null });
    const requests = stubGateway({
      [RUNS_PATH]: () => ({ status: 200, body: [run] }),
      "POST /api/runs/r1/cancel": () => {
        run = aRun({ status: "cancelled" });
        return { status: 200, body: run };
      },
    });
    renderWithQueries(<RunsPanel notebookId="nb1" onHide={() => {}} />);
    await waitFor(() => expect(rows()[0]?.dataset.status).toBe("running"));
    expect(within(rows()[0]!).getByTestId("runs-duration").textContent).toBe("—");
    fireEvent.click(screen.getByTestId("runs-cancel"));
    await waitFor(() => expect(rows()[0]?.dataset.status).toBe("cancelled"));
    expect(screen.queryByTestId("runs-cancel")).toBeNull();
    expect(requests.filter((r) => r.method === "POST").map((r) => r.path)).toEqual(["/api/runs/r1/cancel"]);
  });

  it("reads the list again while a run is going, so its status changes on screen", async () => {
    let status = "queued";
    stubGateway({ [RUNS_PATH]: () => ({ status: 200, body: [aRun({ status })] }) });
    renderWithQueries(<RunsPanel notebookId="nb1" onHide={() => {}} />);
    await waitFor(() => expect(rows()[0]?.dataset.status).toBe("queued"));
    status = "running";
    await waitFor(() => expect(rows()[0]?.dataset.status).toBe("running"), { timeout: 5000 });
    status = "succeeded";
    await waitFor(() => expect(rows()[0]?.dataset.status).toBe("succeeded"), { timeout: 5000 });
  });
});
