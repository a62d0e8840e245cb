// Throwaway databases for tests: a SQLite file in a temp dir, or a new database on the
// PostgreSQL server that scripts/with-postgres.sh starts.
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, beforeEach } from "vitest";
import { openDatabase, type Database, type OpenDatabaseOptions } from "./database";
import type { Dialect } from "./paths";

export const DIALECTS: Dialect[] = ["sqlite", "postgresql"];

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/** Opens a fresh database of `dialect` for the enclosing describe block and hands it (and its URL)
 * to `use`;
 * closes and drops it afterwards. Without a database to use, every test fails on its own (rather
 * than being skipped). */
export function useTestDatabase(dialect: Dialect, use: (db: Database, url: string) => void, options: OpenDatabaseOptions = {}): void {
  let testDb: TestDatabase | undefined;
  let db: Database | undefined;
  let setupError: unknown;
  beforeAll(async () => {
    try {
      testDb = await freshDatabase(dialect);
      db = await openDatabase(testDb.url, { log: () => {}, ...options });
      use(db, testDb.url);
    } catch (error) {
      setupError = error;
    }
  });
  beforeEach(() => {
    if (setupError) throw setupError;
  });
  afterAll(async () => {
    await db?.close();
    await testDb?.drop();
  });
}

export function tempDir(prefix = "cellar-db-test-"): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

export async function freshDatabase(dialect: Dialect): Promise<TestDatabase> {
  if (dialect === "sqlite") {
    const dir = tempDir();
    return { url: `file:${path.join(dir, "test.db")}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const server = process.env.TEST_POSTGRES_URL;
  if (!server) {
    throw new Error(
      "TEST_POSTGRES_URL is not set. The PostgreSQL tests need a server: run them under " +
        "scripts/with-postgres.sh (`npm test -w @cellar/db` does this for you).",
    );
  }
  const name = `cellar_test_${Date.now()}_${Math.random().toString(36).slice(2, 8)}`;
  await adminQuery(server, `CREATE DATABASE "${name}"`);
  const url = new URL(server);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => adminQuery(server, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
  };
}

async function adminQuery(server: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: server });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** A copy of a dialect's committed migrations that a test may change. */
export function copyMigrations(from: string): string {
  const dir = path.join(tempDir("cellar-migrations-"), "migrations");
  cpSync(from, dir, { recursive: true });
  return dir;
}
