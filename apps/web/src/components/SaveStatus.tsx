"use client";
import { useNotebookState } from "../hooks/notebook-context";

const LABEL = { saved: "Saved", saving: "Saving…", unsaved: "Unsaved changes" } as const;

export function SaveStatus() {
  const save = useNotebookState((s) => s.save);
  return (
    <span
      className={`save-status save-status-${save.state}${save.error ? " save-status-error" : ""}`}
      data-testid="save-status"
      data-state={save.state}
      title={save.error ? `Last save failed: ${save.error}. Retrying.` : undefined}
      aria-live="polite"
    >
      {LABEL[save.state]}
    </span>
  );
}
