"use client";
import { useId, useMemo, useState, type ReactNode } from "react";
import { GatewayError } from "@cellar/kernel-client";
import { type FieldError, SCHEDULE_LIMITS } from "@cellar/protocol";
import { WEEKDAYS, type Weekday } from "@cellar/schedules";
import { NextFireTimes } from "./NextFireTimes";
import {
  browserTimeZone,
  emptyForm,
  fieldKey,
  formCron,
  formOfSchedule,
  formToInput,
  previewFireTimes,
  timeZoneChoices,
  type ScheduleForm as FormState,
  type WhenKind,
} from "./schedule-form";
import { useCreateSchedule, useUpdateSchedule, type ScheduleSummary } from "./schedule-queries";

const WHEN_CHOICES: Array<{ value: WhenKind; label: string }> = [
  { value: "hourly", label: "Every hour" },
  { value: "daily", label: "Every day" },
  { value: "weekdays", label: "Weekdays (Mon–Fri)" },
  { value: "weekly", label: "Every week" },
  { value: "monthly", label: "Every month" },
  { value: "custom", label: "Custom cron expression" },
];

const L = SCHEDULE_LIMITS;

/** A new schedule of the notebook, or a change to `schedule`: when (a preset or a cron) and in
 * which zone, with the next five fire times shown live in that zone and the viewer's; the
 * parameters; limits, retries and policies; notifications. Parameters are parsed here (as the
 * CLI's `-p` is); everything else is checked by the gateway, whose 400 names each field, shown
 * beside it. */
export function ScheduleForm({
  notebookId,
  schedule,
  onSaved,
  onCancel,
  viewerZone = browserTimeZone(),
  now = () => new Date(),
}: {
  notebookId: string;
  schedule?: ScheduleSummary;
  onSaved(saved: ScheduleSummary): void;
  onCancel?(): void;
  viewerZone?: string;
  now?: () => Date;
}) {
  const [form, setForm] = useState<FormState>(() => (schedule ? formOfSchedule(schedule) : emptyForm(viewerZone)));
  const [errors, setErrors] = useState<FieldError[]>([]);
  const create = useCreateSchedule(notebookId);
  const update = useUpdateSchedule();
  const saving = create.isPending || update.isPending;
  const zones = useMemo(timeZoneChoices, []);
  const zoneListId = useId();
  const set = <K extends keyof FormState>(key: K, value: FormState[K]) => setForm((f) => ({ ...f, [key]: value }));

  const cron = formCron(form);
  const unchanged = schedule && "cron" in cron && cron.cron === schedule.cron && form.timezone.trim() === schedule.timezone;
  const preview = previewFireTimes(form, now());

  const errorOf = (field: string) =>
    errors
      .filter((e) => fieldKey(e.field) === field)
      .map((e) => e.message)
      .join(" ");
  const general = errors.filter((e) => !KNOWN_FIELDS.has(fieldKey(e.field)));

  const submit = () => {
    const result = formToInput(form);
    if (!result.ok) return setErrors(result.errors);
    setErrors([]);
    const onError = (error: Error) =>
      setErrors(error instanceof GatewayError && error.fields.length > 0 ? error.fields : [{ field: "", message: error.message }]);
    if (schedule) update.mutate({ id: schedule.id, change: result.input }, { onSuccess: onSaved, onError });
    else create.mutate(result.input, { onSuccess: onSaved, onError });
  };

  return (
    <form
      className="account-form schedule-form"
      data-testid="schedule-form"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        if (!saving) submit();
      }}
    >
      <Field label="Name" error={errorOf("name")} field="name">
        <input
          data-testid="schedule-name"
          value={form.name}
          maxLength={L.nameLength}
          placeholder="Morning refresh"
          onChange={(e) => set("name", e.target.value)}
        />
      </Field>

      <fieldset className="schedule-when">
        <legend>When</legend>
        <div className="schedule-row">
          <Field label="Repeat" field="when">
            <select data-testid="schedule-when" value={form.when} onChange={(e) => set("when", e.target.value as WhenKind)}>
              {WHEN_CHOICES.map((c) => (
                <option key={c.value} value={c.value}>
                  {c.label}
                </option>
              ))}
            </select>
          </Field>
          {form.when === "hourly" && (
            <Field label="At minute" field="minute">
              <NumberInput testId="schedule-minute" value={form.minute} min={0} max={59} onChange={(v) => set("minute", v)} />
            </Field>
          )}
          {form.when === "weekly" && (
            <Field label="On" field="weekday">
              <select
                data-testid="schedule-weekday"
                value={form.weekday}
                onChange={(e) => set("weekday", Number(e.target.value) as Weekday)}
              >
                {WEEKDAYS.map((day, i) => (
                  <option key={day} value={i}>
                    {day}
                  </option>
                ))}
              </select>
            </Field>
          )}
          {form.when === "monthly" && (
            <Field label="On day" field="day">
              <NumberInput testId="schedule-day" value={form.day} min={1} max={31} onChange={(v) => set("day", v)} />
            </Field>
          )}
          {form.when !== "hourly" && form.when !== "custom" && (
            <Field label="At" field="time">
              <input type="time" data-testid="schedule-time" value={form.time} required onChange={(e) => set("time", e.target.value)} />
            </Field>
          )}
          {form.when === "custom" && (
            <Field label="Cron expression" field="cron-input" hint="minute hour day-of-month month day-of-week">
              <input
                data-testid="schedule-cron"
                className="mono"
                value={form.cron}
                placeholder="0 9 * * 1-5"
                onChange={(e) => set("cron", e.target.value)}
              />
            </Field>
          )}
        </div>
        {form.when !== "custom" && "cron" in cron && (
          <p className="field-hint">
            Cron: <code data-testid="schedule-cron-text">{cron.cron}</code>
          </p>
        )}
        <FieldMessage field="cron" message={errorOf("cron")} />
        <Field label="Time zone" error={errorOf("timezone")} field="timezone">
          <input
            data-testid="schedule-timezone"
            list={zoneListId}
            value={form.timezone}
            autoComplete="off"
            onChange={(e) => set("timezone", e.target.value)}
          />
          <datalist id={zoneListId}>
            {zones.map((z) => (
              <option key={z} value={z} />
            ))}
          </datalist>
        </Field>
      </fieldset>

      {unchanged ? (
        <NextFireTimes times={schedule.nextFireTimes} zone={schedule.timezone} viewerZone={viewerZone} source="server" />
      ) : "times" in preview ? (
        <NextFireTimes times={preview.times} zone={form.timezone.trim()} viewerZone={viewerZone} source="browser" />
      ) : (
        <NextFireTimes times={[]} zone={form.timezone} viewerZone={viewerZone} source="browser" problem={preview.problem} />
      )}

      <Parameters rows={form.parameters} onChange={(rows) => set("parameters", rows)} errors={errors} />

      <fieldset className="schedule-policies">
        <legend>Limits and policies</legend>
        <div className="schedule-row">
          <Field label="Timeout (s)" error={errorOf("timeoutSeconds")} field="timeoutSeconds">
            <NumberInput
              testId="schedule-timeout"
              value={form.timeoutSeconds}
              {...L.timeoutSeconds}
              onChange={(v) => set("timeoutSeconds", v)}
            />
          </Field>
          <Field label="Retries" error={errorOf("retries")} field="retries">
            <NumberInput testId="schedule-retries" value={form.retries} {...L.retries} onChange={(v) => set("retries", v)} />
          </Field>
          <Field label="Backoff (s)" error={errorOf("retryBackoffSeconds")} field="retryBackoffSeconds">
            <NumberInput
              testId="schedule-backoff"
              value={form.retryBackoffSeconds}
              {...L.retryBackoffSeconds}
              onChange={(v) => set("retryBackoffSeconds", v)}
            />
          </Field>
        </div>
        <div className="schedule-row">
          <Field label="If the last run is still going" error={errorOf("overlap")} field="overlap">
            <select
              data-testid="schedule-overlap"
              value={form.overlap}
              onChange={(e) => set("overlap", e.target.value as FormState["overlap"])}
            >
              <option value="skip">Skip this run</option>
              <option value="queue">Queue it</option>
            </select>
          </Field>
          <Field label="Max concurrent" error={errorOf("maxConcurrent")} field="maxConcurrent">
            <NumberInput
              testId="schedule-max-concurrent"
              value={form.maxConcurrent}
              {...L.maxConcurrent}
              onChange={(v) => set("maxConcurrent", v)}
            />
          </Field>
        </div>
        <div className="schedule-row">
          <Field label="After downtime" error={errorOf("catchUp")} field="catchUp">
            <select
              data-testid="schedule-catch-up"
              value={form.catchUp}
              onChange={(e) => set("catchUp", e.target.value as FormState["catchUp"])}
            >
              <option value="skip">Skip missed runs</option>
              <option value="once">Run once</option>
              <option value="backfill">Backfill up to N</option>
            </select>
          </Field>
          {form.catchUp === "backfill" && (
            <Field label="N" error={errorOf("backfillLimit")} field="backfillLimit">
              <NumberInput
                testId="schedule-backfill"
                value={form.backfillLimit}
                {...L.backfillLimit}
                onChange={(v) => set("backfillLimit", v)}
              />
            </Field>
          )}
          <Field label="Pre-warm (s before)" error={errorOf("prewarmSeconds")} field="prewarmSeconds">
            <NumberInput
              testId="schedule-prewarm"
              value={form.prewarmSeconds}
              {...L.prewarmSeconds}
              onChange={(v) => set("prewarmSeconds", v)}
            />
          </Field>
        </div>
      </fieldset>

      <fieldset className="schedule-notify">
        <legend>Notify me</legend>
        <div className="schedule-row">
          <Check
            testId="schedule-notify-failure"
            label="On failure"
            checked={form.notifyOnFailure}
            onChange={(v) => set("notifyOnFailure", v)}
          />
          <Check
            testId="schedule-notify-success"
            label="On success"
            checked={form.notifyOnSuccess}
            onChange={(v) => set("notifyOnSuccess", v)}
          />
          <Check
            testId="schedule-notify-recovery"
            label="On recovery"
            checked={form.notifyOnRecovery}
            onChange={(v) => set("notifyOnRecovery", v)}
          />
        </div>
        <Field label="Webhook URL (optional; Slack-compatible)" error={errorOf("webhookUrl")} field="webhookUrl">
          <input
            type="url"
            data-testid="schedule-webhook"
            value={form.webhookUrl}
            placeholder="https://hooks.slack.com/services/…"
            onChange={(e) => set("webhookUrl", e.target.value)}
          />
        </Field>
      </fieldset>

      <Check testId="schedule-enabled" label="Enabled" checked={form.enabled} onChange={(v) => set("enabled", v)} />
      <FieldMessage field="enabled" message={errorOf("enabled")} />

      <div className="form-error" role="alert" data-testid="schedule-error" hidden={general.length === 0}>
        {general.map((e) => (e.field ? `${e.field}: ${e.message}` : e.message)).join(" ")}
      </div>
      <div className="confirm-dialog-actions">
        {onCancel && (
          <button type="button" className="button" data-testid="schedule-cancel-edit" onClick={onCancel}>
            Cancel
          </button>
        )}
        <button type="submit" className="button button-primary" data-testid="schedule-save" disabled={saving}>
          {saving ? "Saving…" : schedule ? "Save changes" : "Create schedule"}
        </button>
      </div>
    </form>
  );
}

/** Fields a message can be shown beside; a message for any other goes in the form's alert. */
const KNOWN_FIELDS = new Set([
  "name",
  "cron",
  "timezone",
  "parameters",
  "timeoutSeconds",
  "retries",
  "retryBackoffSeconds",
  "overlap",
  "maxConcurrent",
  "catchUp",
  "backfillLimit",
  "prewarmSeconds",
  "webhookUrl",
  "enabled",
]);

function Parameters({
  rows,
  onChange,
  errors,
}: {
  rows: FormState["parameters"];
  onChange(rows: FormState["parameters"]): void;
  errors: FieldError[];
}) {
  // Per-row problems are the form's own ("parameters.2"); the gateway's name the parameter.
  const rowError = (i: number) => errors.find((e) => e.field === `parameters.${i}`)?.message;
  const whole = errors
    .filter((e) => fieldKey(e.field) === "parameters" && !/^parameters\.\d+$/.test(e.field))
    .map((e) => e.message)
    .join(" ");
  const change = (i: number, patch: Partial<FormState["parameters"][number]>) =>
    onChange(rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  return (
    <fieldset className="schedule-parameters" data-testid="schedule-parameters">
      <legend>Parameters</legend>
      <p className="field-hint">
        Set after the cell tagged <code>parameters</code>. Values read as Python literals: 0.5, True, None, [1, 2]; anything else is text.
      </p>
      {rows.map((row, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: rows have no identity but their place
        <div key={i} className="schedule-param" data-testid="schedule-param-row">
          <input
            aria-label={`Parameter ${i + 1} name`}
            data-testid="schedule-param-name"
            className="mono"
            value={row.name}
            placeholder="alpha"
            onChange={(e) => change(i, { name: e.target.value })}
          />
          <input
            aria-label={`Parameter ${i + 1} value`}
            data-testid="schedule-param-value"
            className="mono"
            value={row.value}
            placeholder="0.5"
            onChange={(e) => change(i, { value: e.target.value })}
          />
          <button
            type="button"
            className="button button-small"
            data-testid="schedule-param-remove"
            aria-label={`Remove parameter ${i + 1}`}
            onClick={() => onChange(rows.filter((_, j) => j !== i))}
          >
            ×
          </button>
          {rowError(i) && (
            <span className="field-error" data-testid="schedule-param-error">
              {rowError(i)}
            </span>
          )}
        </div>
      ))}
      <button
        type="button"
        className="button button-small"
        data-testid="schedule-param-add"
        onClick={() => onChange([...rows, { name: "", value: "" }])}
      >
        + Parameter
      </button>
      <FieldMessage field="parameters" message={whole} />
    </fieldset>
  );
}

function Field({
  label,
  field,
  error,
  hint,
  children,
}: {
  label: string;
  field: string;
  error?: string;
  hint?: string;
  children: ReactNode;
}) {
  return (
    // biome-ignore lint/a11y/noLabelWithoutControl: the control is `children`, inside the label
    <label className="field" data-field={field}>
      <span>{label}</span>
      {children}
      {hint && <span className="field-hint">{hint}</span>}
      <FieldMessage field={field} message={error} />
    </label>
  );
}

/** A field's problem, beside it (`schedule-error-<field>`). */
function FieldMessage({ field, message }: { field: string; message?: string }) {
  if (!message) return null;
  return (
    <span className="field-error" role="alert" data-testid={`schedule-error-${field}`}>
      {message}
    </span>
  );
}

function NumberInput({
  testId,
  value,
  min,
  max,
  onChange,
}: {
  testId: string;
  value: number;
  min: number;
  max: number;
  onChange(value: number): void;
}) {
  return (
    <input
      type="number"
      data-testid={testId}
      value={Number.isNaN(value) ? "" : value}
      min={min}
      max={max}
      step={1}
      onChange={(e) => onChange(e.target.value === "" ? Number.NaN : Number(e.target.value))}
    />
  );
}

function Check({ testId, label, checked, onChange }: { testId: string; label: string; checked: boolean; onChange(v: boolean): void }) {
  return (
    <label className="schedule-check">
      <input type="checkbox" data-testid={testId} checked={checked} onChange={(e) => onChange(e.target.checked)} />
      {label}
    </label>
  );
}
