"use client";
import { fullDate } from "../../shared/format-time";
import { FormError } from "../account/AccountPage";
import { RunStatusBadge } from "./RunStatusBadge";
import { isActive, useCancelRun, useNotebookRuns } from "./run-queries";
import { runDuration, runHref, TRIGGER_LABELS } from "./run-format";

/** The notebook's runs, latest fire time first, beside the notebook: status, when it was due,
 * how long it took, attempt and trigger; Cancel on those queued or running; each opens its run
 * page. Read every 2 s while one is queued or running, so statuses change live. */
export function RunsPanel({ notebookId, onHide }: { notebookId: string; onHide(): void }) {
  const runs = useNotebookRuns(notebookId);
  const cancel = useCancelRun();
  return (
    <aside className="runs-panel" data-testid="runs-panel" aria-label="Runs">
      <div className="runs-panel-bar">
        <h2>Runs</h2>
        <a className="button button-small" href="/jobs/" data-testid="runs-jobs-link">
          All jobs
        </a>
        <button type="button" className="icon-button" aria-label="Hide runs" data-testid="runs-hide" onClick={onHide}>
          »
        </button>
      </div>
      <FormError error={cancel.error ?? runs.error} testId="runs-error" />
      {runs.data?.length === 0 && (
        <p className="muted runs-empty" data-testid="runs-empty">
          No runs yet. Schedule this notebook, or press Run now in the Schedule dialog.
        </p>
      )}
      <ul className="runs-list">
        {(runs.data ?? []).map((run) => (
          <li key={run.id} className="runs-row" data-testid="runs-row" data-run-id={run.id} data-status={run.status}>
            <a href={runHref(run.id)} data-testid="runs-link">
              <strong>{run.scheduleName || "Untitled schedule"}</strong>
            </a>
            <RunStatusBadge status={run.status} testId="runs-status" />
            <span className="runs-row-meta">
              <span data-testid="runs-scheduled-for">{fullDate(run.scheduledFor)}</span> ·{" "}
              <span data-testid="runs-duration">{runDuration(run.durationMs)}</span> ·{" "}
              <span data-testid="runs-attempt">attempt {run.attempt}</span> ·{" "}
              <span data-testid="runs-trigger">{TRIGGER_LABELS[run.trigger]}</span>
              {isActive(run.status) && (
                <>
                  {" "}
                  <button
                    type="button"
                    className="button button-small button-danger"
                    data-testid="runs-cancel"
                    disabled={run.cancelRequested || (cancel.isPending && cancel.variables === run.id)}
                    onClick={() => cancel.mutate(run.id)}
                  >
                    {run.cancelRequested ? "Cancelling…" : "Cancel"}
                  </button>
                </>
              )}
            </span>
          </li>
        ))}
      </ul>
    </aside>
  );
}
