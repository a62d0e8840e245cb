"use client";
import { useNotebookState } from "../notebook/notebook-context";

const LABEL = { saved: "Saved", saving: "Saving…", unsaved: "Unsaved changes", offline: "Offline" } as const;

export function SaveStatus() {
  const save = useNotebookState((s) => s.save);
  const title =
    save.state === "offline"
      ? "The gateway cannot be reached. Edits are kept in this browser and saved when the connection returns."
      : save.error
        ? `Last save failed: ${save.error}. Retrying.`
        : undefined;
  return (
    <span
      className={`save-status save-status-${save.state}${save.error ? " save-status-error" : ""}`}
      data-testid="save-status"
      data-state={save.state}
      title={title}
      aria-live="polite"
    >
      {LABEL[save.state]}
    </span>
  );
}
