// The one way in: open a database, migrated and ready, with its notebook store.
import { migrate, type MigrateOptions } from "./migrate";
import { createKernelSessionStore, type KernelSessionStore } from "./kernel-session-store";
import { createNotebookStore, type NotebookStore } from "./notebook-store";
import { createPrismaClient, type PrismaClient } from "./prisma-client";
import type { Dialect } from "./paths";
import { defaultDatabaseUrl, dialectOf } from "./url";

/** The user every notebook belongs to until Cellar has accounts. */
export const LOCAL_USER_ID = "local";

export interface Database {
  prisma: PrismaClient;
  notebooks: NotebookStore;
  /** Every notebook's kernel: which worker runs it, its status, a suspended kernel's checkpoint. */
  kernels: KernelSessionStore;
  dialect: Dialect;
  /** The user that owns notebooks on this install (LOCAL_USER_ID); it exists once opened. */
  localUserId: string;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions extends MigrateOptions {
  warn?: (message: string) => void;
}

/** Migrates the database at `url` (default: DATABASE_URL, else file:<CELLAR_HOME>/cellar.db),
 * then connects and makes sure the local user exists. */
export async function openDatabase(url: string = defaultDatabaseUrl(), options: OpenDatabaseOptions = {}): Promise<Database> {
  const dialect = dialectOf(url);
  await migrate(url, options);
  const prisma = await createPrismaClient(url, dialect);
  try {
    await prisma.user.upsert({
      where: { id: LOCAL_USER_ID },
      create: { id: LOCAL_USER_ID, name: "Local user" },
      update: {},
    });
  } catch (error) {
    await prisma.$disconnect();
    throw error;
  }
  return {
    prisma,
    dialect,
    localUserId: LOCAL_USER_ID,
    notebooks: createNotebookStore(prisma, { warn: options.warn }),
    kernels: createKernelSessionStore(prisma),
    close: () => prisma.$disconnect(),
  };
}
