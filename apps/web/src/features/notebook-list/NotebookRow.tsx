"use client";
import Link from "next/link";
import { useRef, useState } from "react";
import type { ApiReply } from "@cellar/kernel-client";
import { useDeleteNotebook, useDuplicateNotebook, useRenameNotebook } from "../../shared/notebook-queries";
import { gateway } from "../../shared/gateway";
import { fullDate, timeAgo } from "../../shared/format-time";
import { ConfirmDialog } from "../../shared/ConfirmDialog";
import { CopyIcon, DownloadIcon, PencilIcon, TrashIcon } from "../../shared/icons";

export const notebookHref = (id: string) => `/notebook/?id=${encodeURIComponent(id)}`;

export function NotebookRow({ notebook }: { notebook: ApiReply<"listNotebooks">[number] }) {
  const [renaming, setRenaming] = useState(false);
  const [confirmingDelete, setConfirmingDelete] = useState(false);
  const rename = useRenameNotebook();
  const duplicate = useDuplicateNotebook();
  const remove = useDeleteNotebook();
  const title = notebook.title || "Untitled";
  const error = rename.error ?? duplicate.error ?? remove.error;

  return (
    <tr data-testid="notebook-row" data-notebook-id={notebook.id}>
      <td>
        {renaming ? (
          <RenameInput
            initial={notebook.title}
            onDone={(next) => {
              setRenaming(false);
              if (next !== null && next !== notebook.title) rename.mutate({ id: notebook.id, title: next });
            }}
          />
        ) : (
          <Link href={notebookHref(notebook.id)} className="notebook-link" data-testid="notebook-link">
            {rename.isPending ? rename.variables.title : title}
          </Link>
        )}
        {error && <div className="error-text row-error">{error.message}</div>}
      </td>
      <td title={fullDate(notebook.updatedAt)}>{timeAgo(notebook.updatedAt)}</td>
      <td title={notebook.lastRunAt ? fullDate(notebook.lastRunAt) : undefined} data-testid="notebook-last-run">
        {notebook.lastRunAt ? timeAgo(notebook.lastRunAt) : <span className="muted">never</span>}
      </td>
      <td className="row-actions">
        <button
          type="button"
          className="icon-button"
          onClick={() => setRenaming(true)}
          data-testid="rename-notebook"
          title="Rename"
          aria-label={`Rename ${title}`}
        >
          <PencilIcon />
        </button>
        <button
          type="button"
          className="icon-button"
          onClick={() => duplicate.mutate(notebook.id)}
          disabled={duplicate.isPending}
          data-testid="duplicate-notebook"
          title="Duplicate"
          aria-label={`Duplicate ${title}`}
        >
          <CopyIcon />
        </button>
        <a
          className="icon-button"
          href={gateway.notebooks.exportPath(notebook.id)}
          download
          data-testid="download-notebook"
          title="Download .ipynb"
          aria-label={`Download ${title} as .ipynb`}
        >
          <DownloadIcon />
        </a>
        <button
          type="button"
          className="icon-button icon-button-danger"
          onClick={() => setConfirmingDelete(true)}
          data-testid="delete-notebook"
          title="Delete"
          aria-label={`Delete ${title}`}
        >
          <TrashIcon />
        </button>
        {confirmingDelete && (
          <ConfirmDialog
            title="Delete notebook?"
            confirmLabel="Delete"
            busy={remove.isPending}
            onCancel={() => setConfirmingDelete(false)}
            onConfirm={() => remove.mutate(notebook.id, { onSettled: () => setConfirmingDelete(false) })}
          >
            <p>“{title}” and all its cells and outputs will be deleted. This cannot be undone.</p>
          </ConfirmDialog>
        )}
      </td>
    </tr>
  );
}

/** Enter or leaving the field saves; Escape cancels (onDone(null)). */
function RenameInput({ initial, onDone }: { initial: string; onDone(title: string | null): void }) {
  const [value, setValue] = useState(initial);
  // The input goes away after Enter or Escape; a blur from that must not answer a second time.
  const answered = useRef(false);
  const finish = (title: string | null) => {
    if (answered.current) return;
    answered.current = true;
    onDone(title === null ? null : title.trim() || initial);
  };
  return (
    <input
      className="rename-input"
      data-testid="rename-input"
      aria-label="Notebook title"
      value={value}
      maxLength={500}
      autoFocus
      onFocus={(e) => e.currentTarget.select()}
      onChange={(e) => setValue(e.target.value)}
      onBlur={() => finish(value)}
      onKeyDown={(e) => {
        if (e.key === "Enter") finish(value);
        if (e.key === "Escape") finish(null);
      }}
    />
  );
}
