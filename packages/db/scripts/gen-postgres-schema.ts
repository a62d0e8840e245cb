// Writes prisma/postgres/schema.prisma from prisma/schema.prisma. Prisma fixes the provider per
// schema file, so PostgreSQL needs its own copy; generating it keeps one source of truth.
// Usage: tsx scripts/gen-postgres-schema.ts [--check]
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
export const SQLITE_SCHEMA_PATH = path.join(repo, "prisma/schema.prisma");
export const POSTGRES_SCHEMA_PATH = path.join(repo, "prisma/postgres/schema.prisma");

const HEADER = "// GENERATED from prisma/schema.prisma by `npm run gen:postgres -w @cellar/db`. Do not edit.\n";

function replaceOnce(text: string, pattern: RegExp, replacement: string, what: string): string {
  if (!pattern.test(text)) throw new Error(`prisma/schema.prisma: cannot find ${what}`);
  return text.replace(pattern, replacement);
}

export function postgresSchemaFrom(sqliteSchema: string): string {
  let schema = replaceOnce(
    sqliteSchema,
    /(datasource\s+db\s*\{[^}]*provider\s*=\s*)"sqlite"/,
    '$1"postgresql"',
    'datasource db { provider = "sqlite" }',
  );
  // The generator output is relative to the schema file, which sits one folder deeper, and the
  // PostgreSQL client must not overwrite the SQLite one.
  schema = replaceOnce(
    schema,
    /(output\s*=\s*)"\.\.\/packages\/db\/generated\/sqlite"/,
    '$1"../../packages/db/generated/postgres"',
    'generator output "../packages/db/generated/sqlite"',
  );
  return HEADER + schema;
}

function main(): void {
  const expected = postgresSchemaFrom(readFileSync(SQLITE_SCHEMA_PATH, "utf8"));
  if (process.argv.includes("--check")) {
    const actual = readFileSync(POSTGRES_SCHEMA_PATH, "utf8");
    if (actual !== expected) {
      console.error("prisma/postgres/schema.prisma is out of date: run npm run gen:postgres -w @cellar/db");
      process.exit(1);
    }
    return;
  }
  writeFileSync(POSTGRES_SCHEMA_PATH, expected);
  console.log(`wrote ${path.relative(repo, POSTGRES_SCHEMA_PATH)}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
