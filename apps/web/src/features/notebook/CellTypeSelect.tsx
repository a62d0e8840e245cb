"use client";
import type { CellType } from "@cellar/protocol";
import { useNotebookContext, useNotebookState } from "./notebook-context";

const LABELS: Record<CellType, string> = { code: "Code", markdown: "Markdown", raw: "Raw" };

/** JupyterLab's cell type menu: shows the active cell's type and changes the selected cells'. */
export function CellTypeSelect() {
  const { commands } = useNotebookContext();
  const type = useNotebookState((s) => s.cells.find((c) => c.id === s.activeCellId)?.cell_type);
  return (
    <select
      className="tool cell-type-select"
      data-testid="cell-type-select"
      aria-label="Cell type"
      title="Cell type of the selected cells (Y code, M markdown, R raw)"
      value={type ?? ""}
      disabled={!type}
      onChange={(e) => commands.changeCellType(e.target.value as CellType)}
    >
      {!type && <option value="">-</option>}
      {(Object.keys(LABELS) as CellType[]).map((t) => (
        <option key={t} value={t}>
          {LABELS[t]}
        </option>
      ))}
    </select>
  );
}
