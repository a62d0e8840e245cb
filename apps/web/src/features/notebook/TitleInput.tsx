"use client";
import { useNotebookContext, useNotebookState } from "./notebook-context";
import { useMay } from "./page-roles";

export function TitleInput() {
  const { store } = useNotebookContext();
  const title = useNotebookState((s) => s.title);
  const mayRename = useMay("rename");
  return (
    <input
      className="title-input"
      data-testid="notebook-title"
      aria-label="Notebook title"
      value={title}
      placeholder="Untitled"
      spellCheck={false}
      readOnly={!mayRename}
      title={mayRename ? undefined : "Only an editor may rename the notebook"}
      onChange={(e) => store.getState().setTitle(e.target.value)}
      onKeyDown={(e) => {
        if (e.key === "Enter" || e.key === "Escape") e.currentTarget.blur();
      }}
    />
  );
}
