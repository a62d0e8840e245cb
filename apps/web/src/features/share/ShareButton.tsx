"use client";
import { useState } from "react";
import { useNotebookContext } from "../notebook/notebook-context";
import { useMay } from "../notebook/page-roles";
import { ShareDialog } from "./ShareDialog";

/** "Share" in the notebook's header, for the role that may share (its owner: the role the gateway
 * answered with the notebook; it refuses anyone else's sharing calls regardless). */
export function ShareButton() {
  const { store } = useNotebookContext();
  const notebookId = store.getState().notebookId;
  const mayShare = useMay("share");
  const [open, setOpen] = useState(false);
  if (!mayShare) return null;
  return (
    <>
      <button type="button" className="button" data-testid="share-open" onClick={() => setOpen(true)}>
        Share
      </button>
      {open && <ShareDialog notebookId={notebookId} onClose={() => setOpen(false)} />}
    </>
  );
}
