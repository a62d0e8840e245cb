// Which cells are selected: JupyterLab's model of an active cell plus an anchor, so Shift+Up/Down
// grows or shrinks a contiguous range around where it started.
export interface SelectionState {
  cells: ReadonlyArray<{ id: string }>;
  activeCellId: string | null;
  /** Where a Shift-selection started; null when only the active cell is selected. */
  anchorCellId: string | null;
}

/** The selected cells' ids, in notebook order. */
export function selectedCellIds(s: SelectionState): string[] {
  const active = s.cells.findIndex((c) => c.id === s.activeCellId);
  if (active < 0) return [];
  const anchor = s.anchorCellId ? s.cells.findIndex((c) => c.id === s.anchorCellId) : -1;
  if (anchor < 0) return [s.cells[active].id];
  const [from, to] = anchor < active ? [anchor, active] : [active, anchor];
  return s.cells.slice(from, to + 1).map((c) => c.id);
}

export function isCellSelected(s: SelectionState, cellId: string): boolean {
  return selectedCellIds(s).includes(cellId);
}
