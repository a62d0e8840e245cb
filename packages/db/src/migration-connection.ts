// One connection, one transaction, per dialect: just what the migration runner needs.
import { mkdirSync } from "node:fs";
import path from "node:path";
import { createClient } from "@libsql/client";
import pg from "pg";
import type { Dialect } from "./paths";
import { dialectOf, sqliteFile } from "./url";
import { retryWhileBusy } from "./write-transaction";

export type Row = Record<string, unknown>;

export interface MigrationTransaction {
  dialect: Dialect;
  /** One statement with positional parameters, written `$1`, `$2`… on both dialects. */
  query(sql: string, params?: unknown[]): Promise<Row[]>;
  /** A whole script of several statements, no parameters. */
  script(sql: string): Promise<void>;
}

// Prisma's own advisory lock key for migrations: our runner and Prisma's exclude each other.
const PG_MIGRATION_LOCK = 72707369;

/** Runs `work` in one transaction that no other migrating process can interleave with. */
export async function withMigrationTransaction<T>(url: string, work: (tx: MigrationTransaction) => Promise<T>): Promise<T> {
  return dialectOf(url) === "sqlite" ? retryWhileBusy(() => withSqlite(url, work)) : withPostgres(url, work);
}

// Two processes starting at once on one new file: the busy timeout does not cover every lock
// SQLite takes there (the switch to WAL, a connection opened while the other one holds the file),
// and CI saw "SQLITE_BUSY: database is locked" from the second. The failed attempt wrote nothing,
// so the whole transaction is tried again (retryWhileBusy); the applied migrations are read inside
// it, so the second process then finds them done.
async function withSqlite<T>(url: string, work: (tx: MigrationTransaction) => Promise<T>): Promise<T> {
  const file = sqliteFile(url);
  if (file) mkdirSync(path.dirname(file), { recursive: true });
  const client = createClient({ url });
  try {
    await client.execute("PRAGMA busy_timeout = 15000");
    // Stored in the file, so set once here for every later connection: commits cost one append,
    // and readers (the web app listing notebooks) do not wait for a writer.
    await client.execute("PRAGMA journal_mode = WAL");
    // Prisma's SQLite migrations redefine tables (create, copy, drop, rename). With foreign keys
    // on, dropping the old table would cascade-delete child rows, and the pragma is ignored inside
    // a transaction: switch it off first, then check the keys before committing.
    await client.execute("PRAGMA foreign_keys = OFF");
    const tx = await client.transaction("write"); // BEGIN IMMEDIATE: one migrator at a time
    try {
      const result = await work({
        dialect: "sqlite",
        async query(sql, params = []) {
          const rs = await tx.execute({ sql: sql.replace(/\$(\d+)/g, "?$1"), args: params as never });
          return rs.rows.map((row) => ({ ...row }));
        },
        async script(sql) {
          await tx.executeMultiple(sql);
        },
      });
      const broken = await tx.execute("PRAGMA foreign_key_check");
      if (broken.rows.length > 0) {
        throw new Error(`migration left ${broken.rows.length} rows violating foreign keys, e.g. ${JSON.stringify(broken.rows[0])}`);
      }
      await tx.commit();
      return result;
    } finally {
      tx.close();
    }
  } finally {
    client.close();
  }
}

async function withPostgres<T>(url: string, work: (tx: MigrationTransaction) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query("BEGIN");
    try {
      await client.query("SELECT pg_advisory_xact_lock($1)", [PG_MIGRATION_LOCK]);
      const result = await work({
        dialect: "postgresql",
        async query(sql, params = []) {
          return (await client.query(sql, params)).rows;
        },
        async script(sql) {
          // Without parameters pg uses the simple query protocol, which accepts many statements.
          await client.query(sql);
        },
      });
      await client.query("COMMIT");
      return result;
    } catch (error) {
      await client.query("ROLLBACK").catch(() => {});
      throw error;
    }
  } finally {
    await client.end();
  }
}
