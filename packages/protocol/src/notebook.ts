// The notebook as the HTTP API serves it. Cells and outputs follow nbformat 4 so import/export
// is a mapping, not a translation.
import type { MimeBundle } from "./message-contents";

export type Output =
  | { output_type: "stream"; name: "stdout" | "stderr"; text: string }
  | { output_type: "display_data"; data: MimeBundle; metadata: Record<string, unknown>; display_id?: string }
  | {
      output_type: "execute_result";
      data: MimeBundle;
      metadata: Record<string, unknown>;
      execution_count: number | null;
      display_id?: string;
    }
  | { output_type: "error"; ename: string; evalue: string; traceback: string[] };

/** nbformat's three cell types; Cellar edits raw cells as plain text and never runs them. */
export type CellType = "code" | "markdown" | "raw";

export interface Cell {
  id: string;
  cell_type: CellType;
  source: string;
  outputs: Output[];
  execution_count: number | null;
  metadata: Record<string, unknown>;
  /** nbformat attachments of markdown and raw cells (images pasted into markdown), kept as-is. */
  attachments?: Record<string, MimeBundle>;
  /** Who ran it last (absent: nobody since this was recorded, or that account is gone). */
  lastRunBy?: { id: string; name: string };
}

export interface NotebookSummary {
  id: string;
  title: string;
  updatedAt: string;
  lastRunAt: string | null;
}

export interface Notebook extends NotebookSummary {
  userId: string;
  /** The image its kernel runs on; "base" unless chosen. Optional only for older test doubles. */
  image?: string;
  createdAt: string;
  cells: Cell[];
  /** Notebook-level nbformat metadata (kernelspec, language_info, …), kept for export. Optional
   * only so older test doubles need not spell it out; the gateway always sends it. */
  metadata?: Record<string, unknown>;
  /** The nbformat 4 minor version the notebook was imported as (5 for notebooks made here). */
  nbformatMinor?: number;
  /** "run": the read-only executed copy a headless run left behind. Optional for test doubles. */
  kind?: NotebookKind;
  /** A run's source notebook; null when it is not a run, or its source was deleted. */
  executedFromId?: string | null;
}

export type NotebookKind = "notebook" | "run";

/** A whole notebook as it arrives from an .ipynb file: cells with their outputs and metadata. */
export interface NotebookImport {
  title: string;
  metadata: Record<string, unknown>;
  nbformatMinor: number;
  cells: Cell[];
}

/** What the browser saves: structure and sources. Outputs belong to the gateway, which records
 * them as the kernel produces them, so a save never overwrites output that arrived meanwhile. */
export interface NotebookUpdate {
  title?: string;
  /** The image its kernel runs on (a name from GET /api/images); takes effect at the next kernel start. */
  image?: string;
  cells?: Array<Pick<Cell, "id" | "cell_type" | "source"> & { metadata?: Record<string, unknown> }>;
}
