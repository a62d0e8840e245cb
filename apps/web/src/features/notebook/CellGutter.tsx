"use client";
import type { HTMLAttributes } from "react";
import { useNotebookContext, useNotebookState } from "./notebook-context";
import { executionDuration, formatDuration } from "./format-duration";
import { GripIcon, PlayIcon } from "../../shared/icons";
import { useMay } from "./page-roles";
import { CellDeviceBadge } from "../devices/CellDevice";

/** What dnd-kit needs on the element the user grabs to drag a cell. */
export type DragHandleProps = HTMLAttributes<HTMLElement> & { ref?: (el: HTMLElement | null) => void };

/** Left of a cell: the drag handle, the run button, `[n]` / `[*]`, queued or running, how long
 * the last run took, and the device it runs on when not CPU. */
export function CellGutter({ cellId, isCode, dragHandle }: { cellId: string; isCode: boolean; dragHandle?: DragHandleProps }) {
  // Moving a cell is an edit: below that, no handle to grab.
  const mayMove = useMay("edit");
  return (
    <div className="cell-gutter">
      {mayMove && (
        <button
          type="button"
          className="cell-drag"
          data-testid="drag-handle"
          title="Drag to move the cell"
          aria-label="Move cell (drag)"
          {...dragHandle}
        >
          <GripIcon />
        </button>
      )}
      {isCode && <CodeGutter cellId={cellId} />}
    </div>
  );
}

function CodeGutter({ cellId }: { cellId: string }) {
  const { commands } = useNotebookContext();
  const running = useNotebookState((s) => Boolean(s.running[cellId]));
  const started = useNotebookState((s) => Boolean(s.started[cellId]));
  const count = useNotebookState((s) => s.outputs[cellId]?.executionCount ?? null);
  const duration = useNotebookState((s) => {
    const cell = s.cells.find((c) => c.id === cellId);
    return cell ? executionDuration(cell.metadata) : null;
  });
  const mayRun = useMay("run");
  const state = !running ? "idle" : started ? "running" : "queued";
  const label = running ? "[*]" : count === null ? "[ ]" : `[${count}]`;
  return (
    <div className="cell-gutter-code">
      <div className="cell-gutter-row">
        {mayRun && (
          <button
            type="button"
            className="cell-run"
            data-testid="run-this-cell"
            title="Run this cell (Ctrl+Enter)"
            aria-label="Run this cell"
            onClick={() => commands.runCell(cellId, "in-place")}
          >
            <PlayIcon />
          </button>
        )}
        <span
          className={`execution-count execution-count-${state}${running ? " execution-count-running" : ""}`}
          data-testid="execution-count"
          data-state={state}
        >
          {label}
        </span>
      </div>
      {state === "queued" && (
        <span className="cell-run-state cell-queued" data-testid="cell-queued">
          queued
        </span>
      )}
      {state === "running" && (
        <span className="cell-run-state cell-running" data-testid="cell-running">
          running
        </span>
      )}
      {state === "idle" && duration !== null && count !== null && (
        <span className="cell-run-state" data-testid="execution-duration" title="How long the last run took">
          {formatDuration(duration)}
        </span>
      )}
      <CellDeviceBadge cellId={cellId} />
    </div>
  );
}
