"use client";
import { useNotebookContext, useNotebookState } from "./notebook-context";

export function TitleInput() {
  const { store } = useNotebookContext();
  const title = useNotebookState((s) => s.title);
  return (
    <input
      className="title-input"
      data-testid="notebook-title"
      aria-label="Notebook title"
      value={title}
      placeholder="Untitled"
      spellCheck={false}
      onChange={(e) => store.getState().setTitle(e.target.value)}
      onKeyDown={(e) => {
        if (e.key === "Enter" || e.key === "Escape") e.currentTarget.blur();
      }}
    />
  );
}
