// The committed migrations of one dialect: prisma/…/migrations/<timestamp>_<name>/migration.sql,
// Prisma's own layout, so the same folders would work with `prisma migrate deploy`.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";

export interface MigrationFile {
  name: string;
  sql: string;
  /** SHA-256 of migration.sql, hex: what Prisma records in _prisma_migrations.checksum. */
  checksum: string;
}

export function checksumOf(sql: string): string {
  return createHash("sha256").update(sql).digest("hex");
}

/** Every migration folder in name (= timestamp) order. */
export function readMigrations(dir: string): MigrationFile[] {
  if (!existsSync(dir)) throw new Error(`no migrations folder at ${dir}`);
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort()
    .map((name) => {
      const file = path.join(dir, name, "migration.sql");
      if (!existsSync(file)) throw new Error(`migration ${name} has no migration.sql (${file})`);
      const sql = readFileSync(file, "utf8");
      return { name, sql, checksum: checksumOf(sql) };
    });
}
