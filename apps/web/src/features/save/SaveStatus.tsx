"use client";
import { useNotebookState } from "../notebook/notebook-context";
import { useMay } from "../notebook/page-roles";

const LABEL = { saved: "Saved", saving: "Saving…", unsaved: "Unsaved changes", offline: "Offline" } as const;

/** Whether the gateway has this page's edits; nothing for a role that cannot edit (the toolbar
 * says "View only" or "Can run"): such a page has nothing of its own to save. */
export function SaveStatus() {
  const save = useNotebookState((s) => s.save);
  const mayEdit = useMay("edit");
  if (!mayEdit) return null;
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
