"use client";
import type { RunDiff } from "./run-queries";
import { runHref } from "./run-format";

const CHANGE_LABELS = { same: "unchanged", changed: "changed", added: "new in this run", removed: "not in this run" } as const;

/** The run's outputs beside the previous successful run's, cell by cell; cells whose outputs
 * differ (or that only one run has) are highlighted. */
export function RunDiffView({ diff }: { diff: RunDiff }) {
  if (!diff.previousRunId) {
    return (
      <p className="muted" data-testid="run-diff-none">
        No earlier successful run to compare with.
      </p>
    );
  }
  const changed = diff.cells.filter((c) => c.change !== "same").length;
  return (
    <div data-testid="run-diff">
      <p className="muted" data-testid="run-diff-summary">
        Compared with <a href={runHref(diff.previousRunId)}>the previous successful run</a>:{" "}
        {changed === 0 ? "every output is the same." : `${changed} cell${changed === 1 ? "" : "s"} differ.`}
      </p>
      {diff.cells.map((cell) => (
        <div key={cell.cellId} className="run-diff-cell" data-testid="run-diff-cell" data-change={cell.change} data-cell-id={cell.cellId}>
          <div className="run-diff-head">
            {/* A removed cell has no place in this run. */}
            <span>{cell.index < 0 ? "Cell" : `Cell ${cell.index + 1}`}</span>
            <span data-testid="run-diff-change">{CHANGE_LABELS[cell.change]}</span>
          </div>
          <pre className="run-diff-source">{cell.source}</pre>
          <div className="run-diff-sides">
            <span className="run-diff-side-label">Previous successful run</span>
            <span className="run-diff-side-label">This run</span>
            <pre className="run-diff-before" data-testid="run-diff-before">
              {cell.before}
            </pre>
            <pre className="run-diff-after" data-testid="run-diff-after">
              {cell.after}
            </pre>
          </div>
        </div>
      ))}
    </div>
  );
}
