// A PostgreSQL cluster (Debian's) on a free localhost port, its data under `dir`: initdb the
// first time, pg_ctl start/stop, one database created if missing. As root, PostgreSQL's tools run
// as the postgres user (PostgreSQL refuses root), as scripts/with-postgres.sh does. pg_ctl
// detaches the server from us, so stop() is pg_ctl's; a server left running by a launcher that
// was killed is stopped at the next start (postmaster.pid says so).
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { startWithFreePort } from "./free-port";

const exec = promisify(execFile);

export interface PostgresEngine {
  port: number;
  database: string;
  /** postgresql://postgres@127.0.0.1:PORT/DATABASE, what DATABASE_URL takes (trust auth, localhost only). */
  url: string;
  stop(): Promise<void>;
}

export interface PostgresOptions {
  dir: string;
  /** Default "cellar". */
  database?: string;
  /** fsync and friends; off for throwaway test clusters (faster), on by default. */
  durable?: boolean;
  /** Default: the newest /usr/lib/postgresql/<version>/bin. */
  binDir?: string;
  timeoutMs?: number;
}

export async function startPostgres(opts: PostgresOptions): Promise<PostgresEngine> {
  const bin = opts.binDir ?? newestBinDir();
  const database = opts.database ?? "cellar";
  const data = path.join(opts.dir, "data");
  const log = path.join(opts.dir, "server.log");
  const timeoutS = Math.ceil((opts.timeoutMs ?? 30_000) / 1000);
  prepareDir(opts.dir);

  if (!fs.existsSync(path.join(data, "PG_VERSION"))) {
    await asPostgres(
      path.join(bin, "initdb"),
      ["-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", ...(opts.durable === false ? ["--no-sync"] : [])],
      "initdb",
    );
  }
  if (fs.existsSync(path.join(data, "postmaster.pid"))) {
    // Running (status 0) means a launcher died without stopping it; stale files pg_ctl handles itself.
    const running = await asPostgres(path.join(bin, "pg_ctl"), ["-D", data, "status"], "pg_ctl status").then(
      () => true,
      () => false,
    );
    if (running) await asPostgres(path.join(bin, "pg_ctl"), ["-D", data, "-m", "immediate", "-w", "stop"], "stopping a leftover server");
  }

  const settings = ["-c listen_addresses=127.0.0.1", `-k ${opts.dir}`, "-c max_connections=200"];
  if (opts.durable === false) settings.push("-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off");
  const port = await startWithFreePort(async (port) => {
    try {
      await asPostgres(
        path.join(bin, "pg_ctl"),
        ["-D", data, "-l", log, "-w", "-t", String(timeoutS), "-o", `-p ${port} ${settings.join(" ")}`, "start"],
        "pg_ctl start",
      );
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${tail(log)}`);
    }
    return port;
  });

  const psql = (sql: string) =>
    asPostgres(path.join(bin, "psql"), ["-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "-d", "postgres", "-tAc", sql], "psql");
  const stop = async () => {
    await asPostgres(path.join(bin, "pg_ctl"), ["-D", data, "-m", "fast", "-w", "-t", String(timeoutS), "stop"], "pg_ctl stop").catch(
      () => {},
    );
  };
  try {
    if (!/^[a-z_][a-z0-9_]*$/.test(database))
      throw new Error(`database name ${JSON.stringify(database)}: lower-case letters, digits and _ only`);
    if ((await psql(`SELECT 1 FROM pg_database WHERE datname = '${database}'`)).trim() !== "1") await psql(`CREATE DATABASE ${database}`);
  } catch (error) {
    await stop();
    throw error;
  }
  return { port, database, url: `postgresql://postgres@127.0.0.1:${port}/${database}`, stop };
}

function newestBinDir(): string {
  const root = "/usr/lib/postgresql";
  const versions = fs.existsSync(root) ? fs.readdirSync(root).filter((v) => fs.existsSync(path.join(root, v, "bin/initdb"))) : [];
  versions.sort((a, b) => Number(b) - Number(a));
  if (!versions[0])
    throw new Error("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): run scripts/install-system.sh --cluster");
  return path.join(root, versions[0], "bin");
}

const isRoot = () => process.getuid?.() === 0;

/** The directory belongs to the user the server runs as, mode 0700, as initdb wants. */
function prepareDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  if (isRoot()) {
    const { uid, gid } = postgresUser();
    fs.chownSync(dir, uid, gid);
  }
  fs.chmodSync(dir, 0o700);
}

function postgresUser(): { uid: number; gid: number } {
  const line = fs
    .readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((l) => l.startsWith("postgres:"));
  if (!line) throw new Error("no postgres user (is Debian's postgresql installed?)");
  const [, , uid, gid] = line.split(":");
  return { uid: Number(uid), gid: Number(gid) };
}

async function asPostgres(command: string, args: string[], step: string): Promise<string> {
  const [file, argv] = isRoot() ? ["runuser", ["-u", "postgres", "--", command, ...args]] : [command, args];
  try {
    // cwd: a directory the postgres user may enter (not root's home or a 0700 worktree).
    return (await exec(file, argv, { cwd: "/", maxBuffer: 16 * 2 ** 20 })).stdout;
  } catch (error) {
    const e = error as { stderr?: string; stdout?: string; message: string };
    throw new Error(`postgres: ${step}: ${(e.stderr || e.stdout || e.message).trim()}`);
  }
}

function tail(file: string, lines = 20): string {
  try {
    return fs.readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}
