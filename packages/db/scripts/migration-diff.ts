// What SQL would bring a database that has every committed migration up to the schema? Asked of
// Prisma's Wasm schema engine, which replays the migrations on a shadow database and diffs.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { PrismaLibSql } from "@prisma/adapter-libsql";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import type { SqlDriverAdapter, SqlMigrationAwareDriverAdapterFactory } from "@prisma/driver-adapter-utils";
import { NO_FILTERS, openSchemaEngine } from "./schema-engine";
import { dialectPaths, type Dialect } from "../src/paths";

function migrationList(dir: string) {
  const lockPath = path.join(dir, "migration_lock.toml");
  const names = existsSync(dir)
    ? readdirSync(dir, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => e.name)
        .sort()
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

const PG_CHAR_OID = 18;
const PG_TEXT_OID = 25;

/** The engine's catalog queries return `"char"` columns (pg_class.relkind and friends), a type
 * adapter-pg refuses. pg already hands their values over as strings; call them text. */
class CharAsTextClient extends pg.Client {
  override query(...args: any[]): any {
    const last = args.length - 1;
    if (typeof args[last] === "function") {
      const callback = args[last];
      args[last] = (err: Error | null, res: pg.QueryResult) => callback(err, err ? res : charAsText(res));
    }
    const result = (super.query as any)(...args);
    return result instanceof Promise ? result.then(charAsText) : result;
  }
}

function charAsText(res: pg.QueryResult): pg.QueryResult {
  for (const field of res?.fields ?? []) if (field.dataTypeID === PG_CHAR_OID) field.dataTypeID = PG_TEXT_OID;
  return res;
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
    Client: CharAsTextClient,
  };
}

/** adapter-pg's own shadow database is dropped while its pool still holds a connection, which
 * PostgreSQL refuses; this one closes the pool first and forces the drop. */
function postgresWithShadow(url: string): SqlMigrationAwareDriverAdapterFactory {
  const config = pgConfig(url);
  const main = new PrismaPg(config);
  return Object.assign(Object.create(main) as PrismaPg, {
    async connectToShadowDb(): Promise<SqlDriverAdapter> {
      const admin = await main.connect();
      const database = `prisma_shadow_${crypto.randomUUID().replaceAll("-", "")}`;
      await admin.executeScript(`CREATE DATABASE "${database}"`);
      const shadowFactory = new PrismaPg({ ...config, database });
      const shadow = await shadowFactory.connect();
      const dispose = shadow.dispose.bind(shadow);
      shadow.dispose = async () => {
        await dispose();
        await admin.executeScript(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
        await admin.dispose();
      };
      return shadow;
    },
  });
}

/** The engine hands a whole migration script to one raw call; libsql runs only its first
 * statement there, so scripts of several statements go through executeScript instead. */
function sqliteWithScripts(): SqlMigrationAwareDriverAdapterFactory {
  const factory = new PrismaLibSql({ url: ":memory:" });
  const wrap = (adapter: SqlDriverAdapter): SqlDriverAdapter => {
    const executeRaw = adapter.executeRaw.bind(adapter);
    adapter.executeRaw = async (query) => {
      if (query.args.length === 0 && /;\s*\S/.test(query.sql)) {
        await adapter.executeScript(query.sql);
        return 0;
      }
      return executeRaw(query);
    };
    return adapter;
  };
  return Object.assign(Object.create(factory) as PrismaLibSql, {
    connect: async () => wrap(await factory.connect()),
    connectToShadowDb: async () => wrap(await factory.connectToShadowDb()),
  });
}

/** The SQL script from the committed migrations to the schema; "" when they agree. */
export async function pendingSchemaChange(
  dialect: Dialect,
  postgresUrl?: string,
  { schema, migrations } = dialectPaths(dialect),
): Promise<string> {
  let adapter;
  if (dialect === "sqlite") adapter = sqliteWithScripts();
  else {
    if (!postgresUrl) throw new Error("the PostgreSQL diff needs a server: run under scripts/with-postgres.sh");
    adapter = postgresWithShadow(postgresUrl);
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
