// The notebook's shared part as a Yjs document: the cells' types, sources, order and metadata,
// and the title. Outputs and execution counts stay out: the gateway records them from the kernel,
// so an undo or a merge can never touch them.
//
// Order is a fractional-indexing key per cell rather than a Y.Array of ids: a move is then one
// write to one cell, so two people moving (or inserting next to) the same cell at once can only
// disagree about where it ends up, never produce a second copy or drop it. Equal keys (two
// inserts at the same place) sort by cell id, so every replica shows the same order.
import type { CellType } from "@cellar/protocol";
import { generateKeyBetween } from "fractional-indexing";
import * as Y from "yjs";
import { seedSettings } from "./settings";

export interface DocCell {
  id: string;
  cell_type: CellType;
  source: string;
  metadata: Record<string, unknown>;
}

export interface NewCell {
  id: string;
  cell_type: CellType;
  source?: string;
  metadata?: Record<string, unknown>;
}

/** Where a cell goes: after a cell, before a cell, or (null) at the start / end. */
export type Placement = { after: string | null } | { before: string | null };

type CellMap = Y.Map<unknown>;

export function cellsMap(doc: Y.Doc): Y.Map<CellMap> {
  return doc.getMap<CellMap>("cells");
}

export function metaMap(doc: Y.Doc): Y.Map<unknown> {
  return doc.getMap("meta");
}

/** The Y.Text of one cell's source, for an editor binding; undefined once the cell is gone. */
export function cellText(doc: Y.Doc, cellId: string): Y.Text | undefined {
  const text = cellsMap(doc).get(cellId)?.get("source");
  return text instanceof Y.Text ? text : undefined;
}

export function docTitle(doc: Y.Doc): string | undefined {
  const title = metaMap(doc).get("title");
  return typeof title === "string" ? title : undefined;
}

export function setTitle(doc: Y.Doc, title: string, origin?: unknown): void {
  doc.transact(() => metaMap(doc).set("title", title), origin);
}

interface Ordered {
  id: string;
  position: string;
  cell: CellMap;
}

function ordered(doc: Y.Doc): Ordered[] {
  const list: Ordered[] = [];
  for (const [id, cell] of cellsMap(doc)) list.push({ id, position: String(cell.get("position") ?? ""), cell });
  return list.sort((a, b) => (a.position < b.position ? -1 : a.position > b.position ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** The cells in order, as plain values. */
export function toCells(doc: Y.Doc): DocCell[] {
  return ordered(doc).map(({ id, cell }) => ({
    id,
    cell_type: (cell.get("type") as CellType | undefined) ?? "code",
    source: String(cell.get("source") ?? ""),
    metadata: (cell.get("metadata") as Record<string, unknown> | undefined) ?? {},
  }));
}

function newCellMap(cell: NewCell, position: string): CellMap {
  const map = new Y.Map<unknown>();
  map.set("type", cell.cell_type);
  map.set("source", new Y.Text(cell.source ?? ""));
  map.set("position", position);
  if (cell.metadata && Object.keys(cell.metadata).length > 0) map.set("metadata", cell.metadata);
  return map;
}

/** Fills an empty document with a notebook's cells (in the given order), title and settings
 * (read from its nbformat `metadata`, see settings.ts). */
export function fromNotebook(
  notebook: { title?: string; cells: NewCell[]; metadata?: Record<string, unknown> },
  doc: Y.Doc = new Y.Doc(),
  origin?: unknown,
): Y.Doc {
  doc.transact(() => {
    if (notebook.title !== undefined) metaMap(doc).set("title", notebook.title);
    seedSettings(doc, notebook.metadata);
    let position: string | null = null;
    for (const cell of notebook.cells) {
      position = generateKeyBetween(position, null);
      cellsMap(doc).set(cell.id, newCellMap(cell, position));
    }
  }, origin);
  return doc;
}

/** Gives cells whose key ties with (or falls behind) the one before a key of their own, so a
 * cell can be placed between any two neighbours. Run inside a transaction. */
function untie(list: Ordered[]): void {
  for (let i = 1; i < list.length; i++) {
    if (list[i].position > list[i - 1].position) continue;
    const upper = list.slice(i + 1).find((next) => next.position > list[i - 1].position)?.position ?? null;
    const position = generateKeyBetween(list[i - 1].position, upper);
    list[i].cell.set("position", position);
    list[i] = { ...list[i], position };
  }
}

/** The key for a cell placed at `where` among `list` (which must not contain that cell). */
function positionFor(list: Ordered[], where: Placement): string {
  let index: number; // the cell goes before list[index]
  if ("after" in where) {
    index = where.after === null ? list.length : list.findIndex((c) => c.id === where.after) + 1;
    if (index === 0) index = list.length; // the anchor is gone: put it at the end
  } else {
    index = where.before === null ? 0 : list.findIndex((c) => c.id === where.before);
    if (index === -1) index = list.length;
  }
  return generateKeyBetween(list[index - 1]?.position ?? null, list[index]?.position ?? null);
}

export function insertCell(doc: Y.Doc, cell: NewCell, where: Placement, origin?: unknown): void {
  doc.transact(() => {
    if (cellsMap(doc).has(cell.id)) return;
    const list = ordered(doc);
    untie(list);
    cellsMap(doc).set(cell.id, newCellMap(cell, positionFor(list, where)));
  }, origin);
}

export function deleteCell(doc: Y.Doc, cellId: string, origin?: unknown): void {
  doc.transact(() => cellsMap(doc).delete(cellId), origin);
}

export function moveCell(doc: Y.Doc, cellId: string, where: Placement, origin?: unknown): void {
  doc.transact(() => {
    const cell = cellsMap(doc).get(cellId);
    if (!cell) return;
    const list = ordered(doc);
    untie(list);
    const others = list.filter((c) => c.id !== cellId);
    cell.set("position", positionFor(others, where));
  }, origin);
}

/** Replaces a cell's source by the smallest edit (common prefix and suffix kept), so a change
 * made this way merges with what others type elsewhere in the same cell. */
export function setSource(doc: Y.Doc, cellId: string, source: string, origin?: unknown): void {
  const text = cellText(doc, cellId);
  if (!text) return;
  doc.transact(() => replaceText(text, source), origin);
}

function replaceText(text: Y.Text, next: string): void {
  const current = text.toString();
  if (current === next) return;
  let start = 0;
  while (start < current.length && start < next.length && current[start] === next[start]) start++;
  let end = 0;
  while (end < current.length - start && end < next.length - start && current[current.length - 1 - end] === next[next.length - 1 - end])
    end++;
  text.delete(start, current.length - start - end);
  text.insert(start, next.slice(start, next.length - end));
}

export function setCellType(doc: Y.Doc, cellId: string, cellType: CellType, origin?: unknown): void {
  doc.transact(() => {
    const cell = cellsMap(doc).get(cellId);
    if (cell && cell.get("type") !== cellType) cell.set("type", cellType);
  }, origin);
}

/** Makes the document hold exactly these cells in this order (an API save, an import): cells
 * that are missing are deleted, new ones inserted, sources changed by their smallest edit, and
 * only the cells that are out of order get a new key. One transaction, so it arrives as one
 * change for everyone editing. `sources: false` leaves existing cells' sources alone (a page
 * whose editors write their Y.Text themselves sends only structure this way). */
export function applyCells(doc: Y.Doc, cells: NewCell[], origin?: unknown, options: { sources?: boolean } = {}): void {
  const sources = options.sources ?? true;
  doc.transact(() => {
    const map = cellsMap(doc);
    const wanted = new Set(cells.map((c) => c.id));
    for (const id of [...map.keys()]) if (!wanted.has(id)) map.delete(id);
    const list = ordered(doc);
    untie(list);
    const rank = new Map(list.map((c, i) => [c.id, i]));
    const keep = increasingRun(cells.map((c) => rank.get(c.id) ?? -1));
    // Walk the target order; cells in the kept run stay where they are, the rest get a key
    // between their new neighbours (the next kept cell is the upper bound).
    let previous: string | null = null;
    cells.forEach((cell, i) => {
      const existing = map.get(cell.id);
      if (existing) {
        if (existing.get("type") !== cell.cell_type) existing.set("type", cell.cell_type);
        if (sources) replaceText(existing.get("source") as Y.Text, cell.source ?? "");
        if (cell.metadata !== undefined && JSON.stringify(existing.get("metadata") ?? {}) !== JSON.stringify(cell.metadata))
          existing.set("metadata", cell.metadata);
      }
      if (keep.has(i)) {
        previous = String(existing!.get("position"));
        return;
      }
      const nextKept = cells.findIndex((_, j) => j > i && keep.has(j));
      const upper = nextKept === -1 ? null : String(map.get(cells[nextKept].id)!.get("position"));
      const position = generateKeyBetween(previous, upper);
      if (existing) existing.set("position", position);
      else map.set(cell.id, newCellMap(cell, position));
      previous = position;
    });
  }, origin);
}

/** Indexes of a longest strictly increasing run of the ranks (-1 = new, never kept). */
function increasingRun(ranks: number[]): Set<number> {
  const tails: number[] = []; // index into ranks of the smallest tail of each run length
  const before: number[] = ranks.map(() => -1);
  ranks.forEach((rank, i) => {
    if (rank < 0) return;
    let lo = 0;
    let hi = tails.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ranks[tails[mid]] < rank) lo = mid + 1;
      else hi = mid;
    }
    before[i] = lo > 0 ? tails[lo - 1] : -1;
    tails[lo] = i;
  });
  const run = new Set<number>();
  for (let i = tails.length > 0 ? tails[tails.length - 1] : -1; i !== -1; i = before[i]) run.add(i);
  return run;
}
