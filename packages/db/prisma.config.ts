// Prisma CLI configuration for @cellar/db (`prisma generate` runs from this folder).
import path from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "prisma/config";

const here = path.dirname(fileURLToPath(import.meta.url));

// The CLI insists on a native schema-engine binary, which it cannot download offline, even for
// `generate`, where it never runs it. Any existing file satisfies the check; ours explains itself
// if a migrate/db command ever does try to run it.
process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= path.join(here, "scripts/no-schema-engine.sh");

export default defineConfig({
  schema: path.join(here, "../../prisma/schema.prisma"),
  migrations: { path: path.join(here, "../../prisma/migrations") },
});
