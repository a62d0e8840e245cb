import { type RefObject, useEffect, useRef } from "react";

/** A native <dialog> shown modal while the component is mounted (it traps focus and closes on
 * Escape, which reaches the dialog's onCancel); closed when it unmounts. */
export function useModalDialog(): RefObject<HTMLDialogElement | null> {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal?.();
    return () => dialog?.close?.();
  }, []);
  return ref;
}
