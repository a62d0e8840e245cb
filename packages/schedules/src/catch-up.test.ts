import { Cron } from "croner";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type DueQuery, dueFireTimes } from "./catch-up";

const at = (s: string) => new Date(s);
const hhmm = (dates: Date[]) => dates.map((d) => d.toISOString().slice(11, 16));
const hhmmss = (dates: Date[]) => dates.map((d) => d.toISOString().slice(11, 19));
const hourly = { cron: "0 * * * *", timezone: "UTC", backfillLimit: 5 };
const perMinute = { cron: "* * * * *", timezone: "UTC", backfillLimit: 10 };
const due = (q: Omit<DueQuery, "catchUp"> & { catchUp?: DueQuery["catchUp"] }) => dueFireTimes({ catchUp: "skip", ...q });

describe("dueFireTimes while the scheduler runs", () => {
  it("makes the fire time that just passed due, once", () => {
    const r = due({ ...hourly, cursor: at("2026-01-01T09:00:00Z"), now: at("2026-01-01T10:00:00.400Z") });
    expect(hhmm(r.fireTimes)).toEqual(["10:00"]);
    expect(r.skipped).toEqual([]);
    expect(r.cursor).toEqual(at("2026-01-01T10:00:00Z"));
    // The next tick, from the new cursor, finds nothing more.
    expect(due({ ...hourly, cursor: r.cursor, now: at("2026-01-01T10:00:01Z") }).fireTimes).toEqual([]);
  });

  it("leaves the cursor where it was when nothing is due, or when this clock is behind it", () => {
    const cursor = at("2026-01-01T10:00:00Z");
    expect(due({ ...hourly, cursor, now: at("2026-01-01T10:30:00Z") })).toEqual({ fireTimes: [], skipped: [], moreSkipped: false, cursor });
    expect(due({ ...hourly, cursor, now: at("2026-01-01T09:59:00Z") })).toEqual({ fireTimes: [], skipped: [], moreSkipped: false, cursor });
    expect(due({ ...hourly, cursor, now: cursor }).fireTimes).toEqual([]);
  });

  it("drops none of an every-second schedule's fire times when a tick comes late", () => {
    const r = due({
      cron: "* * * * * *",
      timezone: "UTC",
      backfillLimit: 1,
      cursor: at("2026-01-01T10:00:00Z"),
      now: at("2026-01-01T10:00:03.200Z"),
    });
    expect(hhmmss(r.fireTimes)).toEqual(["10:00:01", "10:00:02", "10:00:03"]);
    expect(r.skipped).toEqual([]);
  });

  it("counts a fire time exactly the grace window old as due, a millisecond more as missed", () => {
    const cursor = at("2026-01-01T09:00:00Z");
    expect(hhmm(due({ ...hourly, cursor, now: at("2026-01-01T10:01:00Z") }).fireTimes)).toEqual(["10:00"]);
    const late = due({ ...hourly, cursor, now: at("2026-01-01T10:01:00.001Z") });
    expect([late.fireTimes, hhmm(late.skipped)]).toEqual([[], ["10:00"]]);
    expect(hhmm(due({ ...hourly, cursor, now: at("2026-01-01T10:05:00Z"), graceMs: 600_000 }).fireTimes)).toEqual(["10:00"]);
  });
});

describe("dueFireTimes after a 2 h outage of an hourly schedule (last run 08:00)", () => {
  const cursor = at("2026-01-01T08:00:00Z");

  it.each([
    ["skip", "10:00:30", ["10:00"], ["09:00"]],
    ["once", "10:00:30", ["09:00", "10:00"], []],
    ["backfill", "10:00:30", ["09:00", "10:00"], []],
    ["skip", "10:30:00", [], ["09:00", "10:00"]],
    ["once", "10:30:00", ["10:00"], ["09:00"]],
    ["backfill", "10:30:00", ["09:00", "10:00"], []],
  ] as const)("%s, back at %s: runs %j, skips %j", (catchUp, back, runs, skips) => {
    const r = due({ ...hourly, catchUp, cursor, now: at(`2026-01-01T${back}Z`) });
    expect(hhmm(r.fireTimes)).toEqual(runs);
    expect(hhmm(r.skipped)).toEqual(skips);
    expect(r.moreSkipped).toBe(false);
    expect(r.cursor).toEqual(at("2026-01-01T10:00:00Z"));
  });

  it("backfills only the last N missed", () => {
    const r = due({ ...hourly, catchUp: "backfill", backfillLimit: 1, cursor, now: at("2026-01-01T10:30:00Z") });
    expect([hhmm(r.fireTimes), hhmm(r.skipped)]).toEqual([["10:00"], ["09:00"]]);
  });
});

describe("dueFireTimes after a 2 h outage of a per-minute schedule (last run 08:00, back at 10:00:30)", () => {
  const q = { ...perMinute, cursor: at("2026-01-01T08:00:00Z"), now: at("2026-01-01T10:00:30Z") };

  it("skip: runs 10:00, records the 119 missed ones as skipped", () => {
    const r = due({ ...q, catchUp: "skip" });
    expect(hhmm(r.fireTimes)).toEqual(["10:00"]);
    expect(r.skipped).toHaveLength(119);
    expect(hhmm([r.skipped[0], r.skipped[118]])).toEqual(["08:01", "09:59"]);
    expect(r.moreSkipped).toBe(false);
    expect(r.cursor).toEqual(at("2026-01-01T10:00:00Z"));
  });

  it("once: runs 09:59 for the missed ones, then 10:00", () => {
    const r = due({ ...q, catchUp: "once" });
    expect(hhmm(r.fireTimes)).toEqual(["09:59", "10:00"]);
    expect(r.skipped).toHaveLength(118);
  });

  it("backfill 10: runs 09:50 to 09:59 in order, then 10:00", () => {
    const r = due({ ...q, catchUp: "backfill" });
    expect(hhmm(r.fireTimes)).toEqual(["09:50", "09:51", "09:52", "09:53", "09:54", "09:55", "09:56", "09:57", "09:58", "09:59", "10:00"]);
    expect(r.skipped).toHaveLength(109);
    expect(hhmm(r.skipped).at(-1)).toBe("09:49");
  });

  it("lists at most maxSkipped skipped ones, the latest, and says there were more", () => {
    const r = due({ ...q, maxSkipped: 50 });
    expect(r.skipped).toHaveLength(50);
    expect(hhmm([r.skipped[0], r.skipped[49]])).toEqual(["09:10", "09:59"]);
    expect(r.moreSkipped).toBe(true);
  });
});

describe("dueFireTimes after a month down (a per-minute schedule: 43,200 missed)", () => {
  afterEach(() => vi.restoreAllMocks());
  const q = { ...perMinute, catchUp: "backfill" as const, cursor: at("2026-11-01T00:00:00Z"), now: at("2026-12-01T00:00:30Z") };

  it("gives the latest ones and moves the cursor to the last", () => {
    const r = due(q);
    expect(hhmm(r.fireTimes)).toEqual(["23:50", "23:51", "23:52", "23:53", "23:54", "23:55", "23:56", "23:57", "23:58", "23:59", "00:00"]);
    expect(r.fireTimes.at(-1)).toEqual(at("2026-12-01T00:00:00Z"));
    expect(r.skipped).toHaveLength(500);
    expect(r.skipped.at(-1)).toEqual(at("2026-11-30T23:49:00Z"));
    expect(r.moreSkipped).toBe(true);
    expect(r.cursor).toEqual(at("2026-12-01T00:00:00Z"));
  });

  it("computes no more fire times for a year down than for a day down", () => {
    const calls = (cursor: Date) => {
      const next = vi.spyOn(Cron.prototype, "nextRun");
      const previous = vi.spyOn(Cron.prototype, "previousRuns");
      due({ ...q, cursor });
      const count = next.mock.calls.length + previous.mock.calls.reduce((n, [k]) => n + (k ?? 0), 0);
      vi.restoreAllMocks();
      return count;
    };
    const day = calls(at("2026-11-30T00:00:00Z"));
    const year = calls(at("2025-12-01T00:00:00Z"));
    // Both outages overflow the bound (61 fire times in the grace window + 10 backfilled + 500
    // skipped): one walk forward and one back, of that many each, whatever the length.
    expect(year).toBe(day);
    expect(year).toBeLessThanOrEqual(2 * (61 + 10 + 500) + 2);
  });
});

/** A scheduler ticking from `from` to `to` every `stepMs` (or at the given offsets): each tick
 * materialises what is due and moves the cursor, as the store will. */
function simulate(q: Omit<DueQuery, "cursor" | "now">, from: Date, ticks: number[]) {
  let cursor = from;
  const runs: Date[] = [];
  const skipped: Date[] = [];
  for (const ms of ticks) {
    const r = dueFireTimes({ ...q, cursor, now: new Date(from.getTime() + ms) });
    runs.push(...r.fireTimes);
    skipped.push(...r.skipped);
    cursor = r.cursor;
  }
  return { runs, skipped };
}
const every = (stepMs: number, untilMs: number) => Array.from({ length: Math.floor(untilMs / stepMs) }, (_, i) => (i + 1) * stepMs);

describe("dueFireTimes ticked like the scheduler", () => {
  const NY = "America/New_York";

  it("runs 02:30 once on spring-forward night in New York, at 03:00", () => {
    const q = { cron: "30 2 * * *", timezone: NY, catchUp: "skip" as const, backfillLimit: 1 };
    const { runs, skipped } = simulate(q, at("2026-03-08T05:00:00Z"), every(10_000, 4 * 3600_000));
    expect(runs).toEqual([at("2026-03-08T07:00:00Z")]);
    expect(skipped).toEqual([]);
  });

  it("runs 01:30 once on fall-back night in New York, though 01:30 comes twice", () => {
    const q = { cron: "30 1 * * *", timezone: NY, catchUp: "skip" as const, backfillLimit: 1 };
    const { runs, skipped } = simulate(q, at("2026-11-01T04:00:00Z"), every(10_000, 4 * 3600_000));
    expect(runs).toEqual([at("2026-11-01T05:30:00Z")]);
    expect(skipped).toEqual([]);
  });

  it("gives an every-second schedule exactly 100 distinct runs in 100 s, ticked at uneven intervals", () => {
    // Uneven, repeatable gaps of 0.1–2.9 s, as a loaded gateway's timer would fire.
    const ticks: number[] = [];
    for (let t = 0, i = 0; t < 100_000; i++) ticks.push((t = Math.min(100_000, t + 100 + ((i * 7919) % 2800))));
    const q = { cron: "* * * * * *", timezone: "UTC", catchUp: "skip" as const, backfillLimit: 1 };
    const { runs, skipped } = simulate(q, at("2026-01-01T00:00:00Z"), ticks);
    expect(runs).toHaveLength(100);
    expect(new Set(runs.map((d) => d.getTime())).size).toBe(100);
    expect(skipped).toEqual([]);
  });
});
