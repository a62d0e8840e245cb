// Fire times of a cron expression in an IANA time zone, computed by croner (which handles DST the
// Vixie-cron way: a fixed time that does not exist on spring-forward day runs at the first valid
// time after the gap, one that occurs twice on fall-back day runs at its first occurrence; see
// cron.test.ts). Every function takes the instant it counts from: nothing here reads the clock.
import { Cron } from "croner";

/** 5 fields (minute-level) or 6 (with seconds first), plus croner's nicknames (@daily, …). */
const CRON_MODE = "5-or-6-parts";

/** Thrown for an expression or zone that validateSchedule would refuse: callers pass stored,
 * checked schedules, so this is a bug or a zone the host's ICU no longer knows. */
export class CronError extends Error {
  constructor(
    message: string,
    readonly field: "cron" | "timezone",
  ) {
    super(message);
    this.name = "CronError";
  }
}

/** The zone's canonical IANA name ("europe/paris" → "Europe/Paris", "US/Eastern" →
 * "America/New_York"), or null if this host does not know it. Offsets ("+01:00") are refused:
 * a fixed offset has no DST, which is what a user naming a place expects. */
export function canonicalTimeZone(zone: string): string | null {
  if (zone === "" || /^[+-]/.test(zone)) return null;
  try {
    return new Intl.DateTimeFormat("en-US", { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    return null;
  }
}

/** Why croner refuses `cron`, in words, or null when it parses. It does not say whether the
 * expression ever fires (see `cronNeverFires`). */
export function cronProblem(cron: string): string | null {
  // croner takes a date ("2030-01-23T00:00:00") as a one-off job: not a schedule.
  if (cron.includes(":")) return "a date is not a cron expression (5 fields, or 6 with seconds first)";
  try {
    new Cron(cron, { mode: CRON_MODE });
    return null;
  } catch (error) {
    return (error as Error).message.replace(/^CronPattern: /, "");
  }
}

/** A parsed expression in a zone. Fire times are instants; croner keeps no timer for it (it has
 * no function to call). */
function compile(cron: string, zone: string): Cron {
  const problem = cronProblem(cron);
  if (problem) throw new CronError(`Invalid cron expression: ${problem}`, "cron");
  if (!canonicalTimeZone(zone)) throw new CronError(`Unknown time zone '${zone}'`, "timezone");
  return new Cron(cron, { mode: CRON_MODE, timezone: zone });
}

/** True when no date ever matches (`0 0 30 2 *`: 30 February). */
export function cronNeverFires(cron: string, zone: string, after: Date): boolean {
  return compile(cron, zone).nextRun(after) === null;
}

/** The next `n` fire times strictly after `after`, in order (fewer if the expression stops). */
export function nextFireTimes(cron: string, zone: string, after: Date, n: number): Date[] {
  if (n <= 0) return [];
  return compile(cron, zone).nextRuns(n, after);
}

/** Fire times in (from, to], in order, at most `limit` of them (the earliest). */
export function fireTimesBetween(cron: string, zone: string, from: Date, to: Date, limit: number): Date[] {
  const job = compile(cron, zone);
  const times: Date[] = [];
  for (let t = job.nextRun(from); t && t.getTime() <= to.getTime() && times.length < limit; t = job.nextRun(t)) times.push(t);
  return times;
}

/** The latest `n` fire times at or before `at`, in order (earliest first). */
export function latestFireTimes(cron: string, zone: string, at: Date, n: number): Date[] {
  if (n <= 0) return [];
  // previousRuns excludes its reference instant; fire times are whole seconds, so 1 ms on includes it.
  return compile(cron, zone)
    .previousRuns(n, new Date(at.getTime() + 1))
    .reverse();
}
