// Notebooks as the HTTP API and the gateway see them (types from @cellar/protocol), stored
// through Prisma. Outputs and execution counts belong to the gateway (saveCellOutputs); a save
// from the browser (update) changes structure and sources and never touches them.
import { randomUUID } from "node:crypto";
import {
  withNotebookPackages,
  type Cell,
  type MimeBundle,
  type Notebook,
  type NotebookImport,
  type NotebookPackages,
  type NotebookSummary,
  type NotebookUpdate,
  type Output,
  type StreamPosition,
  type WidgetStateDocument,
  WIDGET_STATE_MIME,
  widgetsMetadata,
} from "@cellar/protocol";
import type { PrismaClient } from "./prisma-client";
import { disableSchedulesOfNotebook } from "./schedule-store";
import { writeTransaction } from "./write-transaction";
import type { Cell as CellRow, Notebook as NotebookRow } from "../generated/sqlite/client";

export interface NotebookStore {
  /** One user's notebooks, most recently saved first; runs' executed copies are not listed. */
  list(userId: string): Promise<NotebookSummary[]>;
  /** A new notebook titled `title` ("Untitled" by default) holding one empty code cell. */
  create(userId: string, title?: string): Promise<Notebook>;
  /** A new notebook holding the given cells with their outputs, execution counts, metadata and
   * attachments (an imported .ipynb, or a copy of a notebook). Cell ids must be unique. */
  importNotebook(userId: string, notebook: NotebookImport): Promise<Notebook>;
  get(id: string): Promise<Notebook | null>;
  /** A new notebook of kind "run" owned by `userId`: the source as last saved (its Cell table,
   * not a live document), or with `cells` instead of the source's when given (the same cells
   * with parameters injected), outputs, counts and widget state cleared, titled "<title> — run <time>". Null if
   * there is no such source. */
  createExecutedCopy(sourceId: string, options: { userId: string; cells?: Cell[]; at?: Date }): Promise<Notebook | null>;
  /** Replaces the title and/or the ordered cell list in one transaction. Cells that already exist
   * keep their outputs and execution count; cells left out are deleted. Null if no such notebook. */
  update(id: string, update: NotebookUpdate): Promise<Notebook | null>;
  /** Records a cell's outputs. Returns false, changing nothing, if the notebook has no such cell
   * (deleted, or not saved yet): the caller decides whether to try again after the next save. */
  saveCellOutputs(
    notebookId: string,
    cellId: string,
    outputs: Output[],
    executionCount: number | null,
    through?: StreamPosition | null,
  ): Promise<boolean>;
  /** A cell's recorded outputs and execution count; null if the notebook has no such cell. */
  cellOutputs(notebookId: string, cellId: string): Promise<RecordedOutputs | null>;
  /** Sets lastRunAt to now, and with `cell`, who ran that cell. Does not change updatedAt (the
   * list order follows saves). */
  markRun(notebookId: string, cell?: { cellId: string; userId: string }): Promise<void>;
  /** A cell's source as stored; null if the notebook has no such cell. */
  cellSource(notebookId: string, cellId: string): Promise<string | null>;
  /** The stored nbformat metadata of a cell (null: no such cell) and of its notebook (a run's
   * device is chosen there). */
  runMetadata(notebookId: string, cellId: string): Promise<{ cell: Record<string, unknown> | null; notebook: Record<string, unknown> }>;
  /** Records the notebook's pip packages (`%pip install`) in its metadata (cellar.image; null
   * removes them) and the image its kernel runs on, in one write. False if there is no such notebook. */
  setPackages(id: string, image: string, packages: NotebookPackages | null): Promise<boolean>;
  /** Records the state of the notebook's Jupyter widgets as `metadata.widgets` (JupyterLab's
   * `{"application/vnd.jupyter.widget-state+json": doc}`; null removes it), beside the rest of its
   * metadata. Not a save: the edit time stays. False if there is no such notebook. */
  saveWidgetState(id: string, doc: WidgetStateDocument | null): Promise<boolean>;
  /** The widget state saved in `metadata.widgets` (as saved: unchecked), or null if none. */
  widgetState(id: string): Promise<unknown>;
  remove(id: string): Promise<boolean>;
  /** The id of the user the notebook belongs to; null if there is no such notebook. */
  ownerOf(notebookId: string): Promise<string | null>;
}

/** A cell's recorded outputs, and the kernel message they go up to (null: not known). */
export interface RecordedOutputs {
  outputs: Output[];
  executionCount: number | null;
  through: StreamPosition | null;
}

export interface NotebookStoreOptions {
  /** Where unreadable stored JSON is reported. */
  warn?: (message: string) => void;
}

export class DuplicateCellIdError extends Error {
  override name = "DuplicateCellIdError";
}

type CellWithRunner = CellRow & { lastRunBy?: { id: string; name: string } | null };
type NotebookWithCells = NotebookRow & { cells: CellWithRunner[] };
/** The cells in order, with who ran each last. */
const cellsInOrder = { orderBy: { position: "asc" }, include: { lastRunBy: { select: { id: true, name: true } } } } as const;

export function createNotebookStore(prisma: PrismaClient, options: NotebookStoreOptions = {}): NotebookStore {
  const warn = options.warn ?? ((message: string) => console.warn(`[db] ${message}`));

  const toNotebook = (row: NotebookWithCells): Notebook => ({
    ...toSummary(row),
    userId: row.userId,
    image: row.image,
    createdAt: row.createdAt.toISOString(),
    kind: row.kind === "run" ? "run" : "notebook",
    executedFromId: row.executedFromId,
    cells: row.cells.map((cell) => toCell(cell, warn)),
    metadata: parseJson(row.metadata, isPlainObject, {} as Record<string, unknown>, `metadata of notebook ${row.id}`, warn),
    nbformatMinor: row.nbformatMinor,
  });

  const load = async (id: string): Promise<Notebook | null> => {
    const row = await prisma.notebook.findUnique({
      where: { id },
      include: { cells: cellsInOrder },
    });
    return row ? toNotebook(row) : null;
  };

  return {
    async list(userId) {
      const rows = await prisma.notebook.findMany({
        where: { userId, kind: NOTEBOOK_KIND },
        orderBy: [{ updatedAt: "desc" }, { createdAt: "desc" }, { id: "asc" }],
        select: { id: true, title: true, updatedAt: true, lastRunAt: true },
      });
      return rows.map(toSummary);
    },

    async create(userId, title = "Untitled") {
      const row = await prisma.notebook.create({
        data: {
          id: randomUUID(),
          userId,
          title,
          cells: { create: [{ id: randomUUID(), position: 0, cellType: "code", source: "" }] },
        },
        include: { cells: cellsInOrder },
      });
      return toNotebook(row);
    },

    async importNotebook(userId, notebook) {
      assertUniqueIds(notebook.cells, "the notebook");
      const id = randomUUID();
      // Nested create: one statement batch, so a half-imported notebook never exists.
      await prisma.notebook.create({
        data: {
          id,
          userId,
          title: notebook.title,
          metadata: JSON.stringify(notebook.metadata),
          nbformatMinor: notebook.nbformatMinor,
          cells: {
            create: notebook.cells.map((cell, position) => ({
              id: cell.id,
              position,
              cellType: cell.cell_type,
              source: cell.source,
              outputs: JSON.stringify(cell.outputs),
              executionCount: cell.execution_count,
              metadata: JSON.stringify(cell.metadata),
              attachments: cell.attachments ? JSON.stringify(cell.attachments) : null,
            })),
          },
        },
      });
      return (await load(id))!;
    },

    get: load,

    async createExecutedCopy(sourceId, { userId, cells, at = new Date() }) {
      const source = await load(sourceId);
      if (!source) return null;
      const copied = cells ?? source.cells;
      assertUniqueIds(copied, "the run");
      const id = randomUUID();
      await prisma.notebook.create({
        data: {
          id,
          userId,
          kind: RUN_KIND,
          executedFromId: sourceId,
          title: `${source.title} — run ${at.toISOString().slice(0, 16).replace("T", " ")} UTC`,
          image: source.image,
          // The source's widget state is its kernel's, as its outputs are: the run makes its own.
          metadata: JSON.stringify(withoutWidgets(source.metadata ?? {})),
          nbformatMinor: source.nbformatMinor,
          cells: {
            create: copied.map((cell, position) => ({
              id: cell.id,
              position,
              cellType: cell.cell_type,
              source: cell.source,
              metadata: JSON.stringify(cell.metadata ?? {}),
              attachments: cell.attachments ? JSON.stringify(cell.attachments) : null,
            })),
          },
        },
      });
      return load(id);
    },

    async update(id, update) {
      const cells = update.cells;
      if (cells) assertUniqueIds(cells, "the update");
      const found = await prisma.$transaction(async (tx) => {
        // A write first: it locks the notebook's row, so two saves of one notebook (two tabs, two
        // replicas) take turns, and the second reads the cells the first wrote. Reading first,
        // both saw the same cells and both inserted a new one: a unique violation, a 500.
        const { count } = await tx.notebook.updateMany({ where: { id }, data: { updatedAt: new Date() } });
        if (count === 0) return false;
        if (cells) {
          const existing = await tx.cell.findMany({
            where: { notebookId: id },
            select: { id: true, position: true, cellType: true, source: true, metadata: true },
          });
          const byId = new Map(existing.map((c) => [c.id, c]));
          const wanted = new Set(cells.map((c) => c.id));
          const removed = existing.filter((c) => !wanted.has(c.id)).map((c) => c.id);
          if (removed.length) await tx.cell.deleteMany({ where: { notebookId: id, id: { in: removed } } });
          const added = [];
          for (const [position, cell] of cells.entries()) {
            const old = byId.get(cell.id);
            if (!old) {
              added.push({
                notebookId: id,
                id: cell.id,
                position,
                cellType: cell.cell_type,
                source: cell.source,
                metadata: JSON.stringify(cell.metadata ?? {}),
              });
              continue;
            }
            // Metadata left out of the update keeps what is stored.
            const metadata = cell.metadata === undefined ? old.metadata : JSON.stringify(cell.metadata);
            if (old.position === position && old.cellType === cell.cell_type && old.source === cell.source && old.metadata === metadata) {
              continue; // unchanged: no write
            }
            await tx.cell.update({
              where: { notebookId_id: { notebookId: id, id: cell.id } },
              data: { position, cellType: cell.cell_type, source: cell.source, metadata },
            });
          }
          if (added.length) await tx.cell.createMany({ data: added });
        }
        await tx.notebook.update({
          where: { id },
          data: {
            updatedAt: new Date(),
            ...(update.title !== undefined ? { title: update.title } : {}),
            ...(update.image !== undefined ? { image: update.image } : {}),
          },
        });
        return true;
      });
      return found ? load(id) : null;
    },

    async saveCellOutputs(notebookId, cellId, outputs, executionCount, through) {
      const { count } = await prisma.cell.updateMany({
        where: { notebookId, id: cellId },
        data: {
          outputs: JSON.stringify(outputs),
          executionCount,
          outputsSession: through?.stream ?? null,
          outputsSeq: through?.seq ?? null,
        },
      });
      return count > 0;
    },

    async cellOutputs(notebookId, cellId) {
      const row = await prisma.cell.findUnique({ where: { notebookId_id: { notebookId, id: cellId } } });
      if (!row) return null;
      const through = row.outputsSession !== null && row.outputsSeq !== null ? { stream: row.outputsSession, seq: row.outputsSeq } : null;
      return { outputs: toCell(row, warn).outputs, executionCount: row.executionCount, through };
    },

    async markRun(notebookId, cell) {
      await prisma.notebook.updateMany({ where: { id: notebookId }, data: { lastRunAt: new Date() } });
      if (cell) await prisma.cell.updateMany({ where: { notebookId, id: cell.cellId }, data: { lastRunById: cell.userId } });
    },

    async runMetadata(notebookId, cellId) {
      const [cell, notebook] = await Promise.all([
        prisma.cell.findUnique({ where: { notebookId_id: { notebookId, id: cellId } }, select: { metadata: true } }),
        prisma.notebook.findUnique({ where: { id: notebookId }, select: { metadata: true } }),
      ]);
      return { cell: cell ? parseObject(cell.metadata) : null, notebook: notebook ? parseObject(notebook.metadata) : {} };
    },

    async setPackages(id, image, packages) {
      return writeTransaction(prisma, async (tx) => {
        const row = await tx.notebook.findUnique({ where: { id }, select: { metadata: true } });
        if (!row) return false;
        // Not a save: the list order (updatedAt) stays, as for recorded outputs.
        await tx.notebook.update({
          where: { id },
          data: { image, metadata: JSON.stringify(withNotebookPackages(parseObject(row.metadata), packages)) },
        });
        return true;
      });
    },

    async saveWidgetState(id, doc) {
      return writeTransaction(prisma, async (tx) => {
        const row = await tx.notebook.findUnique({ where: { id }, select: { metadata: true } });
        if (!row) return false;
        const { widgets: _old, ...rest } = parseObject(row.metadata);
        const metadata = doc ? { ...rest, widgets: widgetsMetadata(doc) } : rest;
        await tx.notebook.update({ where: { id }, data: { metadata: JSON.stringify(metadata) } });
        return true;
      });
    },

    async widgetState(id) {
      const row = await prisma.notebook.findUnique({ where: { id }, select: { metadata: true } });
      const widgets = row ? parseObject(row.metadata).widgets : undefined;
      return (widgets && typeof widgets === "object" && (widgets as Record<string, unknown>)[WIDGET_STATE_MIME]) ?? null;
    },

    async cellSource(notebookId, cellId) {
      const row = await prisma.cell.findUnique({ where: { notebookId_id: { notebookId, id: cellId } }, select: { source: true } });
      return row?.source ?? null;
    },

    async remove(id) {
      return writeTransaction(prisma, async (tx) => {
        // Its schedules stay, disabled, with their history; the delete then sets their notebookId
        // to null. Cells go with it: the foreign key cascades.
        await disableSchedulesOfNotebook(tx, id);
        const { count } = await tx.notebook.deleteMany({ where: { id } });
        return count > 0;
      });
    },

    async ownerOf(notebookId) {
      // Just the one column: access checks ask this on every request.
      const row = await prisma.notebook.findUnique({ where: { id: notebookId }, select: { userId: true } });
      return row?.userId ?? null;
    },
  };
}

/** Notebook.kind: a notebook people edit, or a run's executed copy. */
export const NOTEBOOK_KIND = "notebook";
export const RUN_KIND = "run";

function assertUniqueIds(cells: Array<{ id: string }>, where: string): void {
  const seen = new Set<string>();
  for (const cell of cells) {
    if (seen.has(cell.id)) throw new DuplicateCellIdError(`cell id ${cell.id} appears twice in ${where}`);
    seen.add(cell.id);
  }
}

export function toSummary(row: Pick<NotebookRow, "id" | "title" | "updatedAt" | "lastRunAt">): NotebookSummary {
  return {
    id: row.id,
    title: row.title,
    updatedAt: row.updatedAt.toISOString(),
    lastRunAt: row.lastRunAt ? row.lastRunAt.toISOString() : null,
  };
}

function toCell(row: CellWithRunner, warn: (message: string) => void): Cell {
  const where = `notebook ${row.notebookId} cell ${row.id}`;
  const cell: Cell = {
    id: row.id,
    cell_type: row.cellType === "markdown" || row.cellType === "raw" ? row.cellType : "code",
    source: row.source,
    outputs: parseJson(row.outputs, Array.isArray, [] as Output[], `outputs of ${where}`, warn),
    execution_count: row.executionCount,
    metadata: parseJson(row.metadata, isPlainObject, {} as Record<string, unknown>, `metadata of ${where}`, warn),
  };
  if (row.lastRunBy) cell.lastRunBy = { id: row.lastRunBy.id, name: row.lastRunBy.name };
  if (row.attachments !== null) {
    cell.attachments = parseJson(row.attachments, isPlainObject, {} as Record<string, MimeBundle>, `attachments of ${where}`, warn);
  }
  return cell;
}

function isPlainObject(value: unknown): boolean {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Stored JSON that cannot be read must not make a notebook unopenable: use the empty value. */
function parseJson<T>(text: string, valid: (value: unknown) => boolean, fallback: T, what: string, warn: (m: string) => void): T {
  try {
    const value: unknown = JSON.parse(text);
    if (valid(value)) return value as T;
    warn(`${what} is not the expected JSON shape; showing it empty`);
  } catch (error) {
    warn(`${what} is not valid JSON (${(error as Error).message}); showing it empty`);
  }
  return fallback;
}

function withoutWidgets(metadata: Record<string, unknown>): Record<string, unknown> {
  const { widgets: _w, ...rest } = metadata;
  return rest;
}

/** A JSON object column; anything else (a hand-edited row) reads as empty. */
function parseObject(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
