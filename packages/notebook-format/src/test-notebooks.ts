// Notebooks for the tests: the real-world fixtures the e2e round trip uses, and a small builder.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const FIXTURES_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../e2e/fixtures");

export const realWorldFixtures = () =>
  fs
    .readdirSync(FIXTURES_DIR)
    .filter((f) => f.endsWith(".ipynb") && !f.startsWith("cellar-"))
    .sort();

export const readFixture = (name: string) => fs.readFileSync(path.join(FIXTURES_DIR, name), "utf8");

export function notebook45(cells: unknown[], extra: Record<string, unknown> = {}) {
  return { nbformat: 4, nbformat_minor: 5, metadata: {}, cells, ...extra };
}

export const codeCell = (id: string, source: unknown, outputs: unknown[] = [], more: Record<string, unknown> = {}) => ({
  id,
  cell_type: "code",
  metadata: {},
  source,
  outputs,
  execution_count: null,
  ...more,
});
