// What SQL would bring a database that has every committed migration up to the schema? Asked of
// Prisma's Wasm schema engine, which replays the migrations on a shadow database and diffs.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { PrismaLibSql } from "@prisma/adapter-libsql";
import { PrismaPg } from "@prisma/adapter-pg";
import { NO_FILTERS, openSchemaEngine } from "./schema-engine";
import { dialectPaths, type Dialect } from "../src/paths";

function migrationList(dir: string) {
  const lockPath = path.join(dir, "migration_lock.toml");
  const names = existsSync(dir)
    ? readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort()
    : [];
  return {
    baseDir: dir,
    lockfile: { path: "migration_lock.toml", content: existsSync(lockPath) ? readFileSync(lockPath, "utf8") : null },
    shadowDbInitScript: "",
    migrationDirectories: names.map((name) => ({
      path: name,
      migrationFile: {
        path: "migration.sql",
        content: { tag: "ok" as const, value: readFileSync(path.join(dir, name, "migration.sql"), "utf8") },
      },
    })),
  };
}

function pgConfig(url: string) {
  // A config object, not a connection string: adapter-pg creates its shadow database by
  // overriding `database`, which a connection string would silently win over.
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port || 5432),
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    database: u.pathname.slice(1),
  };
}

/** The SQL script from the committed migrations to the schema; "" when they agree. */
export async function pendingSchemaChange(dialect: Dialect, postgresUrl?: string): Promise<string> {
  const { schema, migrations } = dialectPaths(dialect);
  let adapter;
  if (dialect === "sqlite") adapter = new PrismaLibSql({ url: ":memory:" });
  else {
    if (!postgresUrl) throw new Error("the PostgreSQL diff needs a server: run under scripts/with-postgres.sh");
    adapter = new PrismaPg(pgConfig(postgresUrl));
  }
  const engine = await openSchemaEngine(schema, adapter);
  try {
    const result = await engine.diff({
      from: { tag: "migrations", ...migrationList(migrations) },
      to: { tag: "schemaDatamodel", files: [{ path: schema, content: readFileSync(schema, "utf8") }] },
      script: true,
      exitCode: null,
      filters: NO_FILTERS,
    });
    const script = result.stdout ?? "";
    return /^\s*(-- This is an empty migration\.)?\s*$/.test(script) ? "" : script;
  } finally {
    engine.free();
  }
}
