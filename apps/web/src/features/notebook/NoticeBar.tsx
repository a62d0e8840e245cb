"use client";
import { useNotebookContext, useNotebookState } from "./notebook-context";

/** Problems the user should see once (a run the gateway refused), dismissable. */
export function NoticeBar() {
  const { store } = useNotebookContext();
  const notice = useNotebookState((s) => s.notice);
  if (!notice) return null;
  return (
    <div className="notice-bar" role="alert" data-testid="notice">
      <span>{notice}</span>
      <button type="button" className="icon-button" aria-label="Dismiss" onClick={() => store.getState().setNotice(null)}>
        ×
      </button>
    </div>
  );
}
