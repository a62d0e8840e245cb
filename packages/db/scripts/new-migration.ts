// Writes the next migration for both dialects from the change between the committed migrations
// and prisma/schema.prisma, using Prisma's Wasm schema engine (no native engine needed).
//   npm run migration:new -w @cellar/db -- <name>      (wraps itself in scripts/with-postgres.sh)
//   npm run migration:check -w @cellar/db              (exit 1 if the schema has unmigrated changes)
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { dialectPaths, REPO_ROOT, type Dialect } from "../src/paths";
import { pendingSchemaChange } from "./migration-diff";

const DIALECTS: Dialect[] = ["sqlite", "postgresql"];

function timestamp(now = new Date()): string {
  return now.toISOString().replace(/[-:T]/g, "").slice(0, 14);
}

async function main(): Promise<void> {
  const check = process.argv.includes("--check");
  const name = process.argv.slice(2).find((a) => !a.startsWith("--"));
  if (!check && !name?.match(/^[a-z0-9_]+$/)) {
    console.error("usage: new-migration.ts <name in snake_case> | --check");
    process.exit(2);
  }
  const pgUrl = process.env.TEST_POSTGRES_URL;
  const folder = `${timestamp()}_${name}`;
  let pending = 0;
  for (const dialect of DIALECTS) {
    const script = await pendingSchemaChange(dialect, pgUrl);
    if (!script) {
      console.log(`${dialect}: migrations match the schema`);
      continue;
    }
    pending++;
    if (check) {
      console.error(`${dialect}: the schema has changes no migration makes:\n${script}`);
      continue;
    }
    const dir = path.join(dialectPaths(dialect).migrations, folder);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, "migration.sql"), script);
    console.log(`${dialect}: wrote ${path.relative(REPO_ROOT, dir)}/migration.sql`);
  }
  if (check && pending) process.exit(1);
}

await main();
