"use client";
import type { ReactNode } from "react";
import { useModalDialog } from "../../shared/use-modal-dialog";

/** A modal of the account menu (invites, credentials). The native <dialog> traps focus and
 * closes on Escape; closing is always the parent's decision (`onClose` unmounts it). */
export function AccountDialog({
  title,
  testId,
  onClose,
  children,
}: {
  title: string;
  testId: string;
  onClose(): void;
  children: ReactNode;
}) {
  const ref = useModalDialog();
  const titleId = `${testId}-title`;
  return (
    <dialog
      ref={ref}
      className="confirm-dialog account-dialog"
      data-testid={testId}
      aria-labelledby={titleId}
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
    >
      <div className="account-dialog-heading">
        <h2 id={titleId}>{title}</h2>
        <button type="button" className="icon-button" aria-label="Close" onClick={onClose}>
          ×
        </button>
      </div>
      {children}
    </dialog>
  );
}
