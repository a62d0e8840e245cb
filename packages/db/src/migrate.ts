// `prisma migrate deploy`, in-process: applies the committed SQL migrations that a database has
// not seen yet and records them in _prisma_migrations, shaped as Prisma shapes it. Runs on every
// start; the native engine Prisma's CLI would need cannot be installed here.
import { randomUUID } from "node:crypto";
import { dialectPaths, type Dialect } from "./paths";
import { readMigrations, type MigrationFile } from "./migration-files";
import { withMigrationTransaction, type MigrationTransaction } from "./migration-connection";
import { dialectOf, redact } from "./url";

export class MigrationError extends Error {
  override name = "MigrationError";
}

export interface MigrateOptions {
  /** Folder of <timestamp>_<name>/migration.sql; default: the repository's, for the URL's dialect. */
  migrationsDir?: string;
  log?: (message: string) => void;
}

const MIGRATIONS_TABLE: Record<Dialect, string> = {
  sqlite: `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    TEXT PRIMARY KEY NOT NULL,
    "checksum"              TEXT NOT NULL,
    "finished_at"           DATETIME,
    "migration_name"        TEXT NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        DATETIME,
    "started_at"            DATETIME NOT NULL DEFAULT current_timestamp,
    "applied_steps_count"   INTEGER UNSIGNED NOT NULL DEFAULT 0
)`,
  postgresql: `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`,
};

interface AppliedRow {
  migration_name: string;
  checksum: string;
  finished_at: unknown;
}

/** Applies every pending migration in one transaction: all of them or, on any error, none. */
export async function migrate(url: string, options: MigrateOptions = {}): Promise<{ applied: string[] }> {
  const dialect = dialectOf(url);
  const files = readMigrations(options.migrationsDir ?? dialectPaths(dialect).migrations);
  const log = options.log ?? ((message: string) => console.log(`[db] ${message}`));
  const applied = await withMigrationTransaction(url, async (tx) => {
    await tx.script(MIGRATIONS_TABLE[dialect]);
    const rows = (await tx.query(
      `SELECT "migration_name", "checksum", "finished_at" FROM "_prisma_migrations" WHERE "rolled_back_at" IS NULL`,
    )) as unknown as AppliedRow[];
    const pending = pendingMigrations(files, rows, log);
    for (const migration of pending) await apply(tx, migration);
    return pending.map((m) => m.name);
  });
  if (applied.length > 0) log(`applied ${applied.length} migration(s) to ${redact(url)}: ${applied.join(", ")}`);
  return { applied };
}

function pendingMigrations(files: MigrationFile[], rows: AppliedRow[], log: (m: string) => void): MigrationFile[] {
  const byName = new Map(files.map((f) => [f.name, f]));
  const done = new Set<string>();
  for (const row of rows) {
    if (row.finished_at == null) {
      throw new MigrationError(
        `migration ${row.migration_name} started but never finished (recorded in _prisma_migrations ` +
          `by another tool). Repair the database by hand, then mark the row rolled back or finished.`,
      );
    }
    const file = byName.get(row.migration_name);
    if (!file) {
      // A newer release may have migrated this database; refusing would stop a rolling restart.
      log(`warning: migration ${row.migration_name} is applied but not in this release's migrations folder`);
      continue;
    }
    if (file.checksum !== row.checksum) {
      throw new MigrationError(
        `migration ${row.migration_name} was modified after it was applied ` +
          `(checksum in database ${row.checksum}, file ${file.checksum}). ` +
          `Restore its migration.sql and put the change in a new migration instead.`,
      );
    }
    done.add(row.migration_name);
  }
  return files.filter((f) => !done.has(f.name));
}

async function apply(tx: MigrationTransaction, migration: MigrationFile): Promise<void> {
  const startedAt = new Date().toISOString();
  try {
    await tx.script(migration.sql);
  } catch (error) {
    throw new MigrationError(`migration ${migration.name} failed, nothing was applied: ${(error as Error).message}`, {
      cause: error,
    });
  }
  await tx.query(
    `INSERT INTO "_prisma_migrations" ("id", "checksum", "finished_at", "migration_name", "started_at", "applied_steps_count")
     VALUES ($1, $2, $3, $4, $5, 1)`,
    [randomUUID(), migration.checksum, new Date().toISOString(), migration.name, startedAt],
  );
}
