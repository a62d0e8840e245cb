"use client";
import { useMemo, useState } from "react";
import { describeCron } from "@cellar/schedules";
import { RUN_STATUSES } from "@cellar/protocol";
import { AppHeader } from "../../shared/AppHeader";
import { SearchIcon } from "../../shared/icons";
import { AccountMenu } from "../account/AccountMenu";
import { NoticesBell } from "../notices/NoticesBell";
import { RUN_STATUS_LABELS, RunStatusBadge } from "../runs/RunStatusBadge";
import { runHref } from "../runs/run-format";
import { browserTimeZone, formatInZone } from "../schedules/schedule-form";
import { useMySchedules } from "../schedules/schedule-queries";
import { filterJobs, NO_FILTER, type JobsFilter } from "./jobs-filter";
import { Sparkline } from "./Sparkline";
import "../runs/runs.css";

const notebookHref = (id: string) => `/notebook/?id=${encodeURIComponent(id)}`;

/** `/jobs/`: every schedule of the signed-in user, on any notebook: when it runs, its last run's
 * status, its next fire time, a sparkline of its last 30 runs; filtered by last status, enabled
 * or paused, and text. */
export function JobsPage({ viewerZone = browserTimeZone() }: { viewerZone?: string }) {
  const schedules = useMySchedules();
  const [filter, setFilter] = useState<JobsFilter>(NO_FILTER);
  const shown = useMemo(() => filterJobs(schedules.data ?? [], filter), [schedules.data, filter]);
  const set = <K extends keyof JobsFilter>(key: K, value: JobsFilter[K]) => setFilter((f) => ({ ...f, [key]: value }));

  return (
    <div className="page">
      <AppHeader>
        <div className="header-spacer" />
        <NoticesBell />
        <AccountMenu />
      </AppHeader>
      <main className="list-page" data-testid="jobs-page">
        <div className="list-heading">
          <h1>Jobs</h1>
        </div>
        {schedules.isPending && <p className="muted">Loading schedules…</p>}
        {schedules.error && <p className="error-text">Could not load schedules: {schedules.error.message}</p>}
        {schedules.data?.length === 0 && (
          <div className="empty-state" data-testid="jobs-empty">
            <p>No scheduled notebooks yet.</p>
            <p className="muted">Open a notebook and press Schedule to run it on a timetable.</p>
          </div>
        )}
        {schedules.data && schedules.data.length > 0 && (
          <>
            <div className="jobs-filters">
              <label className="list-search">
                <SearchIcon />
                <input
                  type="search"
                  placeholder="Search by name, notebook or time"
                  aria-label="Search jobs"
                  data-testid="jobs-search"
                  value={filter.text}
                  onChange={(e) => set("text", e.target.value)}
                />
              </label>
              <select
                aria-label="Last run"
                data-testid="jobs-filter-status"
                value={filter.lastStatus}
                onChange={(e) => set("lastStatus", e.target.value as JobsFilter["lastStatus"])}
              >
                <option value="">Any last run</option>
                {RUN_STATUSES.map((s) => (
                  <option key={s} value={s}>
                    Last run {RUN_STATUS_LABELS[s].toLowerCase()}
                  </option>
                ))}
                <option value="never">Never run</option>
              </select>
              <select
                aria-label="Enabled or paused"
                data-testid="jobs-filter-enabled"
                value={filter.state}
                onChange={(e) => set("state", e.target.value as JobsFilter["state"])}
              >
                <option value="">Enabled and paused</option>
                <option value="enabled">Enabled</option>
                <option value="paused">Paused</option>
              </select>
            </div>
            {shown.length === 0 && (
              <p className="muted" data-testid="jobs-no-match">
                No schedule matches these filters.
              </p>
            )}
            {shown.length > 0 && (
              <table className="notebook-table">
                <thead>
                  <tr>
                    <th>Schedule</th>
                    <th>Notebook</th>
                    <th>Last run</th>
                    <th>Next</th>
                    <th>Last 30 runs</th>
                  </tr>
                </thead>
                <tbody>
                  {shown.map((s) => {
                    const last = s.recentRuns[0];
                    return (
                      <tr key={s.id} data-testid="jobs-row" data-schedule-id={s.id} data-enabled={s.enabled}>
                        <td>
                          <strong>{s.name || "Untitled schedule"}</strong>
                          <br />
                          <span className="muted" data-testid="jobs-when">
                            {describeCron(s.cron).text} ({s.timezone})
                          </span>
                          {!s.enabled && (
                            <span className="schedule-paused" data-testid="jobs-paused">
                              {" "}
                              · {s.disabledReason ? `disabled: ${s.disabledReason}` : "paused"}
                            </span>
                          )}
                        </td>
                        <td>
                          {s.notebookId ? (
                            <a href={notebookHref(s.notebookId)} data-testid="jobs-notebook-link">
                              {s.notebookTitle || "Untitled"}
                            </a>
                          ) : (
                            <span>{s.notebookTitle || "Untitled"} (deleted)</span>
                          )}
                        </td>
                        <td>
                          {last ? (
                            <a href={runHref(last.id)} data-testid="jobs-last-run">
                              <RunStatusBadge status={last.status} testId="jobs-status" />
                            </a>
                          ) : (
                            <span className="muted" data-testid="jobs-status" data-status="never">
                              never
                            </span>
                          )}
                        </td>
                        <td data-testid="jobs-next">
                          {s.enabled && s.nextFireTimes[0] ? formatInZone(s.nextFireTimes[0], viewerZone) : "—"}
                        </td>
                        <td>
                          <Sparkline runs={s.recentRuns} />
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            )}
          </>
        )}
      </main>
    </div>
  );
}
