"use client";
import { useState } from "react";
import { describeCron } from "@cellar/schedules";
import { ConfirmDialog } from "../../shared/ConfirmDialog";
import { AccountDialog } from "../account/AccountDialog";
import { FormError } from "../account/AccountPage";
import { latestError } from "../account/shown-once";
import { RunStatusBadge } from "../runs/RunStatusBadge";
import { ScheduleForm } from "./ScheduleForm";
import { browserTimeZone, formatInZone } from "./schedule-form";
import {
  useDeleteSchedule,
  useNotebookSchedules,
  usePauseSchedule,
  useResumeSchedule,
  useRunNow,
  type ScheduleSummary,
} from "./schedule-queries";
import "./schedules.css";

/** "Schedule": the notebook's schedules (each with edit, pause or resume, delete, Run now) and
 * the form for a new one or the one being edited. */
export function ScheduleDialog({
  notebookId,
  onClose,
  viewerZone = browserTimeZone(),
}: {
  notebookId: string;
  onClose(): void;
  viewerZone?: string;
}) {
  const schedules = useNotebookSchedules(notebookId);
  // null: the form makes a new schedule; else the id of the one it edits.
  const [editing, setEditing] = useState<string | null>(null);
  // Bumped after a save so the form starts over (a new schedule) or reloads what was saved.
  const [formKey, setFormKey] = useState(0);
  const edited = editing ? schedules.data?.find((s) => s.id === editing) : undefined;

  return (
    <AccountDialog title="Schedule" testId="schedule-dialog" onClose={onClose}>
      <ScheduleList
        schedules={schedules.data}
        error={schedules.error}
        editing={editing}
        viewerZone={viewerZone}
        onEdit={(id) => {
          setEditing(id);
          setFormKey((k) => k + 1);
        }}
        onDeleted={(id) => id === editing && setEditing(null)}
      />
      <h3 className="invite-pending-heading">{edited ? `Edit “${edited.name || describeCron(edited.cron).text}”` : "New schedule"}</h3>
      {(!editing || edited) && (
        <ScheduleForm
          key={`${editing ?? "new"}-${formKey}`}
          notebookId={notebookId}
          schedule={edited}
          viewerZone={viewerZone}
          onSaved={(saved) => {
            setEditing(saved.id);
            setFormKey((k) => k + 1);
          }}
          onCancel={
            editing
              ? () => {
                  setEditing(null);
                  setFormKey((k) => k + 1);
                }
              : undefined
          }
        />
      )}
    </AccountDialog>
  );
}

function ScheduleList({
  schedules,
  error,
  editing,
  viewerZone,
  onEdit,
  onDeleted,
}: {
  schedules: ScheduleSummary[] | undefined;
  error: Error | null;
  editing: string | null;
  viewerZone: string;
  onEdit(id: string): void;
  onDeleted(id: string): void;
}) {
  const pause = usePauseSchedule();
  const resume = useResumeSchedule();
  const remove = useDeleteSchedule();
  const runNow = useRunNow();
  const [deleting, setDeleting] = useState<ScheduleSummary | null>(null);
  const failed = latestError(pause, resume, remove, runNow) ?? error;

  return (
    <section aria-labelledby="schedule-list-heading">
      <h3 id="schedule-list-heading" className="invite-pending-heading">
        Schedules of this notebook
      </h3>
      {schedules?.length === 0 && <p className="muted">Not scheduled yet.</p>}
      <ul className="invite-pending schedule-list" data-testid="schedule-list">
        {(schedules ?? []).map((s) => {
          const last = s.recentRuns[0];
          return (
            <li key={s.id} data-testid="schedule-row" data-schedule-id={s.id} data-enabled={s.enabled} data-editing={s.id === editing}>
              <span className="schedule-row-text">
                <strong>{s.name || "Untitled schedule"}</strong>{" "}
                <span data-testid="schedule-row-when">
                  {describeCron(s.cron).text} ({s.timezone})
                </span>
                {!s.enabled && (
                  <span className="schedule-paused" data-testid="schedule-row-paused">
                    {s.disabledReason ? ` · disabled: ${s.disabledReason}` : " · paused"}
                  </span>
                )}
                <br />
                <span className="muted" data-testid="schedule-row-next">
                  {s.enabled && s.nextFireTimes[0] ? `Next: ${formatInZone(s.nextFireTimes[0], viewerZone)}` : "No next run"}
                </span>
                {last && (
                  <>
                    {" "}
                    <RunStatusBadge status={last.status} testId="schedule-row-last" />
                  </>
                )}
              </span>
              <span className="share-person-actions">
                <button type="button" className="button button-small" data-testid="schedule-edit" onClick={() => onEdit(s.id)}>
                  Edit
                </button>
                {s.enabled ? (
                  <button
                    type="button"
                    className="button button-small"
                    data-testid="schedule-pause"
                    disabled={pause.isPending && pause.variables === s.id}
                    onClick={() => pause.mutate(s.id)}
                  >
                    Pause
                  </button>
                ) : (
                  <button
                    type="button"
                    className="button button-small"
                    data-testid="schedule-resume"
                    disabled={(resume.isPending && resume.variables === s.id) || s.notebookId === null}
                    onClick={() => resume.mutate(s.id)}
                  >
                    Resume
                  </button>
                )}
                <button
                  type="button"
                  className="button button-small"
                  data-testid="schedule-run-now"
                  disabled={runNow.isPending && runNow.variables === s.id}
                  onClick={() => runNow.mutate(s.id)}
                >
                  Run now
                </button>
                <button
                  type="button"
                  className="button button-small button-danger"
                  data-testid="schedule-delete"
                  onClick={() => setDeleting(s)}
                >
                  Delete
                </button>
              </span>
            </li>
          );
        })}
      </ul>
      {runNow.data && (
        <p className="muted" data-testid="schedule-run-started">
          Run started. <a href={`/run/?id=${encodeURIComponent(runNow.data.id)}`}>Open it</a>
        </p>
      )}
      <FormError error={failed} testId="schedule-list-error" />
      {deleting && (
        <ConfirmDialog
          title="Delete schedule?"
          confirmLabel="Delete"
          busy={remove.isPending}
          onCancel={() => setDeleting(null)}
          onConfirm={() =>
            remove.mutate(deleting.id, {
              onSuccess: () => onDeleted(deleting.id),
              onSettled: () => setDeleting(null),
            })
          }
        >
          “{deleting.name || describeCron(deleting.cron).text}” stops, and its runs and their executed notebooks are deleted.
        </ConfirmDialog>
      )}
    </section>
  );
}
