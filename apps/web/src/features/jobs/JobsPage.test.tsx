// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, screen, waitFor, within } from "@testing-library/react";
import { SCHEDULE_DEFAULTS } from "@cellar/protocol";
import { renderWithQueries, stubGateway } from "../../test-support/render-with-gateway";

vi.mock("../../shared/navigation", () => ({ goTo: vi.fn() }));
const { JobsPage } = await import("./JobsPage");
const { SPARK_COLOURS } = await import("./Sparkline");

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const dot = (id: string, status: string, durationMs: number | null) => ({ id, status, scheduledFor: "2026-03-20T08:00:00Z", durationMs });

function job(id: string, over: Record<string, unknown>) {
  return {
    id,
    notebookId: `nb-${id}`,
    notebookTitle: `Notebook ${id}`,
    ownerId: "u1",
    ownerName: "Olive",
    ...SCHEDULE_DEFAULTS,
    name: `Job ${id}`,
    cron: "0 9 * * 1-5",
    timezone: "Europe/Paris",
    disabledReason: null,
    cursor: null,
    nextFireTimes: ["2026-03-23T08:00:00.000Z"],
    createdAt: "2026-03-01T00:00:00Z",
    updatedAt: "2026-03-01T00:00:00Z",
    recentRuns: [],
    ...over,
  };
}

const JOBS = [
  // Newest first, as the API lists them.
  job("a", { name: "Daily refresh", recentRuns: [dot("a3", "failed", 4000), dot("a2", "succeeded", 2000), dot("a1", "succeeded", null)] }),
  job("b", { name: "Retrain", cron: "0 3 * * 0", enabled: false, recentRuns: [dot("b1", "succeeded", 1000)] }),
  job("c", { name: "Report", notebookTitle: "Sales", recentRuns: [] }),
];

async function openJobs() {
  stubGateway({ "GET /api/schedules": { status: 200, body: JOBS }, "GET /api/notices": { status: 200, body: [] } });
  renderWithQueries(<JobsPage viewerZone="Europe/Paris" />);
  await waitFor(() => expect(screen.getAllByTestId("jobs-row")).toHaveLength(3));
}
const names = () => screen.queryAllByTestId("jobs-row").map((r) => r.querySelector("strong")!.textContent);

describe("jobs page", () => {
  it("shows each schedule's last run, next fire time, notebook and a sparkline of its runs", async () => {
    await openJobs();
    const [a, b, c] = screen.getAllByTestId("jobs-row");
    expect(within(a!).getByTestId("jobs-status").textContent).toBe("Failed");
    expect(within(a!).getByTestId("jobs-last-run").getAttribute("href")).toBe("/run/?id=a3");
    expect(within(a!).getByTestId("jobs-when").textContent).toBe("Weekdays at 09:00 (Europe/Paris)");
    expect(within(a!).getByTestId("jobs-next").textContent).toMatch(/Mon, 23 Mar 2026, 09:00/);
    expect(within(a!).getByTestId("jobs-notebook-link").getAttribute("href")).toBe("/notebook/?id=nb-a");
    expect(within(b!).getByTestId("jobs-paused").textContent).toContain("paused");
    expect(within(b!).getByTestId("jobs-next").textContent).toBe("—");
    expect(within(c!).getByTestId("jobs-status").dataset.status).toBe("never");

    // Oldest on the left; coloured by status; as tall as the duration against the longest.
    const bars = within(a!).getAllByTestId("jobs-spark-bar");
    expect(bars.map((bar) => bar.dataset.status)).toEqual(["succeeded", "succeeded", "failed"]);
    expect(bars.map((bar) => bar.getAttribute("fill"))).toEqual([SPARK_COLOURS.succeeded, SPARK_COLOURS.succeeded, SPARK_COLOURS.failed]);
    const heights = bars.map((bar) => Number(bar.getAttribute("height")));
    expect(heights[2]).toBe(24);
    expect(heights[1]).toBe(12);
    expect(heights[0]).toBeLessThan(heights[1]!);
    expect(within(c!).getByTestId("jobs-sparkline").dataset.runs).toBe("0");
  });

  it("filters by last run's status, enabled or paused, and text", async () => {
    await openJobs();
    fireEvent.change(screen.getByTestId("jobs-filter-status"), { target: { value: "succeeded" } });
    expect(names()).toEqual(["Retrain"]);
    fireEvent.change(screen.getByTestId("jobs-filter-status"), { target: { value: "never" } });
    expect(names()).toEqual(["Report"]);
    fireEvent.change(screen.getByTestId("jobs-filter-status"), { target: { value: "" } });
    fireEvent.change(screen.getByTestId("jobs-filter-enabled"), { target: { value: "enabled" } });
    expect(names()).toEqual(["Daily refresh", "Report"]);
    fireEvent.change(screen.getByTestId("jobs-filter-enabled"), { target: { value: "paused" } });
    expect(names()).toEqual(["Retrain"]);
    fireEvent.change(screen.getByTestId("jobs-filter-enabled"), { target: { value: "" } });
    fireEvent.change(screen.getByTestId("jobs-search"), { target: { value: "sales" } });
    expect(names()).toEqual(["Report"]);
    fireEvent.change(screen.getByTestId("jobs-search"), { target: { value: "weekly on sunday" } });
    expect(names()).toEqual(["Retrain"]);
    fireEvent.change(screen.getByTestId("jobs-search"), { target: { value: "nothing like this" } });
    expect(names()).toEqual([]);
    expect(screen.getByTestId("jobs-no-match")).toBeTruthy();
  });
});
