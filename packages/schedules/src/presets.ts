// The schedule form's presets and the cron expressions they stand for, both ways: a preset picked
// in the form becomes its expression; a stored expression is shown as its preset in words when it
// is one ("Weekdays at 09:00"), and as itself otherwise. Times are wall-clock times in the
// schedule's zone.

export const WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"] as const;
/** 0 is Sunday, as in cron. */
export type Weekday = 0 | 1 | 2 | 3 | 4 | 5 | 6;

export type SchedulePreset =
  | { kind: "hourly"; minute: number }
  | { kind: "daily"; hour: number; minute: number }
  | { kind: "weekdays"; hour: number; minute: number }
  | { kind: "weekly"; weekday: Weekday; hour: number; minute: number }
  /** Months without that day (31 in April, 30 in February) have no run, as in cron. */
  | { kind: "monthly"; day: number; hour: number; minute: number };

export type PresetKind = SchedulePreset["kind"];

/** The expression a preset stands for; a number out of range throws RangeError. */
export function presetToCron(preset: SchedulePreset): string {
  const m = inRange("minute", preset.minute, 0, 59);
  if (preset.kind === "hourly") return `${m} * * * *`;
  const h = inRange("hour", preset.hour, 0, 23);
  switch (preset.kind) {
    case "daily":
      return `${m} ${h} * * *`;
    case "weekdays":
      return `${m} ${h} * * 1-5`;
    case "weekly":
      return `${m} ${h} * * ${inRange("weekday", preset.weekday, 0, 6)}`;
    case "monthly":
      return `${m} ${h} ${inRange("day", preset.day, 1, 31)} * *`;
  }
}

export interface CronDescription {
  /** The preset the expression is, or null when it is none of them. */
  preset: SchedulePreset | null;
  /** "Weekdays at 09:00", "Every hour at :15", …; the expression itself when it is no preset. */
  text: string;
}

const NICKNAMES: Record<string, string> = {
  "@hourly": "0 * * * *",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@weekly": "0 0 * * 0",
  "@monthly": "0 0 1 * *",
};
const DAY_NAMES = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/** The preset and words for a cron expression (5 fields, or 6 whose seconds are 0). */
export function describeCron(cron: string): CronDescription {
  const preset = presetOf(cron.trim());
  return { preset, text: preset ? presetText(preset) : cron.trim() };
}

export function presetText(preset: SchedulePreset): string {
  const at = preset.kind === "hourly" ? "" : ` at ${pad(preset.hour)}:${pad(preset.minute)}`;
  switch (preset.kind) {
    case "hourly":
      return `Every hour at :${pad(preset.minute)}`;
    case "daily":
      return `Daily${at}`;
    case "weekdays":
      return `Weekdays${at}`;
    case "weekly":
      return `Weekly on ${WEEKDAYS[preset.weekday]}${at}`;
    case "monthly":
      return `Monthly on day ${preset.day}${at}`;
  }
}

function presetOf(cron: string): SchedulePreset | null {
  let fields = (NICKNAMES[cron.toLowerCase()] ?? cron).split(/\s+/);
  if (fields.length === 6 && fields[0] === "0") fields = fields.slice(1);
  if (fields.length !== 5) return null;
  const [min, hour, dom, month, dow] = fields;
  const minute = number(min, 0, 59);
  if (minute === null || month !== "*") return null;
  if (hour === "*" && dom === "*" && dow === "*") return { kind: "hourly", minute };
  const h = number(hour, 0, 23);
  if (h === null) return null;
  if (dom === "*" && dow === "*") return { kind: "daily", hour: h, minute };
  if (dom === "*" && /^(1-5|mon-fri)$/i.test(dow)) return { kind: "weekdays", hour: h, minute };
  const weekday = dom === "*" ? weekdayOf(dow) : null;
  if (weekday !== null) return { kind: "weekly", weekday, hour: h, minute };
  const day = dow === "*" ? number(dom, 1, 31) : null;
  if (day !== null) return { kind: "monthly", day, hour: h, minute };
  return null;
}

function weekdayOf(field: string): Weekday | null {
  const byName = DAY_NAMES.indexOf(field.toUpperCase());
  if (byName >= 0) return byName as Weekday;
  const n = number(field, 0, 7);
  return n === null ? null : ((n % 7) as Weekday);
}

/** A plain number in [min, max] ("09" too), or null for anything else (a list, a range, a step). */
function number(field: string, min: number, max: number): number | null {
  if (!/^\d{1,2}$/.test(field)) return null;
  const n = Number(field);
  return n >= min && n <= max ? n : null;
}

function inRange(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max)
    throw new RangeError(`${name} must be a whole number from ${min} to ${max}, not ${value}`);
  return value;
}

const pad = (n: number) => String(n).padStart(2, "0");
