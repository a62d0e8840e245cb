"use client";
import { useNotebookContext } from "./notebook-context";
import type { CellPlace } from "./document-slice";
import { useMay } from "./page-roles";
import { PlusIcon } from "../../shared/icons";

/** The slim "+ Code / + Markdown" row above the first cell and below every cell. */
export function AddCellBar({ place }: { place: CellPlace }) {
  const { store } = useNotebookContext();
  const mayEdit = useMay("edit");
  if (!mayEdit) return null;
  const where = place === "start" ? "top" : "below";
  return (
    <div className={`add-cell-bar add-cell-bar-${where}`}>
      <button
        type="button"
        className="add-cell-button"
        data-testid={`add-code-${where}`}
        onClick={() => store.getState().addCell("code", place)}
      >
        <PlusIcon /> Code
      </button>
      <button
        type="button"
        className="add-cell-button"
        data-testid={`add-markdown-${where}`}
        onClick={() => store.getState().addCell("markdown", place)}
      >
        <PlusIcon /> Markdown
      </button>
    </div>
  );
}
