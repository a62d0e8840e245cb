"use client";
import { useState } from "react";
import { useNotebook } from "../../shared/notebook-queries";
import { useNotebookContext } from "../notebook/notebook-context";
import { ShareDialog } from "./ShareDialog";

/** "Share" in the notebook's header, for its owner only (the role the gateway answered with the
 * notebook; it refuses anyone else's sharing calls regardless). */
export function ShareButton() {
  const { store } = useNotebookContext();
  const notebookId = store.getState().notebookId;
  const role = useNotebook(notebookId).data?.role;
  const [open, setOpen] = useState(false);
  if (role !== "owner") return null;
  return (
    <>
      <button type="button" className="button" data-testid="share-open" onClick={() => setOpen(true)}>
        Share
      </button>
      {open && <ShareDialog notebookId={notebookId} onClose={() => setOpen(false)} />}
    </>
  );
}
