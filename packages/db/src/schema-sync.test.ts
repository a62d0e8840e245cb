// prisma/schema.prisma is the one source of truth: the PostgreSQL schema and both dialects'
// migrations must agree with it.
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { pendingSchemaChange } from "../scripts/migration-diff";
import { POSTGRES_SCHEMA_PATH, postgresSchemaFrom, SQLITE_SCHEMA_PATH } from "../scripts/gen-postgres-schema";
import { dialectPaths } from "./paths";
import { DIALECTS, tempDir } from "./test-support";

describe("schema sources", () => {
  it("prisma/postgres/schema.prisma is generated from prisma/schema.prisma (else: npm run gen:postgres -w @cellar/db)", () => {
    const expected = postgresSchemaFrom(readFileSync(SQLITE_SCHEMA_PATH, "utf8"));
    expect(readFileSync(POSTGRES_SCHEMA_PATH, "utf8")).toBe(expected);
  });

  it("the generated PostgreSQL schema differs only in provider and client output", () => {
    const pgSchema = postgresSchemaFrom(readFileSync(SQLITE_SCHEMA_PATH, "utf8"));
    expect(pgSchema).toMatch(/provider\s*=\s*"postgresql"/);
    expect(pgSchema).toContain('"../../packages/db/generated/postgres"');
    expect(pgSchema).not.toContain('"sqlite"');
  });

  it.each(DIALECTS)(
    "the committed %s migrations build exactly the schema (else: npm run migration:new -w @cellar/db -- <name>)",
    async (dialect) => {
      if (dialect === "postgresql" && !process.env.TEST_POSTGRES_URL) {
        throw new Error("TEST_POSTGRES_URL is not set: run the PostgreSQL tests under scripts/with-postgres.sh");
      }
      expect(await pendingSchemaChange(dialect, process.env.TEST_POSTGRES_URL)).toBe("");
    },
    30_000,
  );

  it.each(DIALECTS)(
    "notices a %s schema change that no migration makes",
    async (dialect) => {
      if (dialect === "postgresql" && !process.env.TEST_POSTGRES_URL) {
        throw new Error("TEST_POSTGRES_URL is not set: run the PostgreSQL tests under scripts/with-postgres.sh");
      }
      const paths = dialectPaths(dialect);
      const changed = path.join(tempDir(), "schema.prisma");
      writeFileSync(changed, readFileSync(paths.schema, "utf8").replace(/(model User \{)/, "$1\n  nickname String?"));
      const script = await pendingSchemaChange(dialect, process.env.TEST_POSTGRES_URL, { ...paths, schema: changed });
      expect(script).toMatch(/ALTER TABLE "User" ADD COLUMN\s+"nickname" TEXT/);
    },
    30_000,
  );
});
