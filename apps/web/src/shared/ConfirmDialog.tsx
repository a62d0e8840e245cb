"use client";
import type { ReactNode } from "react";
import { useModalDialog } from "./use-modal-dialog";

export interface ConfirmDialogProps {
  title: string;
  children: ReactNode;
  confirmLabel: string;
  busy?: boolean;
  onConfirm(): void;
  onCancel(): void;
}

/** A modal question with a drastic answer. The native <dialog> traps focus and closes on
 * Escape; the safe answer has the focus so Enter never destroys anything by accident. */
export function ConfirmDialog({ title, children, confirmLabel, busy, onConfirm, onCancel }: ConfirmDialogProps) {
  const ref = useModalDialog();
  return (
    <dialog
      ref={ref}
      className="confirm-dialog"
      data-testid="confirm-dialog"
      aria-labelledby="confirm-dialog-title"
      onCancel={(e) => {
        e.preventDefault();
        onCancel();
      }}
    >
      <h2 id="confirm-dialog-title">{title}</h2>
      <div className="confirm-dialog-body">{children}</div>
      <div className="confirm-dialog-actions">
        <button type="button" className="button" data-testid="confirm-cancel" onClick={onCancel} autoFocus>
          Cancel
        </button>
        <button type="button" className="button button-danger-solid" data-testid="confirm-ok" onClick={onConfirm} disabled={busy}>
          {busy ? "Working…" : confirmLabel}
        </button>
      </div>
    </dialog>
  );
}
