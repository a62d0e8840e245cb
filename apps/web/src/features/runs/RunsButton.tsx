"use client";
import { useNotebook } from "../../shared/notebook-queries";
import { notebookHref } from "../notebook-list/NotebookRow";

/** "Runs" in the notebook's header: opens and closes the notebook's Runs panel. A run's executed
 * copy (kind "run") has no schedules and no runs of its own: it offers the way back to the
 * notebook that ran instead (whose Runs panel holds this run), while that notebook exists. */
export function RunsButton({ notebookId, open, onToggle }: { notebookId: string; open: boolean; onToggle: () => void }) {
  const notebook = useNotebook(notebookId).data;
  if (!notebook) return null;
  if (notebook.kind === "run") {
    if (!notebook.executedFromId) return null;
    return (
      <a
        className="button"
        href={notebookHref(notebook.executedFromId)}
        data-testid="run-copy-source"
        title="The notebook this run executed"
      >
        Source notebook
      </a>
    );
  }
  return (
    <button
      type="button"
      className="button"
      data-testid="runs-open"
      aria-pressed={open}
      onClick={onToggle}
      title="This notebook's scheduled runs"
    >
      Runs
    </button>
  );
}
