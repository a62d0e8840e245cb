import { describe, expect, it } from "vitest";
import { CronError, canonicalTimeZone, cronNeverFires, cronProblem, fireTimesBetween, latestFireTimes, nextFireTimes } from "./cron";

const iso = (dates: Date[]) => dates.map((d) => d.toISOString());
const at = (s: string) => new Date(s);
/** Wall-clock time in a zone, for asserting what a user there would see. */
const local = (d: Date, timeZone: string) =>
  new Intl.DateTimeFormat("sv-SE", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  }).format(d);

describe("nextFireTimes", () => {
  it("gives the next n instants strictly after the reference, in the schedule's zone", () => {
    expect(iso(nextFireTimes("0 9 * * 1-5", "Europe/Paris", at("2026-12-04T08:00:00Z"), 3))).toEqual([
      "2026-12-07T08:00:00.000Z", // Friday's 09:00 has passed: Monday, then Tuesday, Wednesday
      "2026-12-08T08:00:00.000Z",
      "2026-12-09T08:00:00.000Z",
    ]);
  });

  it("never returns the reference itself, so a cursor is never fired twice", () => {
    expect(iso(nextFireTimes("0 * * * *", "UTC", at("2026-01-01T10:00:00Z"), 1))).toEqual(["2026-01-01T11:00:00.000Z"]);
  });

  it("takes a seconds field first when there are six", () => {
    expect(iso(nextFireTimes("*/20 * * * * *", "UTC", at("2026-01-01T10:00:00.500Z"), 3))).toEqual([
      "2026-01-01T10:00:20.000Z",
      "2026-01-01T10:00:40.000Z",
      "2026-01-01T10:01:00.000Z",
    ]);
  });

  it("knows croner's nicknames", () => {
    expect(iso(nextFireTimes("@daily", "Asia/Tokyo", at("2026-01-01T12:00:00Z"), 1))).toEqual(["2026-01-01T15:00:00.000Z"]);
  });

  it("gives none for n = 0", () => {
    expect(nextFireTimes("* * * * *", "UTC", at("2026-01-01T00:00:00Z"), 0)).toEqual([]);
  });

  it("throws a CronError naming the field for a bad expression or zone", () => {
    expect(() => nextFireTimes("61 * * * *", "UTC", new Date(0), 1)).toThrow(
      new CronError("Invalid cron expression: Invalid value for minute: 61", "cron"),
    );
    try {
      nextFireTimes("* * * * *", "Mars/Olympus", new Date(0), 1);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(CronError);
      expect((error as CronError).field).toBe("timezone");
      expect((error as CronError).message).toBe("Unknown time zone 'Mars/Olympus'");
    }
  });
});

describe("DST in America/New_York", () => {
  const NY = "America/New_York";

  it("runs 02:30 once on spring-forward day (8 March 2026), at 03:00, the first time after the gap", () => {
    const times = nextFireTimes("30 2 * * *", NY, at("2026-03-07T12:00:00Z"), 3);
    expect(times.map((t) => local(t, NY))).toEqual(["2026-03-08 03:00:00", "2026-03-09 02:30:00", "2026-03-10 02:30:00"]);
  });

  it("runs 01:30 once on fall-back day (1 November 2026), at the first of the two 01:30s (EDT)", () => {
    const times = nextFireTimes("30 1 * * *", NY, at("2026-10-31T12:00:00Z"), 3);
    expect(iso(times)).toEqual(["2026-11-01T05:30:00.000Z", "2026-11-02T06:30:00.000Z", "2026-11-03T06:30:00.000Z"]);
    expect(times.map((t) => local(t, NY))).toEqual(["2026-11-01 01:30:00", "2026-11-02 01:30:00", "2026-11-03 01:30:00"]);
  });

  it("keeps 09:00 at 09:00 local across both changes (the UTC instant moves)", () => {
    const spring = fireTimesBetween("0 9 * * *", NY, at("2026-03-06T00:00:00Z"), at("2026-03-10T00:00:00Z"), 10);
    expect(iso(spring)).toEqual([
      "2026-03-06T14:00:00.000Z",
      "2026-03-07T14:00:00.000Z",
      "2026-03-08T13:00:00.000Z",
      "2026-03-09T13:00:00.000Z",
    ]);
  });

  it("runs an interval job through both passes of the repeated hour, and skips the missing one", () => {
    const fall = fireTimesBetween("*/30 1 * * *", NY, at("2026-11-01T04:00:00Z"), at("2026-11-01T12:00:00Z"), 10);
    expect(iso(fall)).toEqual([
      "2026-11-01T05:00:00.000Z",
      "2026-11-01T05:30:00.000Z",
      "2026-11-01T06:00:00.000Z",
      "2026-11-01T06:30:00.000Z",
    ]);
    const spring = fireTimesBetween("0 * * * *", NY, at("2026-03-08T05:30:00Z"), at("2026-03-08T08:30:00Z"), 10);
    expect(spring.map((t) => local(t, NY))).toEqual(["2026-03-08 01:00:00", "2026-03-08 03:00:00", "2026-03-08 04:00:00"]);
  });
});

describe("calendar specials", () => {
  it("runs 29 February only in leap years", () => {
    expect(iso(nextFireTimes("0 0 29 2 *", "UTC", at("2026-01-01T00:00:00Z"), 3))).toEqual([
      "2028-02-29T00:00:00.000Z",
      "2032-02-29T00:00:00.000Z",
      "2036-02-29T00:00:00.000Z",
    ]);
  });

  it("supports L, the last day of the month, 29 February in a leap year", () => {
    expect(iso(nextFireTimes("0 12 L * *", "UTC", at("2028-01-15T00:00:00Z"), 3))).toEqual([
      "2028-01-31T12:00:00.000Z",
      "2028-02-29T12:00:00.000Z",
      "2028-03-31T12:00:00.000Z",
    ]);
  });

  it("supports W, the nearest weekday: 15 February 2026 is a Sunday, so Monday the 16th", () => {
    expect(iso(nextFireTimes("0 12 15W * *", "UTC", at("2026-01-01T00:00:00Z"), 3))).toEqual([
      "2026-01-15T12:00:00.000Z",
      "2026-02-16T12:00:00.000Z",
      "2026-03-16T12:00:00.000Z",
    ]);
  });

  it("supports the last Friday of the month (FRI#L)", () => {
    expect(iso(nextFireTimes("0 17 * * FRI#L", "UTC", at("2026-12-01T00:00:00Z"), 2))).toEqual([
      "2026-12-25T17:00:00.000Z",
      "2027-01-29T17:00:00.000Z",
    ]);
  });

  it("tells an expression that no date matches", () => {
    expect(cronNeverFires("0 0 30 2 *", "UTC", new Date(0))).toBe(true);
    expect(cronNeverFires("0 0 29 2 *", "UTC", new Date(0))).toBe(false);
  });
});

describe("fireTimesBetween", () => {
  it("gives the fire times in (from, to]: the end is included, the start not", () => {
    expect(iso(fireTimesBetween("0 * * * *", "UTC", at("2026-01-01T10:00:00Z"), at("2026-01-01T12:00:00Z"), 10))).toEqual([
      "2026-01-01T11:00:00.000Z",
      "2026-01-01T12:00:00.000Z",
    ]);
  });

  it("stops at the limit, keeping the earliest", () => {
    expect(fireTimesBetween("* * * * * *", "UTC", at("2026-01-01T00:00:00Z"), at("2026-02-01T00:00:00Z"), 5)).toHaveLength(5);
  });

  it("gives none when to is not after from", () => {
    expect(fireTimesBetween("* * * * *", "UTC", at("2026-01-01T10:00:00Z"), at("2026-01-01T09:00:00Z"), 10)).toEqual([]);
  });
});

describe("latestFireTimes", () => {
  it("gives the latest n at or before the instant, earliest first", () => {
    expect(iso(latestFireTimes("0 * * * *", "UTC", at("2026-01-01T10:00:00Z"), 3))).toEqual([
      "2026-01-01T08:00:00.000Z",
      "2026-01-01T09:00:00.000Z",
      "2026-01-01T10:00:00.000Z",
    ]);
  });
});

describe("cronProblem", () => {
  it.each(["0 9 * * 1-5", "*/5 * * * *", "0 0 L * *", "0 9 * * MON-FRI", "30 0 9 * * *", "@weekly"])("accepts %s", (cron) => {
    expect(cronProblem(cron)).toBeNull();
  });
  it.each([
    ["* * *", "invalid configuration format ('* * *'), exactly five, six, or seven space separated parts are required."],
    ["61 * * * *", "Invalid value for minute: 61"],
    ["0 0 * * 8", "Invalid value for dayOfWeek: 8"],
    ["0 0 0 0 0 0 2030", "mode '5-or-6-parts' requires exactly 5 or 6 parts, but pattern '0 0 0 0 0 0 2030' has 7 parts."],
    ["2030-01-23T00:00:00", "a date is not a cron expression (5 fields, or 6 with seconds first)"],
  ])("refuses %j: %s", (cron, problem) => {
    expect(cronProblem(cron)).toBe(problem);
  });
});

describe("canonicalTimeZone", () => {
  it.each([
    ["Europe/Paris", "Europe/Paris"],
    ["europe/paris", "Europe/Paris"],
    ["UTC", "UTC"],
    ["US/Eastern", "America/New_York"],
  ])("knows %s as %s", (zone, name) => {
    expect(canonicalTimeZone(zone)).toBe(name);
  });
  it.each(["Mars/Olympus", "", "+01:00", "-05:00"])("refuses %j", (zone) => {
    expect(canonicalTimeZone(zone)).toBeNull();
  });
});
