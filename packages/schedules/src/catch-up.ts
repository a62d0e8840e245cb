// Which fire times must become runs now, after the last one materialised (the cursor): one tick
// of the scheduler. A fire time is missed when it passed more than the grace window ago, which
// happens only after downtime (or a paused scheduler); the catch-up policy says what missed ones
// get. The ones within the window are not missed: they all run, oldest first, so a tick that
// comes late on an every-second schedule drops none.
//
// Bounded work whatever the downtime (a per-minute schedule down a month has 43,200 missed
// times): at most `bound` fire times are ever computed, walking back from now when there are
// more; the skipped ones beyond `maxSkipped` are not listed, and `moreSkipped` says so.
import type { CatchUpPolicy } from "@cellar/protocol";
import { fireTimesBetween, latestFireTimes } from "./cron";

export const DEFAULT_GRACE_MS = 60_000;
export const DEFAULT_MAX_SKIPPED = 500;

export interface DueQuery {
  cron: string;
  timezone: string;
  catchUp: CatchUpPolicy;
  /** How many missed fire times "backfill" runs (the latest ones). */
  backfillLimit: number;
  /** The last fire time materialised; for a new or resumed schedule, when it was made or resumed
   * (what passed before that is not owed a run). */
  cursor: Date;
  now: Date;
  /** A fire time that passed at most this long ago is due, not missed. */
  graceMs?: number;
  /** At most this many skipped fire times are listed (the latest). */
  maxSkipped?: number;
}

export interface DueFireTimes {
  /** To become runs now, in order. */
  fireTimes: Date[];
  /** To be recorded as skipped runs, in order (the latest `maxSkipped` of them). */
  skipped: Date[];
  /** More fire times were skipped than `skipped` lists. */
  moreSkipped: boolean;
  /** The new cursor: the latest fire time in either list, or the old cursor when none was due. */
  cursor: Date;
}

export function dueFireTimes(query: DueQuery): DueFireTimes {
  const { cron, timezone, catchUp, cursor, now } = query;
  const graceMs = query.graceMs ?? DEFAULT_GRACE_MS;
  const maxSkipped = query.maxSkipped ?? DEFAULT_MAX_SKIPPED;
  const caughtUp = catchUp === "skip" ? 0 : catchUp === "once" ? 1 : query.backfillLimit;
  // Fire times are whole seconds apart at least, so this many fit in the grace window.
  const maxRecent = Math.floor(graceMs / 1000) + 1;
  const bound = maxRecent + caughtUp + maxSkipped;

  let due = fireTimesBetween(cron, timezone, cursor, now, bound + 1);
  const overflow = due.length > bound;
  if (overflow) due = latestFireTimes(cron, timezone, now, bound);

  const firstRecent = due.findIndex((t) => now.getTime() - t.getTime() <= graceMs);
  const missed = firstRecent < 0 ? due : due.slice(0, firstRecent);
  const recent = firstRecent < 0 ? [] : due.slice(firstRecent);
  const caught = caughtUp > 0 ? missed.slice(-caughtUp) : [];
  const rest = missed.slice(0, missed.length - caught.length);
  const skipped = rest.slice(-maxSkipped);
  return {
    fireTimes: [...caught, ...recent],
    skipped,
    moreSkipped: overflow || skipped.length < rest.length,
    cursor: due.at(-1) ?? cursor,
  };
}
