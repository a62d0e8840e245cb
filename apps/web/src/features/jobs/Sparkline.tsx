"use client";
import type { RunStatus } from "@cellar/protocol";
import { RUN_STATUS_LABELS } from "../runs/RunStatusBadge";
import { runDuration } from "../runs/run-format";

export const SPARK_COLOURS: Record<RunStatus, string> = {
  queued: "#54aeff",
  running: "#d4a72c",
  succeeded: "#2da44e",
  failed: "#cf222e",
  timed_out: "#bc4c00",
  cancelled: "#8c959f",
  skipped: "#d0d7de",
};

const BAR = 6;
const GAP = 2;
const HEIGHT = 24;
const MIN_BAR = 3;

interface Dot {
  id: string;
  status: RunStatus;
  scheduledFor: string;
  durationMs: number | null;
}

/** The last runs as bars, oldest on the left: coloured by status, as tall as their duration
 * relative to the longest of them (a run without a duration is a stub). `runs` is newest first,
 * as the API gives it. */
export function Sparkline({ runs }: { runs: Dot[] }) {
  const shown = runs.slice(0, 30).reverse();
  const longest = Math.max(0, ...shown.map((r) => r.durationMs ?? 0));
  const width = Math.max(1, shown.length * (BAR + GAP) - GAP);
  if (shown.length === 0) {
    return (
      <span className="muted" data-testid="jobs-sparkline" data-runs={0}>
        no runs yet
      </span>
    );
  }
  return (
    <svg
      className="jobs-sparkline"
      data-testid="jobs-sparkline"
      data-runs={shown.length}
      width={width}
      height={HEIGHT}
      viewBox={`0 0 ${width} ${HEIGHT}`}
      role="img"
      aria-label={`Last ${shown.length} runs`}
    >
      {shown.map((run, i) => {
        const h = longest > 0 && run.durationMs ? Math.max(MIN_BAR, Math.round((run.durationMs / longest) * HEIGHT)) : MIN_BAR;
        return (
          <rect
            key={run.id}
            data-testid="jobs-spark-bar"
            data-status={run.status}
            x={i * (BAR + GAP)}
            y={HEIGHT - h}
            width={BAR}
            height={h}
            fill={SPARK_COLOURS[run.status]}
          >
            <title>
              {RUN_STATUS_LABELS[run.status]} · {new Date(run.scheduledFor).toLocaleString()} · {runDuration(run.durationMs)}
            </title>
          </rect>
        );
      })}
    </svg>
  );
}
