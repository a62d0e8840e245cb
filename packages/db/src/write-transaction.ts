// A transaction that writes, taken the same way on both dialects, and tried again when SQLite's
// file is locked by another connection.
import type { Prisma } from "../generated/sqlite/client";
import type { PrismaClient } from "./prisma-client";

export type Tx = Prisma.TransactionClient;

/** How long a write transaction keeps trying to get SQLite's write lock. */
const BUSY_GIVE_UP_MS = 15_000;

/**
 * Runs `work` in one transaction whose first statement is a write. Prisma's libsql adapter opens
 * transactions DEFERRED: one that reads first and writes later has to upgrade its lock, and when
 * another connection wrote meanwhile SQLite fails it (SQLITE_BUSY) instead of waiting. Writing
 * first (a no-op UPDATE) takes the write lock at once, which is what BEGIN IMMEDIATE does; on
 * PostgreSQL the same statement changes and locks nothing.
 *
 * libsql waits for a lock synchronously, blocking the event loop (a busy timeout would freeze the
 * gateway, and deadlock two clients in one process), so its default of failing at once is kept
 * and the whole transaction is tried again here, asynchronously, with growing pauses.
 */
export async function writeTransaction<T>(prisma: PrismaClient, work: (tx: Tx) => Promise<T>): Promise<T> {
  return retryWhileBusy(() =>
    prisma.$transaction(
      async (tx) => {
        await tx.$executeRawUnsafe('UPDATE "Schedule" SET "id" = "id" WHERE 1 = 0');
        return work(tx);
      },
      { maxWait: BUSY_GIVE_UP_MS, timeout: BUSY_GIVE_UP_MS },
    ),
  );
}

/** `attempt` again, with growing random pauses, while it fails with an error that wrote nothing
 * (isRetryable), for up to BUSY_GIVE_UP_MS. */
export async function retryWhileBusy<T>(attempt: () => Promise<T>): Promise<T> {
  const started = Date.now();
  for (let n = 0; ; n++) {
    try {
      return await attempt();
    } catch (error) {
      if (!isRetryable(error) || Date.now() - started > BUSY_GIVE_UP_MS) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(5 * 2 ** n, 200)));
    }
  }
}

/** SQLite's "database is locked" (SQLITE_BUSY, which Prisma's adapter reports as a timeout), and
 * PostgreSQL's deadlock and serialization failures: nothing was written, trying again is safe. */
export function isRetryable(error: unknown): boolean {
  const e = error as { message?: unknown; meta?: { driverAdapterError?: { cause?: { originalCode?: unknown } } } } | null;
  const message = typeof e?.message === "string" ? e.message : "";
  const code = e?.meta?.driverAdapterError?.cause?.originalCode;
  return /SQLITE_BUSY|database is locked/.test(message) || code === "5" || code === "40P01" || code === "40001";
}
