import { appendFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { execFile } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LOCAL_USER_ID } from "./database";
import { migrate, MigrationError } from "./migrate";
import { withMigrationTransaction } from "./migration-connection";
import { dialectPaths } from "./paths";
import { copyMigrations, DIALECTS, freshDatabase, type TestDatabase } from "./test-support";

const quiet = { log: () => {} };
const run = promisify(execFile);
const packageDir = fileURLToPath(new URL("..", import.meta.url));

async function migrateInChild(url: string): Promise<{ applied: string[] }> {
  const { stdout } = await run(process.execPath, ["--import", "tsx", "scripts/migrate.ts", url], { cwd: packageDir });
  return JSON.parse(stdout);
}

async function tables(url: string): Promise<string[]> {
  return withMigrationTransaction(url, async (tx) => {
    const rows =
      tx.dialect === "sqlite"
        ? await tx.query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`)
        : await tx.query(`SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'`);
    return rows.map((r) => String(r.name)).sort();
  });
}

async function recorded(url: string): Promise<Array<{ name: string; checksum: string }>> {
  return withMigrationTransaction(url, async (tx) =>
    (await tx.query(`SELECT migration_name, checksum, finished_at FROM "_prisma_migrations" ORDER BY migration_name`)).map((r) => ({
      name: String(r.migration_name),
      checksum: String(r.checksum),
    })),
  );
}

describe.each(DIALECTS)("migrate on %s", (dialect) => {
  let db: TestDatabase;
  const committed = readdirSync(dialectPaths(dialect).migrations, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();

  beforeEach(async () => {
    db = await freshDatabase(dialect);
  });
  afterEach(async () => {
    await db?.drop();
  });

  it("creates every table on a fresh database and records each migration with its checksum", async () => {
    const result = await migrate(db.url, quiet);
    expect(result.applied).toEqual(committed);
    expect(await tables(db.url)).toEqual([
      "AccessToken",
      "AuthSession",
      "Cell",
      "Invite",
      "KernelSession",
      "Notebook",
      "NotebookDocument",
      "NotebookDocumentUpdate",
      "NotebookGrant",
      "Notice",
      "RunNotification",
      "Schedule",
      "ScheduleRun",
      "ShareLink",
      "User",
      "UserIdentity",
      "_prisma_migrations",
    ]);
    const rows = await recorded(db.url);
    expect(rows.map((r) => r.name)).toEqual(committed);
    for (const row of rows) expect(row.checksum).toMatch(/^[0-9a-f]{64}$/);
  });

  it("applies nothing on the second start", async () => {
    await migrate(db.url, quiet);
    expect(await migrate(db.url, quiet)).toEqual({ applied: [] });
    expect((await recorded(db.url)).length).toBe(committed.length);
  });

  it("applies a migration added in a later release, and only that one", async () => {
    const dir = copyMigrations(dialectPaths(dialect).migrations);
    await migrate(db.url, { ...quiet, migrationsDir: dir });
    mkdirSync(path.join(dir, "29990101000000_add_tag"));
    writeFileSync(path.join(dir, "29990101000000_add_tag/migration.sql"), `ALTER TABLE "Notebook" ADD COLUMN "tag" TEXT;\n`);
    expect(await migrate(db.url, { ...quiet, migrationsDir: dir })).toEqual({ applied: ["29990101000000_add_tag"] });
  });

  it("refuses to start when an applied migration was modified", async () => {
    const dir = copyMigrations(dialectPaths(dialect).migrations);
    await migrate(db.url, { ...quiet, migrationsDir: dir });
    appendFileSync(path.join(dir, committed[0]!, "migration.sql"), `\nCREATE TABLE "Sneaky" ("id" TEXT);\n`);
    const attempt = migrate(db.url, { ...quiet, migrationsDir: dir });
    await expect(attempt).rejects.toThrow(MigrationError);
    await expect(attempt).rejects.toThrow(new RegExp(`migration ${committed[0]} was modified after it was applied`));
    expect(await tables(db.url)).not.toContain("Sneaky");
  });

  it("applies nothing when one pending migration fails", async () => {
    const dir = copyMigrations(dialectPaths(dialect).migrations);
    mkdirSync(path.join(dir, "29990101000000_broken"));
    writeFileSync(
      path.join(dir, "29990101000000_broken/migration.sql"),
      `CREATE TABLE "Half" ("id" TEXT);\nSELECT * FROM "NoSuchTable";\n`,
    );
    await expect(migrate(db.url, { ...quiet, migrationsDir: dir })).rejects.toThrow(/migration 29990101000000_broken failed/);
    expect(await tables(db.url)).toEqual([]);
    // Fixed, it applies in full on the next start.
    writeFileSync(path.join(dir, "29990101000000_broken/migration.sql"), `CREATE TABLE "Half" ("id" TEXT);\n`);
    expect((await migrate(db.url, { ...quiet, migrationsDir: dir })).applied).toEqual([...committed, "29990101000000_broken"]);
  });

  it("makes the local user of a database from before accounts its owner, keeping its notebooks", async () => {
    const before = copyMigrations(dialectPaths(dialect).migrations);
    const accounts = committed.find((name) => name.endsWith("_accounts"))!;
    rmSync(path.join(before, accounts), { recursive: true });
    await migrate(db.url, { ...quiet, migrationsDir: before });
    await withMigrationTransaction(db.url, async (tx) => {
      await tx.query(`INSERT INTO "User" ("id", "name") VALUES ($1, $2), ($3, $4)`, [LOCAL_USER_ID, "Local user", "other", "Other"]);
      await tx.query(`INSERT INTO "Notebook" ("id", "userId", "title") VALUES ($1, $2, $3)`, ["nb-1", LOCAL_USER_ID, "Kept"]);
    });

    expect(await migrate(db.url, quiet)).toEqual({ applied: [accounts] });
    const users = await withMigrationTransaction(db.url, (tx) => tx.query(`SELECT "id", "role", "email" FROM "User" ORDER BY "id"`));
    expect(users).toEqual([
      { id: LOCAL_USER_ID, role: "owner", email: null },
      { id: "other", role: "member", email: null },
    ]);
    const notebooks = await withMigrationTransaction(db.url, (tx) => tx.query(`SELECT "id", "userId" FROM "Notebook"`));
    expect(notebooks).toEqual([{ id: "nb-1", userId: LOCAL_USER_ID }]);
  });

  it("lets only one of two processes starting at once apply the migrations", async () => {
    const [a, b] = await Promise.all([migrateInChild(db.url), migrateInChild(db.url)]);
    expect([...a.applied, ...b.applied]).toEqual(committed);
    expect((await recorded(db.url)).length).toBe(committed.length);
  });
});
