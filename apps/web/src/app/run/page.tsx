"use client";
import { Suspense } from "react";
import { useSearchParams } from "next/navigation";
import { RunPage } from "../../features/runs/RunPage";

// The id travels as ?id=: a static export cannot pre-render a page per run.
function RunRoute() {
  const id = useSearchParams().get("id");
  return <RunPage key={id ?? ""} id={id} />;
}

export default function Run() {
  return (
    <Suspense fallback={<div className="page-message">Loading…</div>}>
      <RunRoute />
    </Suspense>
  );
}
