// A schedule as sent, checked whole: the shape by @cellar/protocol's schema (types, ranges,
// defaults, parameter names), then the cron expression by croner and the zone by the host's ICU.
// Every problem comes back at once, one per field, for the form to show beside each.
import { type FieldError, fieldErrorsOf, type ScheduleSpec, scheduleBodySchema } from "@cellar/protocol";
import { canonicalTimeZone, cronNeverFires, cronProblem } from "./cron";

export type Validation<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };

/** A new schedule (the create body): defaults applied, the zone given its canonical name. */
export function validateSchedule(input: unknown): Validation<ScheduleSpec> {
  const parsed = scheduleBodySchema.safeParse(input);
  const errors = parsed.success ? [] : fieldErrorsOf(parsed.error);
  if (typeof input !== "object" || input === null || Array.isArray(input)) return { ok: false, errors };
  const raw = input as Record<string, unknown>;
  // The shape check has already named a field that is missing or not a string.
  const unchecked = (field: string) => typeof raw[field] === "string" && !errors.some((e) => e.field === field);

  const cron = unchecked("cron") ? String(raw.cron).trim() : null;
  const cronOk = cron !== null && checkCron(cron, errors);
  const zoneName = unchecked("timezone") ? String(raw.timezone).trim() : null;
  const zone = zoneName === null ? null : canonicalTimeZone(zoneName);
  if (zoneName !== null && !zone) errors.push({ field: "timezone", message: `Unknown time zone '${zoneName}'` });
  // Whether it ever fires does not depend on the zone; UTC lets it be told with a bad zone too.
  if (cronOk && cronNeverFires(cron, "UTC", new Date(0))) {
    errors.push({ field: "cron", message: `The cron expression '${cron}' never fires: no date matches it` });
  }

  if (errors.length > 0 || !parsed.success || !zone) return { ok: false, errors };
  return { ok: true, value: { ...parsed.data, timezone: zone } };
}

/** A change to a stored schedule: the fields sent replace the stored ones, and the result is
 * checked whole (so a new cron is checked against the zone it will run in). */
export function validateScheduleUpdate(current: ScheduleSpec, change: unknown): Validation<ScheduleSpec> {
  if (typeof change !== "object" || change === null || Array.isArray(change)) {
    return { ok: false, errors: [{ field: "", message: "A schedule change must be a JSON object" }] };
  }
  return validateSchedule({ ...current, ...change });
}

function checkCron(cron: string, errors: FieldError[]): boolean {
  const problem = cronProblem(cron);
  if (problem) errors.push({ field: "cron", message: `Invalid cron expression: ${problem}` });
  return !problem;
}
