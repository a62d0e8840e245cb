"use client";
import { useMemo, useState } from "react";
import { useRouter } from "next/navigation";
import { useCreateNotebook, useNotebooks } from "../../shared/notebook-queries";
import { isUnauthorized } from "@cellar/kernel-client";
import { AppHeader } from "../../shared/AppHeader";
import { AccountMenu } from "../account/AccountMenu";
import { NoticesBell } from "../notices/NoticesBell";
import { MachinesButton } from "../machines/MachinesPanel";
import { SearchIcon } from "../../shared/icons";
import { ImportNotebookButton } from "./ImportNotebookButton";
import { notebookHref, NotebookRow } from "./NotebookRow";
import { SharedNotebooks } from "./SharedNotebooks";

export { notebookHref } from "./NotebookRow";

export function NotebookList() {
  const router = useRouter();
  const notebooks = useNotebooks();
  const create = useCreateNotebook();
  const [query, setQuery] = useState("");

  const onCreate = () => create.mutate(undefined, { onSuccess: (nb) => router.push(notebookHref(nb.id)) });

  const shown = useMemo(() => {
    const q = query.trim().toLocaleLowerCase();
    return q ? notebooks.data?.filter((nb) => (nb.title || "Untitled").toLocaleLowerCase().includes(q)) : notebooks.data;
  }, [notebooks.data, query]);
  // The caller's own notebooks, and below them those others shared with them.
  const own = shown?.filter((nb) => nb.role === "owner") ?? [];
  const shared = shown?.filter((nb) => nb.role !== "owner") ?? [];

  return (
    <div className="page">
      <AppHeader>
        <div className="header-spacer" />
        <a href="/jobs/" className="button" data-testid="jobs-link">
          Jobs
        </a>
        <a href="/images/" className="button" data-testid="images-link">
          Images
        </a>
        <MachinesButton />
        <NoticesBell />
        <AccountMenu />
      </AppHeader>
      <main className="list-page">
        <div className="list-heading">
          <h1>Notebooks</h1>
          <div className="list-heading-actions">
            <ImportNotebookButton />
            <button
              type="button"
              className="button button-primary"
              data-testid="new-notebook"
              onClick={onCreate}
              disabled={create.isPending}
            >
              {create.isPending ? "Creating…" : "+ New notebook"}
            </button>
          </div>
        </div>
        {create.error && !isUnauthorized(create.error) && <p className="error-text">Could not create a notebook: {create.error.message}</p>}
        {notebooks.isPending && <p className="muted">Loading notebooks…</p>}
        {notebooks.error && !isUnauthorized(notebooks.error) && (
          <p className="error-text">Could not load notebooks: {notebooks.error.message}</p>
        )}
        {notebooks.data && notebooks.data.length === 0 && (
          <div className="empty-state">
            <p>No notebooks yet.</p>
            <p className="muted">Create one to start running Python in a sandboxed kernel, or import a .ipynb file.</p>
          </div>
        )}
        {notebooks.data && notebooks.data.length > 0 && (
          <>
            <label className="list-search">
              <SearchIcon />
              <input
                type="search"
                placeholder="Search notebooks by title"
                aria-label="Search notebooks by title"
                data-testid="notebook-search"
                value={query}
                onChange={(e) => setQuery(e.target.value)}
              />
            </label>
            {shown!.length === 0 && (
              <p className="muted" data-testid="no-search-results">
                No notebook titles match “{query.trim()}”.
              </p>
            )}
            {own.length > 0 && (
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
                  {own.map((nb) => (
                    <NotebookRow key={nb.id} notebook={nb} />
                  ))}
                </tbody>
              </table>
            )}
            {shared.length > 0 && <SharedNotebooks notebooks={shared} />}
          </>
        )}
      </main>
    </div>
  );
}
