"use client";
import Link from "next/link";
import { useNotebook } from "../../shared/notebook-queries";
import { isNotFound, isUnauthorized } from "@cellar/kernel-client";
import { AppHeader } from "../../shared/AppHeader";
import { NotebookEditor } from "./NotebookEditor";

/** Loads a notebook by id, then hands it to the editor, which owns it from then on. */
export function NotebookScreen({ id }: { id: string | null }) {
  const query = useNotebook(id);
  if (!id) return <Message title="No notebook chosen" />;
  if (query.error) {
    if (isUnauthorized(query.error)) return <Message title="Sign in to open this notebook" />;
    if (isNotFound(query.error)) return <Message title="This notebook does not exist" detail="It may have been deleted." />;
    return <Message title="Could not load the notebook" detail={query.error.message} />;
  }
  if (!query.data) return <Message title="Loading notebook…" quiet />;
  return <NotebookEditor notebook={query.data} />;
}

function Message({ title, detail, quiet }: { title: string; detail?: string; quiet?: boolean }) {
  return (
    <div className="page">
      <AppHeader />
      <main className="page-message">
        <h1 className={quiet ? "muted" : undefined}>{title}</h1>
        {detail && <p className="muted">{detail}</p>}
        {!quiet && (
          <Link href="/" className="button">
            All notebooks
          </Link>
        )}
      </main>
    </div>
  );
}
