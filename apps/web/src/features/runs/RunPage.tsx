"use client";
import { isNotFound } from "@cellar/kernel-client";
import { AppHeader } from "../../shared/AppHeader";
import { fullDate } from "../../shared/format-time";
import { gateway } from "../../shared/gateway";
import { AccountMenu } from "../account/AccountMenu";
import { NoticesBell } from "../notices/NoticesBell";
import { RunDiffView } from "./RunDiffView";
import { RunStatusBadge } from "./RunStatusBadge";
import { isActive, useRun, useRunDiff, type RunDetail } from "./run-queries";
import { attemptSummary, runDuration, TRIGGER_LABELS } from "./run-format";
import "./runs.css";

const notebookHref = (id: string) => `/notebook/?id=${encodeURIComponent(id)}`;

/** `/run/?id=`: one run — its status (live while it is going), times, parameters, worker and
 * attempt, where it failed and the traceback, what ended each earlier attempt, its notifications'
 * delivery, its executed notebook (open read-only, download .ipynb or HTML), and its outputs
 * against the previous successful run. */
export function RunPage({ id }: { id: string | null }) {
  const run = useRun(id ?? "");
  return (
    <div className="page">
      <AppHeader>
        <a href="/jobs/" className="button button-small" data-testid="jobs-link">
          Jobs
        </a>
        <div className="header-spacer" />
        <NoticesBell />
        <AccountMenu />
      </AppHeader>
      <main className="run-page" data-testid="run-page">
        {!id && <p className="error-text">No run given.</p>}
        {id && run.isPending && <p className="muted">Loading run…</p>}
        {run.error && (
          <p className="error-text" data-testid="run-error">
            {isNotFound(run.error) ? "This run does not exist, or you may not see it." : `Could not load the run: ${run.error.message}`}
          </p>
        )}
        {run.data && <RunDetails run={run.data} />}
      </main>
    </div>
  );
}

function RunDetails({ run }: { run: RunDetail }) {
  const ended = !isActive(run.status);
  const diff = useRunDiff(run.id, ended);
  const parameters = Object.entries(run.parameters);
  return (
    <>
      <div className="list-heading">
        <h1>
          {run.scheduleName || "Untitled schedule"}{" "}
          <span className="muted">
            on{" "}
            {run.notebookId ? (
              <a href={notebookHref(run.notebookId)} data-testid="run-notebook-link">
                {run.notebookTitle || "Untitled"}
              </a>
            ) : (
              `${run.notebookTitle || "Untitled"} (deleted)`
            )}
          </span>
        </h1>
        <RunStatusBadge status={run.status} testId="run-status" />
      </div>
      <dl className="run-facts">
        <dt>Scheduled for</dt>
        <dd data-testid="run-scheduled-for">{fullDate(run.scheduledFor)}</dd>
        <dt>Started</dt>
        <dd data-testid="run-started">{run.startedAt ? fullDate(run.startedAt) : "—"}</dd>
        <dt>Finished</dt>
        <dd data-testid="run-finished">{run.finishedAt ? fullDate(run.finishedAt) : "—"}</dd>
        <dt>Duration</dt>
        <dd data-testid="run-duration">{runDuration(run.durationMs)}</dd>
        <dt>Trigger</dt>
        <dd data-testid="run-trigger">{TRIGGER_LABELS[run.trigger]}</dd>
        <dt>Attempt</dt>
        <dd data-testid="run-attempt">{run.attempt}</dd>
        <dt>Worker</dt>
        <dd data-testid="run-worker">{run.workerId ?? "—"}</dd>
        <dt>Image</dt>
        <dd data-testid="run-image">{run.image}</dd>
        <dt>Parameters</dt>
        <dd data-testid="run-parameters">
          {parameters.length === 0
            ? "none"
            : parameters.map(([name, value]) => (
                <code key={name} className="run-parameter">
                  {name} = {JSON.stringify(value)}{" "}
                </code>
              ))}
        </dd>
        {run.reason && (
          <>
            <dt>Reason</dt>
            <dd data-testid="run-reason">{run.reason}</dd>
          </>
        )}
      </dl>
      {run.failingCellIndex !== null && (
        <section data-testid="run-failure">
          <h2>
            Failed in cell <span data-testid="run-failing-cell">{run.failingCellIndex + 1}</span>
            {run.errorName && (
              <span className="muted">
                {" "}
                — {run.errorName}
                {run.errorValue ? `: ${run.errorValue}` : ""}
              </span>
            )}
          </h2>
          {run.traceback && (
            <pre className="run-traceback" data-testid="run-traceback">
              {run.traceback}
            </pre>
          )}
        </section>
      )}
      {run.earlierAttempts.length > 0 && (
        <section aria-labelledby="run-attempts-heading">
          <h2 id="run-attempts-heading">Earlier attempts</h2>
          <ul data-testid="run-earlier-attempts">
            {run.earlierAttempts.map((a) => (
              <li key={a.attempt} data-testid="run-earlier-attempt">
                <span data-testid="run-attempt-summary">{attemptSummary(a)}</span> <span className="muted">({fullDate(a.finishedAt)})</span>
              </li>
            ))}
          </ul>
        </section>
      )}
      <div className="run-actions">
        {run.executedNotebookId ? (
          <>
            <a className="button button-primary" href={notebookHref(run.executedNotebookId)} data-testid="run-open-executed">
              Open executed notebook
            </a>
            <a className="button" href={gateway.notebooks.exportPath(run.executedNotebookId)} download data-testid="run-download-ipynb">
              Download .ipynb
            </a>
            <a className="button" href={gateway.notebooks.exportHtmlPath(run.executedNotebookId)} download data-testid="run-download-html">
              Download HTML
            </a>
          </>
        ) : (
          <span className="muted" data-testid="run-no-executed">
            The executed notebook appears once the run has started.
          </span>
        )}
      </div>
      <Notifications run={run} />
      <section aria-labelledby="run-diff-heading">
        <h2 id="run-diff-heading">Outputs against the previous successful run</h2>
        {!ended && <p className="muted">The diff is shown once the run has ended.</p>}
        {diff.error && <p className="error-text">Could not load the diff: {diff.error.message}</p>}
        {diff.data && <RunDiffView diff={diff.data} />}
      </section>
    </>
  );
}

const CHANNEL_LABELS = { in_app: "In-app notice", webhook: "Webhook" } as const;

function Notifications({ run }: { run: RunDetail }) {
  if (run.notifications.length === 0) return null;
  return (
    <section aria-labelledby="run-notifications-heading">
      <h2 id="run-notifications-heading">Notifications</h2>
      <ul className="invite-pending" data-testid="run-notifications">
        {run.notifications.map((n) => (
          <li key={`${n.channel}-${n.event}`} data-testid="run-notification" data-channel={n.channel} data-status={n.status}>
            <span>
              <strong>{CHANNEL_LABELS[n.channel]}</strong> on {n.event}
            </span>
            <span>
              {n.status === "delivered" && `delivered ${n.deliveredAt ? fullDate(n.deliveredAt) : ""}`}
              {n.status === "pending" && `pending (${n.attempts} attempt${n.attempts === 1 ? "" : "s"} so far)`}
              {n.status === "failed" && `failed after ${n.attempts} attempt${n.attempts === 1 ? "" : "s"}`}
              {n.lastError && n.status !== "delivered" && <span className="error-text">: {n.lastError}</span>}
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}
