// How runs read in lists and on the run page.
import type { RunTrigger } from "@cellar/protocol";
import { formatDuration } from "../notebook/format-duration";

export const runHref = (runId: string) => `/run/?id=${encodeURIComponent(runId)}`;

export const TRIGGER_LABELS: Record<RunTrigger, string> = { schedule: "Scheduled", manual: "Run now", backfill: "Backfill" };

/** A run's duration, or "—" before it has one. */
export const runDuration = (ms: number | null) => (ms === null ? "—" : formatDuration(ms));
