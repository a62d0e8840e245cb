// Notebooks' kernels as rows, so no gateway keeps them only in memory: the notebook → worker map,
// each kernel's status and, for a suspended kernel, its checkpoint. One row per notebook (the
// primary key) is what makes two gateways racing to start a notebook's kernel get one kernel.
import { KERNEL_STATUSES, type KernelStatus } from "@cellar/protocol";
import type { PrismaClient } from "./prisma-client";
import { isUniqueViolation } from "./prisma-errors";
import type { KernelSession as KernelSessionRow } from "../generated/sqlite/client";

export interface KernelSessionRecord {
  notebookId: string;
  sessionId: string;
  workerId: string | null;
  image: string;
  imageId: string;
  /** Stored statuses: "busy" is stored as "idle" (see storedStatus). */
  status: KernelStatus;
  reason: string | null;
  /** The checkpoint's CAS hash while the kernel is suspended. */
  checkpoint: string | null;
  startedBy: string;
  updatedAt: Date;
}

export type NewKernelSession = Omit<KernelSessionRecord, "updatedAt" | "reason" | "checkpoint"> &
  Partial<Pick<KernelSessionRecord, "reason" | "checkpoint">>;

export type KernelSessionPatch = Partial<Pick<KernelSessionRecord, "workerId" | "status" | "reason" | "checkpoint">>;

/** `won`: the row is ours. Otherwise another start got there first and `record` is its kernel. */
export type ClaimResult = { won: true; record: KernelSessionRecord } | { won: false; record: KernelSessionRecord };

export interface KernelSessionStore {
  /** Makes `session` the notebook's kernel if the notebook has none, or if its kernel is still
   * the one `replaces` names (a restart, or a dead kernel replaced). Otherwise changes nothing and
   * answers the kernel that won. */
  claim(session: NewKernelSession, replaces?: string): Promise<ClaimResult>;
  /** Changes the session's row; false if it is no longer any notebook's kernel. */
  update(sessionId: string, patch: KernelSessionPatch): Promise<boolean>;
  get(notebookId: string): Promise<KernelSessionRecord | null>;
  /** Every notebook's kernel. */
  list(): Promise<KernelSessionRecord[]>;
  /** Forgets the session (its notebook's kernel was stopped for good). */
  remove(sessionId: string): Promise<void>;
  /** The checkpoints of suspended kernels: what the CAS garbage collector must keep. */
  checkpoints(): Promise<string[]>;
}

/** A kernel's status as the row keeps it: running a cell (busy ↔ idle) writes nothing. */
export function storedStatus(status: KernelStatus): KernelStatus {
  return status === "busy" ? "idle" : status;
}

export function createKernelSessionStore(prisma: PrismaClient): KernelSessionStore {
  const get = async (notebookId: string) => {
    const row = await prisma.kernelSession.findUnique({ where: { notebookId } });
    return row && toRecord(row);
  };
  return {
    async claim(session, replaces) {
      const data = {
        ...session,
        status: storedStatus(session.status),
        reason: session.reason ?? null,
        checkpoint: session.checkpoint ?? null,
      };
      try {
        return { won: true, record: toRecord(await prisma.kernelSession.create({ data })) };
      } catch (error) {
        if (!isUniqueViolation(error)) throw error;
      }
      if (replaces) {
        const { notebookId: _, ...rest } = data;
        const replaced = await prisma.kernelSession.updateMany({
          where: { notebookId: session.notebookId, sessionId: replaces },
          data: rest,
        });
        if (replaced.count === 1) return { won: true, record: (await get(session.notebookId))! };
      }
      const current = await get(session.notebookId);
      // Deleted between the two statements: the notebook is gone, and so is any kernel for it.
      if (!current) throw new Error(`notebook ${session.notebookId} has no kernel row and none could be made`);
      return { won: false, record: current };
    },

    async update(sessionId, patch) {
      const data = { ...patch, ...(patch.status ? { status: storedStatus(patch.status) } : {}) };
      const { count } = await prisma.kernelSession.updateMany({ where: { sessionId }, data });
      return count === 1;
    },

    get,

    async list() {
      return (await prisma.kernelSession.findMany({ orderBy: { notebookId: "asc" } })).map(toRecord);
    },

    async remove(sessionId) {
      await prisma.kernelSession.deleteMany({ where: { sessionId } });
    },

    async checkpoints() {
      const rows = await prisma.kernelSession.findMany({ where: { checkpoint: { not: null } }, select: { checkpoint: true } });
      return rows.map((r) => r.checkpoint!);
    },
  };
}

function toRecord(row: KernelSessionRow): KernelSessionRecord {
  const status = (KERNEL_STATUSES as readonly string[]).includes(row.status) ? (row.status as KernelStatus) : "dead";
  return {
    notebookId: row.notebookId,
    sessionId: row.sessionId,
    workerId: row.workerId,
    image: row.image,
    imageId: row.imageId,
    status,
    reason: status === row.status ? row.reason : `The kernel's stored status "${row.status}" is unknown to this gateway.`,
    checkpoint: row.checkpoint,
    startedBy: row.startedBy,
    updatedAt: row.updatedAt,
  };
}
