// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, screen, waitFor, within } from "@testing-library/react";
import { SCHEDULE_DEFAULTS } from "@cellar/protocol";
import { renderWithQueries, stubGateway, type StubRoutes } from "../../test-support/render-with-gateway";

vi.mock("../../shared/navigation", () => ({ goTo: vi.fn() }));
const { ScheduleForm } = await import("./ScheduleForm");
const { ScheduleDialog } = await import("./ScheduleDialog");

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

// 21 March 2026: Paris is on CET (UTC+1), New York already on EDT (UTC−4): 5 hours apart.
const NOW = new Date("2026-03-20T12:00:00Z");

function schedule(over: Record<string, unknown> = {}) {
  return {
    id: "s1",
    notebookId: "nb1",
    notebookTitle: "Report",
    ownerId: "u1",
    ownerName: "Olive",
    ...SCHEDULE_DEFAULTS,
    name: "Morning",
    cron: "30 7 * * 3",
    timezone: "Europe/Paris",
    parameters: { alpha: 0.5 },
    disabledReason: null,
    cursor: null,
    nextFireTimes: ["2026-03-25T06:30:00.000Z", "2026-04-01T05:30:00.000Z"],
    createdAt: NOW.toISOString(),
    updatedAt: NOW.toISOString(),
    recentRuns: [],
    ...over,
  };
}

function renderForm(routes: StubRoutes = {}, onSaved = vi.fn()) {
  const requests = stubGateway(routes);
  renderWithQueries(<ScheduleForm notebookId="nb1" viewerZone="America/New_York" now={() => NOW} onSaved={onSaved} />);
  return { requests, onSaved };
}

const change = (testId: string, value: string) => fireEvent.change(screen.getByTestId(testId), { target: { value } });
const rows = () => screen.getAllByTestId("schedule-next-time");
const cells = (testId: string) => rows().map((r) => within(r).getByTestId(testId).textContent);

describe("schedule form", () => {
  it("turns a preset into its cron expression and sends it with the zone and parameters", async () => {
    const { requests, onSaved } = renderForm({
      "POST /api/notebooks/nb1/schedules": (body) => ({ status: 201, body: schedule(body as Record<string, unknown>) }),
    });
    change("schedule-name", "Weekly report");
    change("schedule-when", "weekly");
    change("schedule-weekday", "3");
    change("schedule-time", "07:30");
    expect(screen.getByTestId("schedule-cron-text").textContent).toBe("30 7 * * 3");
    change("schedule-when", "hourly");
    change("schedule-minute", "15");
    expect(screen.getByTestId("schedule-cron-text").textContent).toBe("15 * * * *");
    change("schedule-when", "monthly");
    change("schedule-day", "31");
    expect(screen.getByTestId("schedule-cron-text").textContent).toBe("30 7 31 * *");
    change("schedule-when", "weekdays");
    expect(screen.getByTestId("schedule-cron-text").textContent).toBe("30 7 * * 1-5");

    change("schedule-timezone", "Europe/Paris");
    fireEvent.click(screen.getByTestId("schedule-param-add"));
    fireEvent.click(screen.getByTestId("schedule-param-add"));
    const [first, second] = screen.getAllByTestId("schedule-param-row");
    fireEvent.change(within(first!).getByTestId("schedule-param-name"), { target: { value: "alpha" } });
    fireEvent.change(within(first!).getByTestId("schedule-param-value"), { target: { value: "0.5" } });
    fireEvent.change(within(second!).getByTestId("schedule-param-name"), { target: { value: "label" } });
    fireEvent.change(within(second!).getByTestId("schedule-param-value"), { target: { value: "True" } });
    fireEvent.click(screen.getByTestId("schedule-save"));

    await waitFor(() => expect(onSaved).toHaveBeenCalled());
    const sent = requests.find((r) => r.method === "POST")!.body as Record<string, unknown>;
    // Every setting the form left alone is the protocol's default; the image is not the form's.
    const { image: _notTheForms, ...defaults } = SCHEDULE_DEFAULTS;
    expect(sent).toEqual({
      ...defaults,
      name: "Weekly report",
      cron: "30 7 * * 1-5",
      timezone: "Europe/Paris",
      parameters: { alpha: 0.5, label: true },
    });
  });

  it("shows the next five fire times in the schedule's zone and the viewer's, following every change", () => {
    renderForm();
    change("schedule-when", "daily");
    change("schedule-time", "09:00");
    change("schedule-timezone", "Europe/Paris");
    expect(screen.getByTestId("schedule-next-times").dataset.source).toBe("browser");
    expect(rows()).toHaveLength(5);
    expect(cells("schedule-next-zone")[0]).toMatch(/Sat, 21 Mar 2026, 09:00/);
    expect(cells("schedule-next-local")[0]).toMatch(/Sat, 21 Mar 2026, 04:00/);
    expect(cells("schedule-next-zone").every((t) => t?.includes("09:00"))).toBe(true);
    expect(cells("schedule-next-local").every((t) => t?.includes("04:00"))).toBe(true);

    // Another zone moves the instants: 09:00 in Tokyo (UTC+9) is 20:00 the day before in New York.
    change("schedule-timezone", "Asia/Tokyo");
    expect(cells("schedule-next-zone")[0]).toMatch(/Sat, 21 Mar 2026, 09:00/);
    expect(cells("schedule-next-local")[0]).toMatch(/Fri, 20 Mar 2026, 20:00/);

    change("schedule-when", "custom");
    change("schedule-cron", "*/20 * * * *");
    expect(cells("schedule-next-zone").map((t) => t?.match(/\d\d:\d\d/)?.[0])).toEqual(["21:20", "21:40", "22:00", "22:20", "22:40"]);

    change("schedule-cron", "61 * * * *");
    expect(screen.queryAllByTestId("schedule-next-time")).toHaveLength(0);
    expect(screen.getByTestId("schedule-next-problem").textContent).toMatch(/Invalid cron expression/);
    change("schedule-cron", "0 9 * * *");
    change("schedule-timezone", "Mars/Olympus");
    expect(screen.getByTestId("schedule-next-problem").textContent).toBe("Unknown time zone 'Mars/Olympus'");
  });

  it("shows the gateway's 400 beside each field it names, and keeps what was typed", async () => {
    const { onSaved } = renderForm({
      "POST /api/notebooks/nb1/schedules": {
        status: 400,
        body: {
          error: "The schedule is not valid",
          fields: [
            { field: "cron", message: "The cron expression '0 0 30 2 *' never fires: no date matches it" },
            { field: "webhookUrl", message: "The webhook URL must be an http or https URL" },
            { field: "parameters", message: "Parameter 'class' is a Python keyword" },
          ],
        },
      },
    });
    change("schedule-when", "custom");
    change("schedule-cron", "0 0 30 2 *");
    change("schedule-webhook", "ftp://example.com/hook");
    fireEvent.click(screen.getByTestId("schedule-save"));

    await waitFor(() => expect(screen.getByTestId("schedule-error-cron").textContent).toMatch(/never fires/));
    expect(screen.getByTestId("schedule-error-webhookUrl").textContent).toBe("The webhook URL must be an http or https URL");
    expect(screen.getByTestId("schedule-error-parameters").textContent).toBe("Parameter 'class' is a Python keyword");
    expect(screen.queryByTestId("schedule-error-timezone")).toBeNull();
    expect(screen.getByTestId("schedule-error").hidden).toBe(true);
    expect((screen.getByTestId("schedule-cron") as HTMLInputElement).value).toBe("0 0 30 2 *");
    expect(onSaved).not.toHaveBeenCalled();
  });

  it("refuses a parameter value that does not parse before sending anything", () => {
    const { requests } = renderForm();
    fireEvent.click(screen.getByTestId("schedule-param-add"));
    change("schedule-param-name", "rate");
    change("schedule-param-value", "nan");
    fireEvent.click(screen.getByTestId("schedule-save"));
    expect(screen.getByTestId("schedule-param-error").textContent).toMatch(/no NaN or infinity/);
    expect(requests.filter((r) => r.method === "POST")).toHaveLength(0);
  });
});

describe("schedule dialog", () => {
  it("lists the notebook's schedules; pause, resume, run now and delete each reach the gateway", async () => {
    let stored = [schedule()];
    const requests = stubGateway({
      "GET /api/notebooks/nb1/schedules": () => ({ status: 200, body: stored }),
      "POST /api/schedules/s1/pause": () => {
        stored = [schedule({ enabled: false })];
        return { status: 200, body: stored[0] };
      },
      "POST /api/schedules/s1/resume": () => {
        stored = [schedule()];
        return { status: 200, body: stored[0] };
      },
      "POST /api/schedules/s1/runs": () => ({
        status: 201,
        body: { id: "r9", status: "queued" },
      }),
      "DELETE /api/schedules/s1": () => {
        stored = [];
        return { status: 204 };
      },
    });
    renderWithQueries(<ScheduleDialog notebookId="nb1" viewerZone="America/New_York" onClose={() => {}} />);
    const row = await screen.findByTestId("schedule-row");
    expect(within(row).getByTestId("schedule-row-when").textContent).toBe("Weekly on Wednesday at 07:30 (Europe/Paris)");
    expect(within(row).getByTestId("schedule-row-next").textContent).toMatch(/Wed, 25 Mar 2026, 02:30/);

    fireEvent.click(within(row).getByTestId("schedule-pause"));
    await waitFor(() => expect(screen.getByTestId("schedule-row").dataset.enabled).toBe("false"));
    fireEvent.click(screen.getByTestId("schedule-resume"));
    await waitFor(() => expect(screen.getByTestId("schedule-row").dataset.enabled).toBe("true"));

    fireEvent.click(screen.getByTestId("schedule-run-now"));
    await waitFor(() => expect(screen.getByTestId("schedule-run-started").querySelector("a")!.getAttribute("href")).toBe("/run/?id=r9"));

    fireEvent.click(screen.getByTestId("schedule-delete"));
    fireEvent.click(await screen.findByTestId("confirm-ok"));
    await waitFor(() => expect(screen.queryAllByTestId("schedule-row")).toHaveLength(0));
    expect(requests.map((r) => `${r.method} ${r.path}`)).toEqual(
      expect.arrayContaining([
        "POST /api/schedules/s1/pause",
        "POST /api/schedules/s1/resume",
        "POST /api/schedules/s1/runs",
        "DELETE /api/schedules/s1",
      ]),
    );
  });

  it("edits a schedule in the form with its preset filled in, and shows the gateway's fire times once saved", async () => {
    let stored = [schedule()];
    const requests = stubGateway({
      "GET /api/notebooks/nb1/schedules": () => ({ status: 200, body: stored }),
      "PUT /api/schedules/s1": (body) => {
        stored = [schedule({ ...(body as object), nextFireTimes: ["2026-03-26T05:30:00.000Z"] })];
        return { status: 200, body: stored[0] };
      },
    });
    renderWithQueries(<ScheduleDialog notebookId="nb1" viewerZone="America/New_York" onClose={() => {}} />);
    fireEvent.click(await screen.findByTestId("schedule-edit"));
    expect((screen.getByTestId("schedule-when") as HTMLSelectElement).value).toBe("weekly");
    expect((screen.getByTestId("schedule-weekday") as HTMLSelectElement).value).toBe("3");
    expect((screen.getByTestId("schedule-time") as HTMLInputElement).value).toBe("07:30");
    expect((screen.getByTestId("schedule-param-value") as HTMLInputElement).value).toBe("0.5");
    // Unchanged, the times are the gateway's.
    expect(screen.getByTestId("schedule-next-times").dataset.source).toBe("server");

    change("schedule-weekday", "4");
    expect(screen.getByTestId("schedule-next-times").dataset.source).toBe("browser");
    fireEvent.click(screen.getByTestId("schedule-save"));
    await waitFor(() => expect(screen.getByTestId("schedule-next-times").dataset.source).toBe("server"));
    expect(screen.getAllByTestId("schedule-next-time")).toHaveLength(1);
    expect(requests.find((r) => r.method === "PUT")!.body).toMatchObject({ cron: "30 7 * * 4", parameters: { alpha: 0.5 } });
  });
});
