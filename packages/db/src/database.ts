// The one way in: open a database, migrated and ready, with its notebook store.
import { createAccessTokenStore, type AccessTokenStore } from "./access-token-store";
import { createAccountStore, type AccountStore } from "./account-store";
import { createDocumentStore, type DocumentStore } from "./document-store";
import { createIdentityStore, type IdentityStore } from "./identity-store";
import { migrate, type MigrateOptions } from "./migrate";
import { createKernelSessionStore, type KernelSessionStore } from "./kernel-session-store";
import { createNotebookStore, type NotebookStore } from "./notebook-store";
import { createScheduleStore, type ScheduleStore } from "./schedule-store";
import { createShareStore, type ShareStore } from "./share-store";
import { createPrismaClient, type PrismaClient } from "./prisma-client";
import type { Dialect } from "./paths";
import { defaultDatabaseUrl, dialectOf, redact } from "./url";

/** The user every notebook belonged to before Cellar had accounts: the instance's first owner. */
export const LOCAL_USER_ID = "local";

export interface Database {
  prisma: PrismaClient;
  notebooks: NotebookStore;
  /** Users, their sign-in sessions and invites. */
  accounts: AccountStore;
  /** Personal access tokens (the CLI's and scripts' sign-in). */
  accessTokens: AccessTokenStore;
  /** Sign-ins through an OpenID Connect provider, linked to users. */
  identities: IdentityStore;
  /** Every notebook's kernel: which worker runs it, its status, a suspended kernel's checkpoint. */
  kernels: KernelSessionStore;
  /** Who else may open a notebook: teammates' grants, share links, and every caller's role. */
  shares: ShareStore;
  /** Each notebook's live-editing document: a state and the updates appended since. */
  documents: DocumentStore;
  /** Schedules, their runs (one per fire time, claimed under a lease), notifications and notices. */
  schedules: ScheduleStore;
  dialect: Dialect;
  /** The user that owns notebooks on this install (LOCAL_USER_ID); it exists once opened. */
  localUserId: string;
  close(): Promise<void>;
  /** Resolves once the database answers a trivial query; rejects with the reason otherwise (the
   * gateway's readiness check). Gives up after `timeoutMs`: an unreachable PostgreSQL host can
   * otherwise keep a connection attempt open for minutes. */
  ping(timeoutMs?: number): Promise<void>;
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
      // The instance's first owner: the one the URL printed by `npm start` signs in. An existing
      // row keeps what it has (the accounts migration made it the owner).
      create: { id: LOCAL_USER_ID, name: "Local user", role: "owner" },
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
    accounts: createAccountStore(prisma),
    accessTokens: createAccessTokenStore(prisma),
    shares: createShareStore(prisma),
    documents: createDocumentStore(prisma),
    identities: createIdentityStore(prisma),
    schedules: createScheduleStore(prisma, dialect),
    close: () => prisma.$disconnect(),
    ping: (timeoutMs) => pingDatabase(prisma, timeoutMs),
  };
}

export const PING_TIMEOUT_MS = 2_000;

/** See Database.ping. */
export async function pingDatabase(prisma: Pick<PrismaClient, "$queryRaw">, timeoutMs = PING_TIMEOUT_MS): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the database did not answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([prisma.$queryRaw`SELECT 1`, timeout]);
  } catch (error) {
    // The reason reaches unauthenticated probes: never with a password in it.
    throw new Error(`database ping failed: ${redact(reasonOf(error))}`, { cause: error });
  } finally {
    clearTimeout(timer);
  }
}

/** Prisma's codes for "the database cannot be reached or is overwhelmed" (P1001 can't reach,
 * P1002 timed out, P1008 operation timed out, P1017 server closed the connection, P2024 no
 * connection from the pool in time). */
const UNAVAILABLE_CODES = new Set(["P1001", "P1002", "P1008", "P1017", "P2024"]);

/** Why `error` means the database is unavailable (a reason without secrets), or null when it is
 * some other failure. The gateway answers the first kind with 503: try again later. */
export function databaseUnavailableReason(error: unknown): string | null {
  const e = error as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === "string" ? e.code : "";
  const message = typeof e?.message === "string" ? e.message : "";
  if (!UNAVAILABLE_CODES.has(code) && !/ECONNREFUSED|ECONNRESET|ETIMEDOUT|Can't reach database server|Connection terminated/.test(message))
    return null;
  return redact(reasonOf(error));
}

/** Prisma wraps a driver's failure in a multi-line "Invalid `prisma.$queryRaw()` invocation"
 * text; its last line carries the reason ("Message: `Can't reach database server at db:5432`"). */
function reasonOf(error: unknown): string {
  const message = (error instanceof Error ? error.message : String(error)).trim();
  const last = message.split("\n").at(-1) ?? message;
  return last.match(/Message: `(.*)`$/)?.[1] ?? last;
}
