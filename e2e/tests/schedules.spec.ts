// Issue 14 through the real stack (gateway and its scheduler, worker, gVisor, IPython, SQLite):
// a notebook scheduled with the `cellar` command, run now with parameters, its executed copy read
// back (outputs computed by a fresh kernel, not the interactive one) and opened read-only in
// Chromium, then a broken cell failing the next run with a notice naming the cell.
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { expect, test, type APIRequestContext } from "@playwright/test";
import { login, token } from "./helpers";

const FIXTURES = path.resolve(__dirname, "../fixtures");
const CELLAR_BIN = path.resolve(__dirname, "../../node_modules/.bin/cellar");
const auth = () => ({ authorization: `Bearer ${token()}` });

function cellar(args: string[], baseURL: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      CELLAR_BIN,
      args,
      { env: { ...process.env, CELLAR_URL: baseURL, CELLAR_TOKEN: token() }, timeout: 60_000 },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === "number" ? error.code : -1) : 0, stdout, stderr }),
    );
  });
}

async function importNotebook(request: APIRequestContext, title: string): Promise<string> {
  const text = fs.readFileSync(path.join(FIXTURES, "cellar-parameters.ipynb"), "utf8");
  const res = await request.post(`/api/notebooks/import?title=${encodeURIComponent(title)}`, { headers: auth(), data: text });
  expect(res.status(), await res.text()).toBe(201);
  return (await res.json()).id;
}

/** The run's record once it has ended (the scheduler ticks every few seconds). */
async function finished(request: APIRequestContext, runId: string) {
  let run: { status: string } & Record<string, unknown> = { status: "queued" };
  await expect
    .poll(
      async () => {
        run = await (await request.get(`/api/runs/${runId}`, { headers: auth() })).json();
        return run.status;
      },
      { timeout: 120_000, intervals: [500] },
    )
    .not.toMatch(/^(queued|running)$/);
  return run;
}

test("a schedule made with the CLI runs now with its parameters on a fresh kernel, and a broken cell fails the next run with a notice", async ({
  baseURL,
  request,
  page,
}) => {
  test.setTimeout(300_000);
  const notebookId = await importNotebook(request, `Scheduled ${Date.now()}`);

  const bad = await cellar(["schedule", "create", notebookId, "--cron", "0 9 * * 1-5", "--tz", "Mars/Olympus"], baseURL!);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain("timezone: Unknown time zone 'Mars/Olympus'");

  const made = await cellar(
    [
      "schedule",
      "create",
      notebookId,
      "--cron",
      "0 9 * * 1-5",
      "--tz",
      "Europe/Paris",
      "--name",
      "Morning",
      "-p",
      "n",
      "5",
      "-p",
      "label",
      "scheduled",
    ],
    baseURL!,
  );
  expect(made.code, made.stderr).toBe(0);
  const scheduleId = made.stdout.trim();
  expect(made.stderr).toContain('Scheduled "Morning"');
  expect(made.stderr.match(/next: \d{4}-\d\d-\d\d 09:00:00 GMT\+[12]/g)).toHaveLength(5);
  const listed = await cellar(["schedule", "list", notebookId], baseURL!);
  expect(listed.stdout).toContain(scheduleId);
  expect(listed.stdout).toContain("0 9 * * 1-5");

  const started = await cellar(["schedule", "run", scheduleId], baseURL!);
  expect(started.code, started.stderr).toBe(0);
  const runId = started.stdout.trim();
  const run = await finished(request, runId);
  expect(run).toMatchObject({ status: "succeeded", trigger: "manual", attempt: 1, parameters: { n: 5, label: "scheduled" } });
  expect(run.workerId).toBeTruthy();

  // The executed copy: parameters injected, outputs computed, read-only, out of the list.
  const copyId = run.executedNotebookId as string;
  const copy = await (await request.get(`/api/notebooks/${copyId}`, { headers: auth() })).json();
  expect(copy).toMatchObject({ kind: "run", executedFromId: notebookId, role: "viewer" });
  const compute = copy.cells.find((c: { id: string }) => c.id === "compute");
  expect(compute.outputs).toEqual([{ output_type: "stream", name: "stdout", text: "scheduled: sum of squares below 5 = 30\n" }]);
  const list = await (await request.get("/api/notebooks", { headers: auth() })).json();
  expect(list.map((n: { id: string }) => n.id)).not.toContain(copyId);
  const exported = await request.get(`/api/notebooks/${copyId}/export`, { headers: auth() });
  expect(exported.status()).toBe(200);
  expect(await exported.text()).toContain("scheduled: sum of squares below 5 = 30");

  await login(page);
  await page.goto(`/notebook/?id=${copyId}`);
  await expect(page.getByTestId("notebook-access")).toHaveText(/View only/);
  await expect(page.getByText("scheduled: sum of squares below 5 = 30")).toBeVisible();

  const runs = await cellar(["runs", notebookId], baseURL!);
  expect(runs.stdout).toMatch(new RegExp(`${runId}\\s+Morning\\s+\\S+\\s+succeeded`));

  // Break a cell: the next run fails at it, and the owner gets one notice naming it.
  const saved = await (await request.get(`/api/notebooks/${notebookId}`, { headers: auth() })).json();
  const cells = saved.cells.map((c: { id: string; source: string }) => (c.id === "compute" ? { ...c, source: "1 / 0" } : c));
  expect((await request.put(`/api/notebooks/${notebookId}`, { headers: auth(), data: { cells } })).status()).toBe(200);
  const again = await cellar(["schedule", "run", scheduleId], baseURL!);
  const failed = await finished(request, again.stdout.trim());
  expect(failed).toMatchObject({ status: "failed", failingCellId: "compute", errorName: "ZeroDivisionError" });
  expect(String(failed.traceback)).toContain("ZeroDivisionError");
  const notices = await (await request.get("/api/notices", { headers: auth() })).json();
  const notice = notices.find((n: { runId: string }) => n.runId === failed.id);
  expect(notice).toMatchObject({ kind: "run_failure" });
  expect(notice.message).toContain('"Morning"');
  expect(notice.message).toMatch(/failed in cell \d: ZeroDivisionError: division by zero/);
});
