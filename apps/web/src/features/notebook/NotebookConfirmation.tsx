"use client";
import { useNotebookContext, useNotebookState } from "./notebook-context";
import { ConfirmDialog } from "../../shared/ConfirmDialog";

/** The notebook page's pending question (e.g. restart and run all), if any. */
export function NotebookConfirmation() {
  const { store } = useNotebookContext();
  const confirmation = useNotebookState((s) => s.confirmation);
  if (!confirmation) return null;
  const cancel = () => store.getState().ask(null);
  return (
    <ConfirmDialog
      title={confirmation.title}
      confirmLabel={confirmation.confirmLabel}
      onCancel={cancel}
      onConfirm={() => {
        cancel();
        confirmation.onConfirm();
      }}
    >
      <p>{confirmation.message}</p>
    </ConfirmDialog>
  );
}
