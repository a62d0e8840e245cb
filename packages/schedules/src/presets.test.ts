import { describe, expect, it } from "vitest";
import { nextFireTimes } from "./cron";
import { describeCron, presetToCron, type SchedulePreset } from "./presets";

describe("presetToCron and describeCron", () => {
  it.each<[SchedulePreset, string, string]>([
    [{ kind: "hourly", minute: 15 }, "15 * * * *", "Every hour at :15"],
    [{ kind: "hourly", minute: 0 }, "0 * * * *", "Every hour at :00"],
    [{ kind: "daily", hour: 7, minute: 5 }, "5 7 * * *", "Daily at 07:05"],
    [{ kind: "weekdays", hour: 9, minute: 0 }, "0 9 * * 1-5", "Weekdays at 09:00"],
    [{ kind: "weekly", weekday: 1, hour: 8, minute: 30 }, "30 8 * * 1", "Weekly on Monday at 08:30"],
    [{ kind: "weekly", weekday: 0, hour: 23, minute: 59 }, "59 23 * * 0", "Weekly on Sunday at 23:59"],
    [{ kind: "monthly", day: 1, hour: 6, minute: 0 }, "0 6 1 * *", "Monthly on day 1 at 06:00"],
    [{ kind: "monthly", day: 31, hour: 18, minute: 45 }, "45 18 31 * *", "Monthly on day 31 at 18:45"],
  ])("%j is %s, shown as %s", (preset, cron, text) => {
    expect(presetToCron(preset)).toBe(cron);
    expect(describeCron(cron)).toEqual({ preset, text });
  });

  it("fires a weekdays preset on Monday to Friday only", () => {
    const days = nextFireTimes(presetToCron({ kind: "weekdays", hour: 9, minute: 0 }), "UTC", new Date("2026-12-04T10:00:00Z"), 6).map(
      (d) => d.getUTCDay(),
    );
    expect(days).toEqual([1, 2, 3, 4, 5, 1]);
  });

  it("refuses a number out of range", () => {
    expect(() => presetToCron({ kind: "daily", hour: 24, minute: 0 })).toThrow(RangeError);
    expect(() => presetToCron({ kind: "hourly", minute: 60 })).toThrow("minute must be a whole number from 0 to 59, not 60");
    expect(() => presetToCron({ kind: "monthly", day: 0, hour: 1, minute: 0 })).toThrow(RangeError);
    expect(() => presetToCron({ kind: "weekly", weekday: 7 as 0, hour: 1, minute: 0 })).toThrow(RangeError);
    expect(() => presetToCron({ kind: "daily", hour: 1.5, minute: 0 })).toThrow(RangeError);
  });
});

describe("describeCron", () => {
  it.each([
    ["0 9 * * MON-FRI", "Weekdays at 09:00"],
    ["0 9 * * mon-fri", "Weekdays at 09:00"],
    ["00 09 * * 1-5", "Weekdays at 09:00"],
    ["0 0 9 * * 1-5", "Weekdays at 09:00"],
    ["30 8 * * FRI", "Weekly on Friday at 08:30"],
    ["30 8 * * 7", "Weekly on Sunday at 08:30"],
    ["@daily", "Daily at 00:00"],
    ["@hourly", "Every hour at :00"],
    ["@weekly", "Weekly on Sunday at 00:00"],
    ["@monthly", "Monthly on day 1 at 00:00"],
    ["  0 12 * * *  ", "Daily at 12:00"],
  ])("reads %j as a preset: %s", (cron, text) => {
    expect(describeCron(cron).text).toBe(text);
    expect(describeCron(cron).preset).not.toBeNull();
  });

  it.each([
    "*/5 * * * *",
    "0 9,17 * * *",
    "0 9 * * 1-3",
    "0 9 1 * 1",
    "0 9 1 1 *",
    "0 9 L * *",
    "30 0 9 * * *",
    "* * * * *",
    "0 */2 * * *",
    "61 9 * * *",
    "nonsense",
  ])("shows %j as itself", (cron) => {
    expect(describeCron(cron)).toEqual({ preset: null, text: cron });
  });
});
