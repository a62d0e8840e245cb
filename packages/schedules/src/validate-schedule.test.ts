import { SCHEDULE_DEFAULTS } from "@cellar/protocol";
import { describe, expect, it } from "vitest";
import { validateSchedule, validateScheduleUpdate } from "./validate-schedule";

const base = { cron: "0 9 * * 1-5", timezone: "Europe/Paris" };
/** The errors of a schedule that is `base` with `change`, as the API's 400 would list them. */
const errorsOf = (input: unknown) => {
  const result = validateSchedule(input);
  if (result.ok) throw new Error(`expected errors, got ${JSON.stringify(result.value)}`);
  return result.errors;
};

describe("validateSchedule", () => {
  it("fills every default: timeout 1 h, no retries, overlap skip, one at a time, missed runs skipped, enabled", () => {
    const result = validateSchedule(base);
    expect(result).toEqual({ ok: true, value: { ...SCHEDULE_DEFAULTS, ...base } });
    expect(result.ok && result.value).toMatchObject({
      timeoutSeconds: 3600,
      retries: 0,
      overlap: "skip",
      maxConcurrent: 1,
      catchUp: "skip",
      enabled: true,
      parameters: {},
    });
  });

  it("keeps every field given", () => {
    const input = {
      ...base,
      name: "Morning report",
      parameters: { alpha: 0.5, region: "eu", flags: [1, "two", null], nested: { on: true } },
      image: "networkx",
      timeoutSeconds: 600,
      retries: 3,
      retryBackoffSeconds: 30,
      overlap: "queue",
      maxConcurrent: 2,
      catchUp: "backfill",
      backfillLimit: 5,
      prewarmSeconds: 10,
      notifyOnFailure: false,
      notifyOnSuccess: true,
      notifyOnRecovery: true,
      webhookUrl: "https://hooks.slack.com/services/T/B/x",
      enabled: false,
    };
    expect(validateSchedule(input)).toEqual({ ok: true, value: input });
  });

  it("trims the expression and gives the zone its canonical name", () => {
    const result = validateSchedule({ cron: "  30 8 * * *  ", timezone: " europe/paris " });
    expect(result.ok && [result.value.cron, result.value.timezone]).toEqual(["30 8 * * *", "Europe/Paris"]);
  });

  it("accepts six fields (seconds first) and L", () => {
    expect(validateSchedule({ ...base, cron: "* * * * * *" }).ok).toBe(true);
    expect(validateSchedule({ ...base, cron: "0 18 L * *" }).ok).toBe(true);
  });

  it.each(
    [
      [{ timezone: "UTC" }, "cron", 'A cron expression is needed, such as "0 9 * * 1-5"'],
      [{ ...base, cron: "   " }, "cron", 'A cron expression is needed, such as "0 9 * * 1-5"'],
      [{ ...base, cron: 9 }, "cron", 'A cron expression is needed, such as "0 9 * * 1-5"'],
      [{ ...base, cron: "61 9 * * *" }, "cron", "Invalid cron expression: Invalid value for minute: 61"],
      [
        { ...base, cron: "every day" },
        "cron",
        "Invalid cron expression: invalid configuration format ('every day'), exactly five, six, or seven space separated parts are required.",
      ],
      [
        { ...base, cron: "1/5 * * * *" },
        "cron",
        "Invalid cron expression: Syntax error, stepping with numeric prefix ('1/5') is not allowed. Use wildcard (*/step) or range (min-max/step) instead.",
      ],
      [
        { ...base, cron: "2030-01-01T09:00:00" },
        "cron",
        "Invalid cron expression: a date is not a cron expression (5 fields, or 6 with seconds first)",
      ],
      [{ ...base, cron: "0 0 30 2 *" }, "cron", "The cron expression '0 0 30 2 *' never fires: no date matches it"],
      [{ cron: "0 9 * * *" }, "timezone", "A time zone is needed: an IANA name such as Europe/Paris"],
      [{ ...base, timezone: "" }, "timezone", "A time zone is needed: an IANA name such as Europe/Paris"],
      [{ ...base, timezone: 2 }, "timezone", "A time zone is needed: an IANA name such as Europe/Paris"],
      [{ ...base, timezone: "Mars/Olympus" }, "timezone", "Unknown time zone 'Mars/Olympus'"],
      [{ ...base, timezone: "+02:00" }, "timezone", "Unknown time zone '+02:00'"],
      [{ ...base, name: "x".repeat(201) }, "name", "The name must be a text of at most 200 characters"],
      [{ ...base, name: 5 }, "name", "The name must be a text of at most 200 characters"],
      [{ ...base, parameters: [1] }, "parameters", "Parameters must be an object of names to JSON values"],
      [{ ...base, parameters: "alpha=1" }, "parameters", "Parameters must be an object of names to JSON values"],
      [
        { ...base, parameters: { "1st": 1 } },
        "parameters",
        "Parameter '1st' is not a Python identifier (letters, digits and _, not starting with a digit)",
      ],
      [
        { ...base, parameters: { "my-param": 1 } },
        "parameters",
        "Parameter 'my-param' is not a Python identifier (letters, digits and _, not starting with a digit)",
      ],
      [{ ...base, parameters: { lambda: 1 } }, "parameters", "Parameter 'lambda' is a Python keyword"],
      [
        { ...base, parameters: Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`p${i}`, i])) },
        "parameters",
        "At most 100 parameters",
      ],
      [{ ...base, parameters: { big: "x".repeat(70_000) } }, "parameters", "Parameters must take at most 65536 bytes as JSON"],
      [{ ...base, image: "Not An Image" }, "image", "The image must be an image's name (lower-case letters, digits and -) or null"],
      [{ ...base, image: 3 }, "image", "The image must be an image's name (lower-case letters, digits and -) or null"],
      [{ ...base, timeoutSeconds: 0 }, "timeoutSeconds", "The timeout must be a whole number of seconds from 1 to 604800"],
      [{ ...base, timeoutSeconds: 604801 }, "timeoutSeconds", "The timeout must be a whole number of seconds from 1 to 604800"],
      [{ ...base, timeoutSeconds: 1.5 }, "timeoutSeconds", "The timeout must be a whole number of seconds from 1 to 604800"],
      [{ ...base, timeoutSeconds: "3600" }, "timeoutSeconds", "The timeout must be a whole number of seconds from 1 to 604800"],
      [{ ...base, retries: -1 }, "retries", "Retries must be a whole number from 0 to 10"],
      [{ ...base, retries: 11 }, "retries", "Retries must be a whole number from 0 to 10"],
      [{ ...base, retryBackoffSeconds: 0 }, "retryBackoffSeconds", "The retry backoff must be a whole number of seconds from 1 to 86400"],
      [{ ...base, overlap: "parallel" }, "overlap", 'The overlap policy must be "skip" or "queue"'],
      [{ ...base, maxConcurrent: 0 }, "maxConcurrent", "Max concurrent runs must be a whole number from 1 to 10"],
      [{ ...base, maxConcurrent: 11 }, "maxConcurrent", "Max concurrent runs must be a whole number from 1 to 10"],
      [{ ...base, catchUp: "all" }, "catchUp", 'The catch-up policy must be "skip", "once" or "backfill"'],
      [{ ...base, backfillLimit: 0 }, "backfillLimit", "The backfill limit must be a whole number from 1 to 100"],
      [{ ...base, backfillLimit: 101 }, "backfillLimit", "The backfill limit must be a whole number from 1 to 100"],
      [{ ...base, prewarmSeconds: -5 }, "prewarmSeconds", "Pre-warm must be a whole number of seconds from 0 to 300"],
      [{ ...base, prewarmSeconds: 301 }, "prewarmSeconds", "Pre-warm must be a whole number of seconds from 0 to 300"],
      [{ ...base, notifyOnFailure: "yes" }, "notifyOnFailure", "notifyOnFailure must be true or false"],
      [{ ...base, notifyOnSuccess: 1 }, "notifyOnSuccess", "notifyOnSuccess must be true or false"],
      [{ ...base, notifyOnRecovery: null }, "notifyOnRecovery", "notifyOnRecovery must be true or false"],
      [{ ...base, webhookUrl: "ftp://example.com/hook" }, "webhookUrl", "The webhook URL must be an http or https URL"],
      [{ ...base, webhookUrl: "not a url" }, "webhookUrl", "The webhook URL must be an http or https URL"],
      [{ ...base, enabled: "true" }, "enabled", "enabled must be true or false"],
      [{ ...base, timeZone: "UTC" }, "timeZone", "Unknown field 'timeZone'"],
    ].map(([input, field, message]) => ({ input, field, message })),
  )("refuses a bad $field: $message", ({ input, field, message }) => {
    expect(errorsOf(input)).toEqual([{ field, message }]);
  });

  it.each([null, [], "0 9 * * *", 42])("refuses a body that is not an object (%j)", (input) => {
    expect(errorsOf(input)).toEqual([{ field: "", message: "A schedule must be a JSON object" }]);
  });

  it("lists every problem at once, one per field", () => {
    const errors = errorsOf({ cron: "99 * * * *", timezone: "Mars/Olympus", retries: 50, overlap: "maybe", colour: "red", size: 1 });
    expect(errors).toEqual(
      expect.arrayContaining([
        { field: "cron", message: "Invalid cron expression: Invalid value for minute: 99" },
        { field: "timezone", message: "Unknown time zone 'Mars/Olympus'" },
        { field: "retries", message: "Retries must be a whole number from 0 to 10" },
        { field: "overlap", message: 'The overlap policy must be "skip" or "queue"' },
        { field: "colour", message: "Unknown field 'colour'" },
        { field: "size", message: "Unknown field 'size'" },
      ]),
    );
    expect(errors).toHaveLength(6);
  });

  it("tells an expression that never fires even when the zone is also wrong", () => {
    expect(errorsOf({ cron: "0 0 31 4 *", timezone: "Nowhere/Land" })).toEqual([
      { field: "timezone", message: "Unknown time zone 'Nowhere/Land'" },
      { field: "cron", message: "The cron expression '0 0 31 4 *' never fires: no date matches it" },
    ]);
  });
});

describe("validateScheduleUpdate", () => {
  const current = (() => {
    const r = validateSchedule({ ...base, retries: 2, parameters: { alpha: 1 } });
    if (!r.ok) throw new Error("fixture");
    return r.value;
  })();

  it("replaces only the fields sent", () => {
    expect(validateScheduleUpdate(current, { cron: "0 10 * * *", enabled: false })).toEqual({
      ok: true,
      value: { ...current, cron: "0 10 * * *", enabled: false },
    });
  });

  it("checks the result whole: a bad field is named, the stored ones are kept", () => {
    expect(validateScheduleUpdate(current, { timezone: "Mars/Olympus" })).toEqual({
      ok: false,
      errors: [{ field: "timezone", message: "Unknown time zone 'Mars/Olympus'" }],
    });
  });

  it("refuses a change that is not an object", () => {
    expect(validateScheduleUpdate(current, ["cron"])).toEqual({
      ok: false,
      errors: [{ field: "", message: "A schedule change must be a JSON object" }],
    });
  });
});
