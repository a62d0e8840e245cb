"use client";
import { Suspense } from "react";
import { useSearchParams } from "next/navigation";
import { NotebookScreen } from "../../features/notebook/NotebookScreen";

// The id travels as ?id=: a static export cannot pre-render a page per notebook.
function NotebookRoute() {
  const id = useSearchParams().get("id");
  return <NotebookScreen key={id ?? ""} id={id} />;
}

export default function NotebookPage() {
  return (
    <Suspense fallback={<div className="page-message">Loading…</div>}>
      <NotebookRoute />
    </Suspense>
  );
}
