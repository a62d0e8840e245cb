// An engine (redis-server, haproxy, the S3 server) as a child process in its own process group:
// a terminal's Ctrl-C reaches only the launcher, which stops things in order, and stopping the
// group takes whatever the engine forked with it. Output goes to a log file in the engine's
// directory, named in the error when it fails to start. A pid file there lets the next start
// clean up after a launcher that was killed outright (kill -9 skips every cleanup).
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

export interface EngineProcess {
  readonly pid: number;
  /** Why the process is no longer running ("exited with 1; see …/redis.log"), or null while it runs. */
  exited(): string | null;
  /** SIGTERM to the group, SIGKILL after `timeoutMs`; resolves once the process has exited. */
  stop(timeoutMs?: number): Promise<void>;
}

export interface SpawnEngineOptions {
  /** The engine's own directory: its log (`<name>.log`) and pid file (`<name>.pid`) live there. */
  dir: string;
  name: string;
  env?: NodeJS.ProcessEnv;
}

export function spawnEngine(command: string, args: string[], opts: SpawnEngineOptions): EngineProcess {
  fs.mkdirSync(opts.dir, { recursive: true });
  const logFile = path.join(opts.dir, `${opts.name}.log`);
  const pidFile = path.join(opts.dir, `${opts.name}.pid`);
  reapLeftover(pidFile, command);
  const log = fs.openSync(logFile, "a");
  let child: ChildProcess;
  try {
    child = spawn(command, args, { cwd: opts.dir, env: opts.env ?? process.env, detached: true, stdio: ["ignore", log, log] });
  } finally {
    fs.closeSync(log);
  }
  let exitReason: string | null = null;
  const exit = new Promise<void>((resolve) => {
    child.on("exit", (code, signal) => {
      exitReason = `${opts.name} exited (${signal ?? code}); see ${logFile}`;
      // Only our own: a later start in the same directory may have written its pid there.
      if (readPidFile(pidFile)?.pid === child.pid) fs.rmSync(pidFile, { force: true });
      resolve();
    });
    child.on("error", (error) => {
      exitReason = `${opts.name} could not be started: ${error.message}`;
      resolve();
    });
  });
  if (child.pid === undefined) {
    return { pid: -1, exited: () => exitReason ?? `${opts.name} could not be started`, stop: () => exit };
  }
  const pid = child.pid;
  fs.writeFileSync(pidFile, `${pid}\n${command}\n`);
  return {
    pid,
    exited: () => exitReason,
    async stop(timeoutMs = 10_000) {
      if (exitReason) return;
      killGroup(pid, "SIGTERM");
      const timer = setTimeout(() => killGroup(pid, "SIGKILL"), timeoutMs);
      await exit;
      clearTimeout(timer);
      // Anything of the group still alive (a forked helper) goes too.
      killGroup(pid, "SIGKILL");
    },
  };
}

export function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    /* gone already */
  }
}

/** A pid file left by a launcher that died without stopping us: if that process still runs the
 * same command, its group goes (a recycled pid running something else is left alone). */
function reapLeftover(pidFile: string, command: string): void {
  const recorded = readPidFile(pidFile);
  if (!recorded || recorded.pid <= 1 || recorded.command !== command) return;
  const { pid } = recorded;
  try {
    // Up to the first NUL or space: redis-server rewrites its title to "redis-server HOST:PORT".
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split(/[\0 ]/)[0] ?? "";
    if (cmdline === command || path.basename(cmdline) === path.basename(command)) {
      killGroup(pid, "SIGKILL");
      // Until it is gone, so its port and files are free for the new one.
      const sleeper = new Int32Array(new SharedArrayBuffer(4));
      for (let i = 0; i < 50 && running(pid); i++) Atomics.wait(sleeper, 0, 0, 100);
    }
  } catch {
    /* not running */
  }
  fs.rmSync(pidFile, { force: true });
}

function readPidFile(pidFile: string): { pid: number; command: string } | null {
  try {
    const [pidText, command] = fs.readFileSync(pidFile, "utf8").split("\n");
    const pid = Number(pidText);
    return Number.isInteger(pid) && command ? { pid, command } : null;
  } catch {
    return null;
  }
}

/** Alive and not a zombie (a killed child of this very process stays one until it is reaped). */
function running(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}
