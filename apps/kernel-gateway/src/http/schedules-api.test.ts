// The schedules API as the form, the Runs panel, the Jobs page and the CLI use it: what a bad
// schedule is told field by field, what a schedule shows (next fire times), pause, resume, "Run
// now", cancel, and a notebook deleted under its schedule. Who may call each route is walked in
// authorization.test.ts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, TEST_TOKEN, type TestApp } from "./test-app";

let gateway: TestApp;
const headers = { authorization: `Bearer ${TEST_TOKEN}`, "content-type": "application/json" };

beforeAll(async () => {
  gateway = await startTestApp();
});
afterAll(() => gateway.close());

async function api(method: string, path: string, body?: unknown) {
  const res = await fetch(gateway.base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function notebook(): Promise<string> {
  return (await api("POST", "/api/notebooks", { title: "Daily report" })).body.id;
}

describe("schedules API", () => {
  it("names each field that is wrong, all at once", async () => {
    const id = await notebook();
    const bad = await api("POST", `/api/notebooks/${id}/schedules`, { cron: "61 * * * *", timezone: "Mars/Olympus", timeoutSeconds: 0 });
    expect(bad.status).toBe(400);
    const fields = Object.fromEntries(bad.body.fields.map((f: { field: string; message: string }) => [f.field, f.message]));
    expect(fields.timezone).toBe("Unknown time zone 'Mars/Olympus'");
    expect(fields.timeoutSeconds).toMatch(/timeout must be a whole number of seconds/);
    expect(Object.keys(fields)).toContain("timeoutSeconds");
    const cron = await api("POST", `/api/notebooks/${id}/schedules`, { cron: "61 * * * *", timezone: "Europe/Paris" });
    expect(cron).toMatchObject({
      status: 400,
      body: { fields: [{ field: "cron", message: expect.stringMatching(/^Invalid cron expression/) }] },
    });
    const unknown = await api("POST", `/api/notebooks/${id}/schedules`, { cron: "0 9 * * *", timezone: "UTC", colour: "red" });
    expect(unknown.body.fields).toEqual([{ field: "colour", message: "Unknown field 'colour'" }]);
    expect((await api("GET", `/api/notebooks/${id}/schedules`)).body).toEqual([]);
  });

  it("makes a schedule with defaults and its next five fire times in its zone", async () => {
    const id = await notebook();
    const made = await api("POST", `/api/notebooks/${id}/schedules`, {
      cron: "0 9 * * 1-5",
      timezone: "europe/paris",
      parameters: { alpha: 0.5 },
    });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({
      timezone: "Europe/Paris",
      name: "0 9 * * 1-5 (Europe/Paris)",
      parameters: { alpha: 0.5 },
      timeoutSeconds: 3600,
      retries: 0,
      overlap: "skip",
      maxConcurrent: 1,
      catchUp: "skip",
      enabled: true,
      notebookId: id,
      notebookTitle: "Daily report",
      ownerName: expect.any(String),
      recentRuns: [],
    });
    expect(made.body.nextFireTimes).toHaveLength(5);
    for (const time of made.body.nextFireTimes) {
      const local = new Intl.DateTimeFormat("en-GB", {
        timeZone: "Europe/Paris",
        weekday: "short",
        hour: "2-digit",
        minute: "2-digit",
      }).format(new Date(time));
      expect(local).toMatch(/^(Mon|Tue|Wed|Thu|Fri) 09:00$/);
    }
    const mine = await api("GET", "/api/schedules");
    expect(mine.body.map((s: { id: string }) => s.id)).toContain(made.body.id);
  });

  it("pauses, resumes, runs now with other parameters, and cancels a queued run", async () => {
    const id = await notebook();
    const { body: schedule } = await api("POST", `/api/notebooks/${id}/schedules`, { cron: "0 9 * * *", timezone: "UTC", name: "Nightly" });
    const paused = await api("POST", `/api/schedules/${schedule.id}/pause`);
    expect(paused.body).toMatchObject({ enabled: false, nextFireTimes: [] });
    expect((await api("POST", `/api/schedules/${schedule.id}/resume`)).body).toMatchObject({ enabled: true });

    const bad = await api("POST", `/api/schedules/${schedule.id}/runs`, { parameters: { "not a name": 1 } });
    expect(bad.status).toBe(400);
    const run = await api("POST", `/api/schedules/${schedule.id}/runs`, { parameters: { alpha: 2 } });
    expect(run).toMatchObject({
      status: 201,
      body: { status: "queued", trigger: "manual", parameters: { alpha: 2 }, scheduleName: "Nightly" },
    });
    const listed = await api("GET", `/api/notebooks/${id}/runs?status=queued`);
    expect(listed.body.map((r: { id: string }) => r.id)).toEqual([run.body.id]);
    expect((await api("GET", `/api/notebooks/${id}/runs?status=bogus`)).status).toBe(400);

    const cancelled = await api("POST", `/api/runs/${run.body.id}/cancel`);
    expect(cancelled.body).toMatchObject({ status: "cancelled" });
    const again = await api("POST", `/api/runs/${run.body.id}/cancel`);
    expect(again).toMatchObject({ status: 409, body: { error: "The run has already ended (cancelled)" } });
    const detail = await api("GET", `/api/runs/${run.body.id}`);
    expect(detail.body).toMatchObject({ id: run.body.id, status: "cancelled", previousSuccessfulRunId: null, notifications: [] });
  });

  it("a notebook deleted under its schedule disables it with the reason and keeps its runs", async () => {
    const id = await notebook();
    const { body: schedule } = await api("POST", `/api/notebooks/${id}/schedules`, { cron: "0 9 * * *", timezone: "UTC" });
    const run = await api("POST", `/api/schedules/${schedule.id}/runs`);
    expect(run.status, JSON.stringify(run.body)).toBe(201);
    expect((await api("DELETE", `/api/notebooks/${id}`)).status).toBe(204);
    const after = await api("GET", `/api/schedules/${schedule.id}`);
    expect(after.body).toMatchObject({
      enabled: false,
      disabledReason: "The notebook was deleted",
      notebookId: null,
      notebookTitle: "Daily report",
    });
    expect((await api("GET", `/api/runs/${run.body.id}`)).status).toBe(200);
    expect(await api("POST", `/api/schedules/${schedule.id}/resume`)).toMatchObject({
      status: 409,
      body: { error: "The notebook was deleted" },
    });
  });

  it("changes a schedule, checking the result whole", async () => {
    const id = await notebook();
    const { body: schedule } = await api("POST", `/api/notebooks/${id}/schedules`, { cron: "0 9 * * *", timezone: "UTC" });
    const bad = await api("PUT", `/api/schedules/${schedule.id}`, { timezone: "Nowhere/Land" });
    expect(bad.body.fields).toEqual([{ field: "timezone", message: "Unknown time zone 'Nowhere/Land'" }]);
    const changed = await api("PUT", `/api/schedules/${schedule.id}`, { cron: "30 6 * * *", retries: 2 });
    expect(changed.body).toMatchObject({ cron: "30 6 * * *", retries: 2, timezone: "UTC" });
    expect(changed.body.nextFireTimes[0]).toMatch(/T06:30:00/);
  });
});
