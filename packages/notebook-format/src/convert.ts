// .ipynb ⇄ Cellar's notebook. The mapping is one to one: every field nbformat 4 allows on a
// notebook, cell or output has a home in Cellar, so import → export gives the same notebook.
import type { Cell, MimeBundle, NotebookImport, Output } from "@cellar/protocol";
import { LATEST_MINOR, type IpynbCell, type IpynbNotebook, type IpynbOutput } from "./ipynb";
import { joinBundle, joinLines, splitBundle, splitLines } from "./multiline";

export interface FromIpynbOptions {
  title: string;
  /** Ids for cells of notebooks older than nbformat 4.5, which have none. */
  newCellId?: () => string;
}

/** A validated notebook (see parseIpynb) as Cellar stores it. */
export function fromIpynb(nb: IpynbNotebook, options: FromIpynbOptions): NotebookImport {
  const newCellId = options.newCellId ?? (() => globalThis.crypto.randomUUID());
  return {
    title: options.title,
    metadata: nb.metadata,
    nbformatMinor: nb.nbformat_minor,
    cells: nb.cells.map((cell) => importCell(cell, newCellId)),
  };
}

function importCell(cell: IpynbCell, newCellId: () => string): Cell {
  const base = { id: cell.id ?? newCellId(), source: joinLines(cell.source), metadata: cell.metadata };
  if (cell.cell_type === "code") {
    return { ...base, cell_type: "code", outputs: cell.outputs.map(importOutput), execution_count: cell.execution_count };
  }
  const imported: Cell = { ...base, cell_type: cell.cell_type, outputs: [], execution_count: null };
  if (cell.attachments) imported.attachments = mapValues(cell.attachments, joinBundle);
  return imported;
}

function importOutput(output: IpynbOutput): Output {
  switch (output.output_type) {
    case "stream":
      return { ...output, name: output.name as "stdout" | "stderr", text: joinLines(output.text) };
    case "display_data":
    case "execute_result":
      return { ...output, data: joinBundle(output.data) };
    default:
      return output;
  }
}

/** What export needs from a stored notebook. */
export interface ExportableNotebook {
  metadata?: Record<string, unknown>;
  nbformatMinor?: number;
  cells: Cell[];
}

export function toIpynb(notebook: ExportableNotebook): IpynbNotebook {
  const minor = notebook.nbformatMinor ?? LATEST_MINOR;
  return {
    cells: notebook.cells.map((cell) => exportCell(cell, minor)),
    metadata: notebook.metadata ?? {},
    nbformat: 4,
    nbformat_minor: minor,
  };
}

function exportCell(cell: Cell, minor: number): IpynbCell {
  // Cell ids exist from 4.5 on; older schemas forbid the field.
  const id = minor >= 5 ? { id: cell.id } : {};
  const source = splitLines(cell.source);
  if (cell.cell_type === "code") {
    return {
      ...id,
      cell_type: "code",
      metadata: cell.metadata,
      source,
      outputs: cell.outputs.map(exportOutput),
      execution_count: cell.execution_count,
    };
  }
  return {
    ...id,
    cell_type: cell.cell_type,
    metadata: cell.metadata,
    source,
    ...(cell.attachments ? { attachments: mapValues(cell.attachments, splitBundle) } : {}),
  };
}

function exportOutput(output: Output): IpynbOutput {
  switch (output.output_type) {
    case "stream":
      return { output_type: "stream", name: output.name, text: splitLines(output.text) };
    case "display_data":
      // display_id is Cellar's (for update_display_data); nbformat has no field for it.
      return { output_type: "display_data", data: splitBundle(output.data), metadata: output.metadata ?? {} };
    case "execute_result":
      return {
        output_type: "execute_result",
        data: splitBundle(output.data),
        metadata: output.metadata ?? {},
        execution_count: output.execution_count,
      };
    case "error":
      return { output_type: "error", ename: output.ename, evalue: output.evalue, traceback: output.traceback };
  }
}

/** JSON the way Jupyter writes it (sorted keys, one-space indent, trailing newline), so an
 * exported file diffs cleanly against the one that was imported. */
export function serializeIpynb(nb: IpynbNotebook): string {
  return JSON.stringify(sortKeys(nb), null, 1) + "\n";
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
  );
}

function mapValues(record: Record<string, MimeBundle>, fn: (b: MimeBundle) => MimeBundle): Record<string, MimeBundle> {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, fn(v)]));
}
