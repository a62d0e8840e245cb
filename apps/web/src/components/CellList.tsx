"use client";
import { useShallow } from "zustand/react/shallow";
import { useNotebookState } from "../hooks/notebook-context";
import { AddCellBar } from "./AddCellBar";
import { CellView } from "./CellView";

/** Re-renders only when cells are added, removed or reordered; each cell reads its own state. */
export function CellList() {
  const ids = useNotebookState(useShallow((s) => s.cells.map((c) => c.id)));
  return (
    <div className="cell-list">
      {ids.length === 0 && <p className="empty-cells muted">This notebook is empty. Add a cell to begin.</p>}
      <AddCellBar place="start" />
      {ids.map((id, i) => (
        <div key={id} className="cell-slot">
          <CellView cellId={id} index={i} count={ids.length} />
          <AddCellBar place={{ after: id }} />
        </div>
      ))}
    </div>
  );
}
