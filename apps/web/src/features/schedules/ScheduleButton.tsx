"use client";
import { useState } from "react";
import { roleAtLeast } from "@cellar/protocol";
import { useNotebook } from "../../shared/notebook-queries";
import { useNotebookContext } from "../notebook/notebook-context";
import { ScheduleDialog } from "./ScheduleDialog";

/** "Schedule" in the notebook's header, for editors and up (the gateway checks it again). A
 * run's executed copy (kind "run") is never scheduled. */
export function ScheduleButton() {
  const { store } = useNotebookContext();
  const notebookId = store.getState().notebookId;
  const notebook = useNotebook(notebookId).data;
  const [open, setOpen] = useState(false);
  if (!notebook || !roleAtLeast(notebook.role, "editor") || notebook.kind === "run") return null;
  return (
    <>
      <button type="button" className="button" data-testid="schedule-open" onClick={() => setOpen(true)}>
        Schedule
      </button>
      {open && <ScheduleDialog notebookId={notebookId} onClose={() => setOpen(false)} />}
    </>
  );
}
