// Each notebook's live-editing document (a Yjs document, @cellar/notebook-doc) as bytes: a state
// and the updates appended since. Appending is one insert per change, so no write reads or
// rewrites the whole document; compaction folds the updates into the state in one transaction,
// which keeps the stored size bounded however long people edit.
import type { PrismaClient } from "./prisma-client";
import { isUniqueViolation } from "./prisma-errors";

export interface StoredDocument {
  state: Uint8Array;
  /** In the order they were appended. */
  updates: Array<{ id: number; update: Uint8Array }>;
}

export interface DocumentSize {
  stateBytes: number;
  updateBytes: number;
  updates: number;
}

export interface DocumentStore {
  /** Null when the notebook has no document yet (or no longer exists). */
  load(notebookId: string): Promise<StoredDocument | null>;
  /** Stores a notebook's first state. False, changing nothing, when it already has one (another
   * replica made it first): load that one instead. */
  create(notebookId: string, state: Uint8Array): Promise<boolean>;
  /** Appends one update; false when the notebook has no document (it was deleted). */
  append(notebookId: string, update: Uint8Array): Promise<boolean>;
  /** Replaces the state by `fold(stored)` and deletes the updates that were folded, in one
   * transaction that holds the document's row, so a second compaction (another replica) waits
   * and folds what the first left, and an update appended meanwhile is kept. `fold` must keep
   * everything in the state and the updates it is given. False when there is no document. */
  compact(notebookId: string, fold: (stored: StoredDocument) => Uint8Array): Promise<boolean>;
  size(notebookId: string): Promise<DocumentSize | null>;
}

export function createDocumentStore(prisma: PrismaClient): DocumentStore {
  return {
    async load(notebookId) {
      const row = await prisma.notebookDocument.findUnique({
        where: { notebookId },
        include: { updates: { orderBy: { id: "asc" }, select: { id: true, update: true } } },
      });
      return row && { state: row.state, updates: row.updates };
    },

    async create(notebookId, state) {
      try {
        await prisma.notebookDocument.create({ data: { notebookId, state: bytes(state) } });
        return true;
      } catch (error) {
        if (isUniqueViolation(error)) return false;
        throw error;
      }
    },

    async append(notebookId, update) {
      try {
        await prisma.notebookDocumentUpdate.create({ data: { notebookId, update: bytes(update) } });
        return true;
      } catch (error) {
        // The foreign key: the notebook (and with it its document) was deleted.
        if ((error as { code?: string }).code === "P2003") return false;
        throw error;
      }
    },

    async compact(notebookId, fold) {
      return prisma.$transaction(async (tx) => {
        // A write first, so the row is locked before anything is read (PostgreSQL; SQLite
        // serialises writers anyway).
        const { count } = await tx.notebookDocument.updateMany({ where: { notebookId }, data: { updatedAt: new Date() } });
        if (count === 0) return false;
        const row = await tx.notebookDocument.findUniqueOrThrow({
          where: { notebookId },
          include: { updates: { orderBy: { id: "asc" }, select: { id: true, update: true } } },
        });
        if (row.updates.length === 0) return true;
        const state = fold({ state: row.state, updates: row.updates });
        await tx.notebookDocument.update({ where: { notebookId }, data: { state: bytes(state) } });
        // By id, not "up to the last id": on PostgreSQL an append that took a lower id may
        // commit after this read, and it must stay.
        await tx.notebookDocumentUpdate.deleteMany({ where: { id: { in: row.updates.map((u) => u.id) } } });
        return true;
      });
    },

    async size(notebookId) {
      const row = await prisma.notebookDocument.findUnique({
        where: { notebookId },
        include: { updates: { select: { update: true } } },
      });
      if (!row) return null;
      return {
        stateBytes: row.state.byteLength,
        updateBytes: row.updates.reduce((sum, u) => sum + u.update.byteLength, 0),
        updates: row.updates.length,
      };
    },
  };
}

/** Prisma's Bytes want a Uint8Array over a plain ArrayBuffer; a Node Buffer may be a view into a
 * shared pool, so copy what is not exactly that. */
function bytes(data: Uint8Array): Uint8Array<ArrayBuffer> {
  return data.buffer instanceof ArrayBuffer && data.byteOffset === 0 && data.byteLength === data.buffer.byteLength
    ? (data as Uint8Array<ArrayBuffer>)
    : new Uint8Array(data);
}
