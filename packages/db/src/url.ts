// Which database a URL names, and where Cellar keeps its own by default.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { REPO_ROOT, type Dialect } from "./paths";

export function dialectOf(url: string): Dialect {
  if (url.startsWith("file:")) return "sqlite";
  if (/^postgres(ql)?:\/\//.test(url)) return "postgresql";
  throw new Error(`unsupported database URL ${redact(url)}: use file:<path> (SQLite) or postgresql://…`);
}

/** DATABASE_URL, else a SQLite file in CELLAR_HOME (default <repo>/.cellar). */
export function defaultDatabaseUrl(env: NodeJS.ProcessEnv = process.env): string {
  if (env.DATABASE_URL) return env.DATABASE_URL;
  const home = env.CELLAR_HOME ? path.resolve(env.CELLAR_HOME) : path.join(REPO_ROOT, ".cellar");
  return `file:${path.join(home, "cellar.db")}`;
}

/** The file a SQLite URL points at (relative paths from the current directory), or null for
 * an in-memory database. */
export function sqliteFile(url: string): string | null {
  const rest = url.slice("file:".length).split("?")[0]!;
  if (rest === "" || rest === ":memory:") return null;
  return rest.startsWith("//") ? fileURLToPath(url) : path.resolve(rest);
}

/** A URL fit for logs and error messages: no password. */
export function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@/]*@/, "//$1:***@");
}
