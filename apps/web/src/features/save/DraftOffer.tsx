"use client";
import { useNotebookContext, useNotebookState } from "../notebook/notebook-context";
import { clearDraft } from "./local-drafts";

/** Edits made in this browser that never reached the gateway, overtaken by a later save from
 * somewhere else. The later save is shown (last writer wins); these are offered, not dropped. */
export function DraftOffer() {
  const { store } = useNotebookContext();
  const draft = useNotebookState((s) => s.draftOffer);
  if (!draft) return null;
  const written = new Date(draft.writtenAt).toLocaleString();
  return (
    <div className="notice-bar" role="alert" data-testid="draft-offer">
      <span>
        This notebook was saved elsewhere after edits made in this browser ({written}) that never reached the gateway. Showing the newer
        version.
      </span>
      <span className="notice-actions">
        <button type="button" className="button" data-testid="draft-use" onClick={() => store.getState().acceptDraft()}>
          Use this browser&apos;s edits
        </button>
        <button
          type="button"
          className="button"
          data-testid="draft-discard"
          onClick={() => {
            clearDraft(draft.notebookId);
            store.getState().offerDraft(null);
          }}
        >
          Discard them
        </button>
      </span>
    </div>
  );
}
