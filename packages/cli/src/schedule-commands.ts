// `cellar schedule …` and `cellar runs`: a notebook's schedules and their runs, over the same HTTP
// API the web app uses, with the caller's token (a personal access token or the instance's).
import type { GatewayClient } from "@cellar/kernel-client";
import type { JsonValue, RunReply, ScheduleInput, ScheduleSummaryReply } from "@cellar/protocol";
import { parseParameterValue } from "@cellar/schedules";
import type { Io } from "./commands";
import { UsageError } from "./connection";

export interface ScheduleCreateOptions {
  cron: string;
  tz?: string;
  name?: string;
  parameter?: string[];
  timeout?: number;
  retries?: number;
  paused?: boolean;
}

/** `-p NAME VALUE` pairs as typed values, papermill-style (0.5 is a number, true a bool). */
export function typedParameters(values: string[] = []): Record<string, JsonValue> {
  if (values.length % 2) throw new UsageError(`-p takes a name and a value (got ${values.length} word(s): ${values.join(" ")})`);
  const parameters: Record<string, JsonValue> = {};
  for (let i = 0; i < values.length; i += 2) parameters[values[i]!] = parseParameterValue(values[i + 1]!);
  return parameters;
}

export async function scheduleCreate(gateway: GatewayClient, notebookId: string, opts: ScheduleCreateOptions, io: Io): Promise<number> {
  const body: ScheduleInput = {
    cron: opts.cron,
    timezone: opts.tz ?? Intl.DateTimeFormat().resolvedOptions().timeZone,
    parameters: typedParameters(opts.parameter),
    ...(opts.name !== undefined && { name: opts.name }),
    ...(opts.timeout !== undefined && { timeoutSeconds: opts.timeout }),
    ...(opts.retries !== undefined && { retries: opts.retries }),
    ...(opts.paused && { enabled: false }),
  };
  const schedule = await gateway.schedules.create(notebookId, body);
  io.out(schedule.id);
  io.err(`Scheduled "${schedule.name}" on ${schedule.notebookTitle}: ${schedule.cron} in ${schedule.timezone}`);
  for (const time of schedule.nextFireTimes) io.err(`  next: ${inZone(time, schedule.timezone)}`);
  return 0;
}

export async function scheduleList(gateway: GatewayClient, notebookId: string | undefined, io: Io): Promise<number> {
  const schedules = notebookId ? await gateway.schedules.ofNotebook(notebookId) : await gateway.schedules.mine();
  if (schedules.length === 0) {
    io.err(notebookId ? "The notebook has no schedules." : "You have no schedules.");
    return 0;
  }
  table(
    io,
    ["ID", "NAME", "NOTEBOOK", "CRON", "ZONE", "STATE", "NEXT", "LAST RUN"],
    schedules.map((s) => [
      s.id,
      s.name,
      s.notebookTitle,
      s.cron,
      s.timezone,
      stateOf(s),
      s.nextFireTimes[0] ? inZone(s.nextFireTimes[0], s.timezone) : "-",
      s.recentRuns[0]?.status.replace("_", " ") ?? "-",
    ]),
  );
  return 0;
}

export async function scheduleAct(
  gateway: GatewayClient,
  action: "pause" | "resume" | "delete" | "run",
  scheduleId: string,
  io: Io,
  parameters?: string[],
): Promise<number> {
  if (action === "delete") {
    await gateway.schedules.remove(scheduleId);
    io.err(`Deleted schedule ${scheduleId} and its runs.`);
  } else if (action === "run") {
    const given = parameters?.length ? typedParameters(parameters) : undefined;
    const run = await gateway.schedules.runNow(scheduleId, given);
    io.out(run.id);
    io.err(`Run ${run.id} of "${run.scheduleName}" is ${run.status}.`);
  } else {
    const schedule = action === "pause" ? await gateway.schedules.pause(scheduleId) : await gateway.schedules.resume(scheduleId);
    io.err(`"${schedule.name}" is ${stateOf(schedule)}.`);
  }
  return 0;
}

export async function runsList(gateway: GatewayClient, notebookId: string, opts: { limit?: number }, io: Io): Promise<number> {
  const runs = await gateway.runs.ofNotebook(notebookId, { limit: opts.limit ?? 20 });
  if (runs.length === 0) {
    io.err("No runs yet.");
    return 0;
  }
  table(
    io,
    ["RUN", "SCHEDULE", "FOR", "STATUS", "TOOK", "ATTEMPT", "ERROR"],
    runs.map((r) => [r.id, r.scheduleName, r.scheduledFor, r.status.replace("_", " "), took(r), String(r.attempt), errorOf(r)]),
  );
  return 0;
}

const stateOf = (s: Pick<ScheduleSummaryReply, "enabled" | "disabledReason">) =>
  s.enabled ? "enabled" : s.disabledReason ? `disabled: ${s.disabledReason}` : "paused";

const took = (r: RunReply) => (r.durationMs === null ? "-" : `${(r.durationMs / 1000).toFixed(1)} s`);

function errorOf(r: RunReply): string {
  if (r.errorName) return `${r.failingCellIndex === null ? "" : `cell ${r.failingCellIndex + 1}: `}${r.errorName}: ${r.errorValue ?? ""}`;
  return r.reason ?? "";
}

/** An instant as the schedule's zone reads it, with the zone's offset. */
function inZone(iso: string, zone: string): string {
  return new Intl.DateTimeFormat("sv-SE", {
    timeZone: zone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    timeZoneName: "shortOffset",
  }).format(new Date(iso));
}

function table(io: Io, head: string[], rows: string[][]): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  io.out(line(head));
  for (const row of rows) io.out(line(row));
}
