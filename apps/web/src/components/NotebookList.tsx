"use client";
import Link from "next/link";
import { useRouter } from "next/navigation";
import type { NotebookSummary } from "@cellar/protocol";
import { useCreateNotebook, useDeleteNotebook, useNotebooks } from "../hooks/use-notebook";
import { isUnauthorized } from "../lib/api";
import { fullDate, timeAgo } from "../lib/format-time";
import { AppHeader } from "./AppHeader";
import { TrashIcon } from "./icons";

export const notebookHref = (id: string) => `/notebook/?id=${encodeURIComponent(id)}`;

export function NotebookList() {
  const router = useRouter();
  const notebooks = useNotebooks();
  const create = useCreateNotebook();

  const onCreate = () =>
    create.mutate(undefined, { onSuccess: (nb) => router.push(notebookHref(nb.id)) });

  return (
    <div className="page">
      <AppHeader />
      <main className="list-page">
        <div className="list-heading">
          <h1>Notebooks</h1>
          <button className="button button-primary" data-testid="new-notebook" onClick={onCreate} disabled={create.isPending}>
            {create.isPending ? "Creating…" : "+ New notebook"}
          </button>
        </div>
        {create.error && !isUnauthorized(create.error) && <p className="error-text">Could not create a notebook: {create.error.message}</p>}
        {notebooks.isPending && <p className="muted">Loading notebooks…</p>}
        {notebooks.error && !isUnauthorized(notebooks.error) && (
          <p className="error-text">Could not load notebooks: {notebooks.error.message}</p>
        )}
        {notebooks.data && notebooks.data.length === 0 && (
          <div className="empty-state">
            <p>No notebooks yet.</p>
            <p className="muted">Create one to start running Python in a sandboxed kernel.</p>
          </div>
        )}
        {notebooks.data && notebooks.data.length > 0 && (
          <table className="notebook-table">
            <thead>
              <tr>
                <th>Title</th>
                <th>Last updated</th>
                <th>Last run</th>
                <th aria-label="Actions" />
              </tr>
            </thead>
            <tbody>
              {notebooks.data.map((nb) => (
                <NotebookRow key={nb.id} notebook={nb} />
              ))}
            </tbody>
          </table>
        )}
      </main>
    </div>
  );
}

function NotebookRow({ notebook }: { notebook: NotebookSummary }) {
  const remove = useDeleteNotebook();
  const onDelete = () => {
    if (window.confirm(`Delete "${notebook.title}"? This cannot be undone.`)) remove.mutate(notebook.id);
  };
  return (
    <tr data-testid="notebook-row">
      <td>
        <Link href={notebookHref(notebook.id)} className="notebook-link" data-testid="notebook-link">
          {notebook.title || "Untitled"}
        </Link>
      </td>
      <td title={fullDate(notebook.updatedAt)}>{timeAgo(notebook.updatedAt)}</td>
      <td title={notebook.lastRunAt ? fullDate(notebook.lastRunAt) : undefined}>
        {notebook.lastRunAt ? timeAgo(notebook.lastRunAt) : <span className="muted">never</span>}
      </td>
      <td className="row-actions">
        <button className="icon-button" onClick={onDelete} disabled={remove.isPending} data-testid="delete-notebook" title="Delete notebook" aria-label={`Delete ${notebook.title}`}>
          <TrashIcon />
        </button>
      </td>
    </tr>
  );
}
