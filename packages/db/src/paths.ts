// Where the schema and migrations of each dialect live in the repository.
import path from "node:path";
import { fileURLToPath } from "node:url";

export type Dialect = "sqlite" | "postgresql";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

export function dialectPaths(dialect: Dialect): { schema: string; migrations: string } {
  const base = dialect === "sqlite" ? path.join(REPO_ROOT, "prisma") : path.join(REPO_ROOT, "prisma/postgres");
  return { schema: path.join(base, "schema.prisma"), migrations: path.join(base, "migrations") };
}
