// Request and reply shapes of a schedule: a notebook run on a cron expression in a time zone, with
// its parameters, limits and policies. The shape (types, ranges, defaults) is checked here; that
// the cron expression parses and the zone exists is checked by @cellar/schedules'
// `validateSchedule`, which applies this schema first, so one call gives every field's problem.
// Each message names the field in words, for the form to show beside it; the API puts them in
// its 400 reply as `fields: [{field, message}]` (errors.ts).
import { z } from "zod";
import { pythonNameProblem } from "../python-names";
import { IMAGE_NAME_PATTERN } from "./notebooks";

/** After downtime, what to do with the fire times that passed unseen: "skip" them (recorded as
 * skipped runs), run "once" for the latest of them, or "backfill" the last `backfillLimit`. */
export const CATCH_UP_POLICIES = ["skip", "once", "backfill"] as const;
export type CatchUpPolicy = (typeof CATCH_UP_POLICIES)[number];

/** When `maxConcurrent` runs of the schedule are still going at a fire time: "skip" that run
 * (recorded as skipped) or "queue" it until one finishes. */
export const OVERLAP_POLICIES = ["skip", "queue"] as const;
export type OverlapPolicy = (typeof OVERLAP_POLICIES)[number];

/** The bounds of each number, for the form's inputs as well as for the checks. */
export const SCHEDULE_LIMITS = {
  nameLength: 200,
  timeoutSeconds: { min: 1, max: 7 * 24 * 3600 },
  retries: { min: 0, max: 10 },
  retryBackoffSeconds: { min: 1, max: 24 * 3600 },
  maxConcurrent: { min: 1, max: 10 },
  backfillLimit: { min: 1, max: 100 },
  prewarmSeconds: { min: 0, max: 300 },
  parameters: 100,
  parametersBytes: 64 * 1024,
} as const;

/** What a schedule is when the request leaves a field out. */
export const SCHEDULE_DEFAULTS = {
  name: "",
  parameters: {},
  /** null: the notebook's own image at each run. */
  image: null,
  timeoutSeconds: 3600,
  retries: 0,
  retryBackoffSeconds: 60,
  overlap: "skip",
  maxConcurrent: 1,
  catchUp: "skip",
  backfillLimit: 10,
  /** 0: no pre-warm; otherwise the kernel is restored this many seconds before the fire time. */
  prewarmSeconds: 0,
  notifyOnFailure: true,
  notifyOnSuccess: false,
  notifyOnRecovery: false,
  webhookUrl: null,
  enabled: true,
} as const;

export const jsonValueSchema = z.json();
/** A parameter's value: typed JSON (papermill's `-p alpha 0.5` gives the number 0.5). */
export type JsonValue = z.infer<typeof jsonValueSchema>;

const whole = (label: string, { min, max }: { min: number; max: number }, unit = "") => {
  const message = `${label} must be a whole number${unit} from ${min} to ${max}`;
  return z.int({ error: message }).min(min, message).max(max, message);
};
const flag = (name: string) => z.boolean({ error: `${name} must be true or false` });

const parametersSchema = z
  .record(z.string(), jsonValueSchema, { error: "Parameters must be an object of names to JSON values" })
  .superRefine((parameters, ctx) => {
    const names = Object.keys(parameters);
    for (const name of names) {
      const problem = pythonNameProblem(name);
      if (problem) ctx.addIssue({ code: "custom", message: `Parameter '${name}' ${problem}` });
    }
    if (names.length > SCHEDULE_LIMITS.parameters) {
      ctx.addIssue({ code: "custom", message: `At most ${SCHEDULE_LIMITS.parameters} parameters` });
    }
    if (new TextEncoder().encode(JSON.stringify(parameters)).length > SCHEDULE_LIMITS.parametersBytes) {
      ctx.addIssue({ code: "custom", message: `Parameters must take at most ${SCHEDULE_LIMITS.parametersBytes} bytes as JSON` });
    }
  });

const L = SCHEDULE_LIMITS;
const IMAGE_MESSAGE = "The image must be an image's name (lower-case letters, digits and -) or null";
/** Every field of a schedule, each required and without its default. */
export const scheduleSpecShape = {
  name: z
    .string({ error: `The name must be a text of at most ${L.nameLength} characters` })
    .trim()
    .max(L.nameLength, `The name must be a text of at most ${L.nameLength} characters`),
  cron: z
    .string({ error: 'A cron expression is needed, such as "0 9 * * 1-5"' })
    .trim()
    .min(1, 'A cron expression is needed, such as "0 9 * * 1-5"'),
  timezone: z
    .string({ error: "A time zone is needed: an IANA name such as Europe/Paris" })
    .trim()
    .min(1, "A time zone is needed: an IANA name such as Europe/Paris"),
  parameters: parametersSchema,
  image: z.string({ error: IMAGE_MESSAGE }).regex(IMAGE_NAME_PATTERN, IMAGE_MESSAGE).nullable(),
  timeoutSeconds: whole("The timeout", L.timeoutSeconds, " of seconds"),
  retries: whole("Retries", L.retries),
  retryBackoffSeconds: whole("The retry backoff", L.retryBackoffSeconds, " of seconds"),
  overlap: z.enum(OVERLAP_POLICIES, { error: 'The overlap policy must be "skip" or "queue"' }),
  maxConcurrent: whole("Max concurrent runs", L.maxConcurrent),
  catchUp: z.enum(CATCH_UP_POLICIES, { error: 'The catch-up policy must be "skip", "once" or "backfill"' }),
  backfillLimit: whole("The backfill limit", L.backfillLimit),
  prewarmSeconds: whole("Pre-warm", L.prewarmSeconds, " of seconds"),
  notifyOnFailure: flag("notifyOnFailure"),
  notifyOnSuccess: flag("notifyOnSuccess"),
  notifyOnRecovery: flag("notifyOnRecovery"),
  webhookUrl: z.url({ protocol: /^https?$/, error: "The webhook URL must be an http or https URL" }).nullable(),
  enabled: flag("enabled"),
};

/** The names of a schedule's settings, in the schema's order: what stores and replies copy. */
export const SCHEDULE_SPEC_KEYS = Object.keys(scheduleSpecShape) as Array<keyof typeof scheduleSpecShape>;

/** A schedule's settings out of anything that carries them (a stored schedule, a reply). */
export function scheduleSpecOf<T extends { [K in keyof ScheduleSpec]: ScheduleSpec[K] }>(source: T): ScheduleSpec {
  return Object.fromEntries(SCHEDULE_SPEC_KEYS.map((key) => [key, source[key]])) as ScheduleSpec;
}

const d = SCHEDULE_DEFAULTS;
/** A new schedule as sent (create): `cron` and `timezone` are required, the rest defaults. Unknown
 * fields are refused, so a misspelt one is not silently ignored. */
export const scheduleBodySchema = z.strictObject(
  {
    ...scheduleSpecShape,
    name: scheduleSpecShape.name.default(d.name),
    parameters: scheduleSpecShape.parameters.default(d.parameters),
    image: scheduleSpecShape.image.default(d.image),
    timeoutSeconds: scheduleSpecShape.timeoutSeconds.default(d.timeoutSeconds),
    retries: scheduleSpecShape.retries.default(d.retries),
    retryBackoffSeconds: scheduleSpecShape.retryBackoffSeconds.default(d.retryBackoffSeconds),
    overlap: scheduleSpecShape.overlap.default(d.overlap),
    maxConcurrent: scheduleSpecShape.maxConcurrent.default(d.maxConcurrent),
    catchUp: scheduleSpecShape.catchUp.default(d.catchUp),
    backfillLimit: scheduleSpecShape.backfillLimit.default(d.backfillLimit),
    prewarmSeconds: scheduleSpecShape.prewarmSeconds.default(d.prewarmSeconds),
    notifyOnFailure: scheduleSpecShape.notifyOnFailure.default(d.notifyOnFailure),
    notifyOnSuccess: scheduleSpecShape.notifyOnSuccess.default(d.notifyOnSuccess),
    notifyOnRecovery: scheduleSpecShape.notifyOnRecovery.default(d.notifyOnRecovery),
    webhookUrl: scheduleSpecShape.webhookUrl.default(d.webhookUrl),
    enabled: scheduleSpecShape.enabled.default(d.enabled),
  },
  { error: "A schedule must be a JSON object" },
);
/** What a client sends to create a schedule. */
export type ScheduleInput = z.input<typeof scheduleBodySchema>;
/** A schedule's settings, every field present (defaults applied, cron and zone checked). */
export type ScheduleSpec = z.output<typeof scheduleBodySchema>;

/** A change to a schedule (update): any of the fields; the result is checked whole, as on create. */
export const scheduleUpdateBodySchema = z.strictObject(scheduleSpecShape, { error: "A schedule change must be a JSON object" }).partial();
export type ScheduleUpdate = z.input<typeof scheduleUpdateBodySchema>;

export const scheduleReplySchema = z.object({
  ...scheduleSpecShape,
  id: z.string(),
  /** null once the notebook is deleted: the schedule is then disabled, its history kept. */
  notebookId: z.string().nullable(),
  notebookTitle: z.string(),
  ownerId: z.string(),
  /** Why it is disabled when the system disabled it ("The notebook was deleted"); null otherwise. */
  disabledReason: z.string().nullable(),
  /** The last fire time turned into a run (or a skipped one), ISO 8601; null before the first. */
  cursor: z.string().nullable(),
  /** The next fire times (ISO 8601 instants; the UI shows them in the zone and the viewer's). */
  nextFireTimes: z.array(z.string()),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type ScheduleReply = z.infer<typeof scheduleReplySchema>;
