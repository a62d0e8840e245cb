// Copied cells, as Jupyter keeps them: inside the app (not the system clipboard, which holds text
// from editors), shared by every notebook open in this tab so cells can move between notebooks.
import type { CellDoc } from "./document-slice";

let copied: CellDoc[] = [];

export function copyCells(cells: CellDoc[]): void {
  copied = cells.map((c) => ({ ...c, metadata: structuredClone(c.metadata) }));
}

/** Fresh copies each time: pasting twice must not give two cells the same id. */
export function pasteCells(): CellDoc[] {
  return copied.map((c) => ({ ...c, id: globalThis.crypto.randomUUID(), metadata: structuredClone(c.metadata) }));
}

export function hasCopiedCells(): boolean {
  return copied.length > 0;
}
