// The Jobs page's filters: the status of each schedule's last run, enabled or paused, and a
// text search over its name, notebook and when it runs.
import type { RunStatus } from "@cellar/protocol";
import { describeCron } from "@cellar/schedules";

export interface JobsFilter {
  /** "" any; "never" a schedule with no run yet. */
  lastStatus: "" | "never" | RunStatus;
  state: "" | "enabled" | "paused";
  text: string;
}

export const NO_FILTER: JobsFilter = { lastStatus: "", state: "", text: "" };

interface Filterable {
  name: string;
  notebookTitle: string;
  cron: string;
  timezone: string;
  enabled: boolean;
  recentRuns: Array<{ status: RunStatus }>;
}

export function filterJobs<T extends Filterable>(jobs: T[], filter: JobsFilter): T[] {
  const q = filter.text.trim().toLocaleLowerCase();
  return jobs.filter((job) => {
    const last = job.recentRuns[0]?.status;
    if (filter.lastStatus === "never" ? last !== undefined : filter.lastStatus && last !== filter.lastStatus) return false;
    if (filter.state === "enabled" && !job.enabled) return false;
    if (filter.state === "paused" && job.enabled) return false;
    if (!q) return true;
    const haystack = [job.name, job.notebookTitle, job.cron, describeCron(job.cron).text, job.timezone].join(" ").toLocaleLowerCase();
    return haystack.includes(q);
  });
}
