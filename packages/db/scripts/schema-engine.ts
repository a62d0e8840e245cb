// Prisma's own schema engine, compiled to Wasm, driven through a driver adapter. The native
// engine the CLI wants cannot be downloaded here; this one ships on npm. Dev tooling only: the
// runtime applies committed SQL and never loads it.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import * as bg from "@prisma/schema-engine-wasm/schema_engine_bg";
import type { SchemaEngine } from "@prisma/schema-engine-wasm";
import { bindMigrationAwareSqlAdapterFactory } from "@prisma/driver-adapter-utils";
import type { SqlMigrationAwareDriverAdapterFactory } from "@prisma/driver-adapter-utils";

export type { SchemaEngine };

let initialised = false;

function initWasm(): void {
  if (initialised) return;
  // The package's entry imports the .wasm file as an ES module, which Node does not do without a
  // flag; instantiate it by hand with the same glue.
  const require = createRequire(import.meta.url);
  const wasmPath = require.resolve("@prisma/schema-engine-wasm/schema_engine_bg").replace(/\.js$/, ".wasm");
  const module = new WebAssembly.Module(readFileSync(wasmPath));
  const instance = new WebAssembly.Instance(module, {
    "./schema_engine_bg.js": bg as unknown as WebAssembly.ModuleImports,
  });
  (bg as unknown as { __wbg_set_wasm(x: unknown): void }).__wbg_set_wasm(instance.exports);
  (instance.exports as { __wbindgen_start(): void }).__wbindgen_start();
  initialised = true;
}

export async function openSchemaEngine(schemaPath: string, adapter: SqlMigrationAwareDriverAdapterFactory): Promise<SchemaEngine> {
  initWasm();
  const datamodel = readFileSync(schemaPath, "utf8");
  const log = (line: string) => {
    if (process.env.CELLAR_SCHEMA_ENGINE_LOG) console.error(line);
  };
  const factory = bindMigrationAwareSqlAdapterFactory(adapter);
  const Engine = (bg as unknown as { SchemaEngine: typeof SchemaEngine }).SchemaEngine;
  return Engine.new({ datamodels: [[schemaPath, datamodel]] }, log, factory);
}

export const NO_FILTERS = { externalTables: [], externalEnums: [] };
