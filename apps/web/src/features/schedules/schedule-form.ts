// The schedule form's state and its translation to and from the API's shapes: a preset (or a
// custom cron) in a zone, parameters as typed text, policies. The rules themselves (what a
// preset's cron is, how a value parses, which fire times come next) are @cellar/schedules'; this
// module only wires the form to them, so the dialog stays a view.
import type { FieldError, JsonValue, ScheduleInput, ScheduleReply, ScheduleSpec } from "@cellar/protocol";
import { SCHEDULE_DEFAULTS, SCHEDULE_SPEC_KEYS, scheduleSpecOf } from "@cellar/protocol";
import {
  CronError,
  describeCron,
  nextFireTimes,
  ParameterError,
  parseParameterValue,
  presetToCron,
  type PresetKind,
  type SchedulePreset,
  type Weekday,
} from "@cellar/schedules";

export type WhenKind = PresetKind | "custom";

export interface ParameterRow {
  name: string;
  value: string;
}

/** The schedule's settings the form holds as they are: all but the parameters (rows of typed
 * text), the webhook URL (text, empty for none) and the image (the form leaves it as it is). */
type SettingsAsIs = Omit<ScheduleSpec, "parameters" | "webhookUrl" | "image">;
const NOT_AS_IS: ReadonlySet<string> = new Set(["parameters", "webhookUrl", "image"]);
const SETTINGS_AS_IS = SCHEDULE_SPEC_KEYS.filter((key): key is keyof SettingsAsIs => !NOT_AS_IS.has(key));

/** Those settings out of a spec, a form or the defaults, and nothing else (the gateway refuses
 * fields it does not know, such as the form's preset fields). */
function settingsAsIs(source: SettingsAsIs): SettingsAsIs {
  return Object.fromEntries(SETTINGS_AS_IS.map((key) => [key, source[key]])) as SettingsAsIs;
}

export interface ScheduleForm extends SettingsAsIs {
  when: WhenKind;
  /** Preset fields: `time` is "HH:MM" (all but hourly), `minute` the hourly one. */
  minute: number;
  time: string;
  weekday: Weekday;
  day: number;
  parameters: ParameterRow[];
  webhookUrl: string;
}

/** The zone the viewer's browser is in. */
export const browserTimeZone = (): string => Intl.DateTimeFormat().resolvedOptions().timeZone;

/** Every zone this browser knows, for the zone picker (UTC first: some engines leave it out). */
export function timeZoneChoices(): string[] {
  const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  return ["UTC", ...zones.filter((z) => z !== "UTC")];
}

export function emptyForm(timezone: string = browserTimeZone()): ScheduleForm {
  return {
    ...settingsAsIs({ ...SCHEDULE_DEFAULTS, cron: "0 9 * * *", timezone }),
    when: "daily",
    minute: 0,
    time: "09:00",
    weekday: 1,
    day: 1,
    parameters: [],
    webhookUrl: "",
  };
}

const pad = (n: number) => String(n).padStart(2, "0");

function presetOfForm(form: ScheduleForm): SchedulePreset | null {
  const [hour, minute] = form.time.split(":").map(Number) as [number, number];
  switch (form.when) {
    case "hourly":
      return { kind: "hourly", minute: form.minute };
    case "daily":
    case "weekdays":
      return { kind: form.when, hour, minute };
    case "weekly":
      return { kind: "weekly", weekday: form.weekday, hour, minute };
    case "monthly":
      return { kind: "monthly", day: form.day, hour, minute };
    case "custom":
      return null;
  }
}

/** The form's cron expression: its preset's, or the custom one as typed. A preset field out of
 * range (a minute of 75) gives a message instead. */
export function formCron(form: ScheduleForm): { cron: string } | { problem: string } {
  const preset = presetOfForm(form);
  if (!preset) return { cron: form.cron.trim() };
  try {
    return { cron: presetToCron(preset) };
  } catch (error) {
    return { problem: (error as Error).message };
  }
}

/** A stored schedule as the form shows it: its preset when its cron is one, else custom. */
export function formOfSchedule(s: ScheduleReply): ScheduleForm {
  const spec = scheduleSpecOf(s);
  const { preset } = describeCron(spec.cron);
  const base: ScheduleForm = {
    ...emptyForm(spec.timezone),
    ...settingsAsIs(spec),
    when: preset?.kind ?? "custom",
    parameters: Object.entries(spec.parameters).map(([name, value]) => ({ name, value: parameterText(value) })),
    webhookUrl: spec.webhookUrl ?? "",
  };
  if (!preset) return base;
  const time = preset.kind === "hourly" ? base.time : `${pad(preset.hour)}:${pad(preset.minute)}`;
  return {
    ...base,
    time,
    minute: preset.minute,
    weekday: preset.kind === "weekly" ? preset.weekday : base.weekday,
    day: preset.kind === "monthly" ? preset.day : base.day,
  };
}

/** A value as the user would type it back, so that parsing it again gives the same value. */
export function parameterText(value: JsonValue): string {
  if (typeof value === "string") {
    // Text that would parse as something else (a number, True) is shown quoted.
    try {
      return parseParameterValue(value) === value ? value : JSON.stringify(value);
    } catch {
      return JSON.stringify(value);
    }
  }
  return JSON.stringify(value);
}

export type FormResult = { ok: true; input: ScheduleInput } | { ok: false; errors: FieldError[] };

/** What the form sends, or the problems found before sending (a parameter that does not parse,
 * a preset out of range): the rest is the gateway's to check, and its 400 names the fields. */
export function formToInput(form: ScheduleForm): FormResult {
  const errors: FieldError[] = [];
  const cron = formCron(form);
  if ("problem" in cron) errors.push({ field: "cron", message: cron.problem });
  const parameters: Record<string, JsonValue> = {};
  form.parameters.forEach((row, i) => {
    const name = row.name.trim();
    if (!name && !row.value.trim()) return; // an empty row is no parameter
    if (!name) errors.push({ field: `parameters.${i}`, message: "A parameter needs a name" });
    else if (Object.hasOwn(parameters, name)) errors.push({ field: `parameters.${i}`, message: `'${name}' is given twice` });
    try {
      if (name) parameters[name] = parseParameterValue(row.value);
    } catch (error) {
      if (!(error instanceof ParameterError)) throw error;
      errors.push({ field: `parameters.${i}`, message: error.message });
    }
  });
  if (errors.length > 0 || "problem" in cron) return { ok: false, errors };
  return {
    ok: true,
    input: {
      ...settingsAsIs(form),
      name: form.name.trim(),
      cron: cron.cron,
      timezone: form.timezone.trim(),
      parameters,
      webhookUrl: form.webhookUrl.trim() || null,
    },
  };
}

export type FireTimesPreview = { times: Date[] } | { problem: string; field: "cron" | "timezone" };

/** The next five fire times of what the form holds, as the server will compute them (the same
 * library), or why there are none. */
export function previewFireTimes(form: ScheduleForm, now: Date, n = 5): FireTimesPreview {
  const cron = formCron(form);
  if ("problem" in cron) return { problem: cron.problem, field: "cron" };
  if (!cron.cron) return { problem: "A cron expression is needed", field: "cron" };
  try {
    const times = nextFireTimes(cron.cron, form.timezone.trim(), now, n);
    return times.length ? { times } : { problem: "This expression never fires", field: "cron" };
  } catch (error) {
    if (error instanceof CronError) return { problem: error.message, field: error.field };
    throw error;
  }
}

/** The field a server (or form) error belongs beside: "parameters.alpha" → "parameters". */
export const fieldKey = (field: string) => field.split(".")[0] ?? "";

/** An instant as a wall-clock time in a zone: "Mon 7 Dec 2026, 09:00 CET". */
export function formatInZone(instant: Date | string, zone: string): string {
  const date = typeof instant === "string" ? new Date(instant) : instant;
  return new Intl.DateTimeFormat("en-GB", {
    timeZone: zone,
    weekday: "short",
    day: "numeric",
    month: "short",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    timeZoneName: "short",
  }).format(date);
}
