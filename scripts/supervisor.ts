// Keeps Cellar's processes running: each service (a gateway, a worker) is a child process that is
// started again when it dies, and none takes another down with it. Shared by the one-machine
// launcher (cellar-local.ts: one gateway, one worker) and the cluster (cluster/: replicas and
// workers behind HAProxy).
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import readline from "node:readline";

export interface ServiceSpec {
  /** In log lines and output prefixes: "gateway", "gateway-2", "worker-1". */
  name: string;
  /** Repository-relative TypeScript entry point, run with `node --import tsx`. */
  entry: string;
  env: NodeJS.ProcessEnv;
  /** Answers 2xx once the process serves. Until it has, an exit counts as a failed start. */
  healthUrl?: string;
  /** Pause before a dead process is started again. */
  restartDelayMs: number;
  /** A service that cannot come up (its port taken, its database unreadable) is not restarted for
   * ever: this many exits in a row before it ever answered `healthUrl`, and the supervisor gives
   * up on it (SupervisorOptions.onGiveUp). One that dies after it served is always restarted. */
  maxFailedStarts?: number;
}

/**
 * A supervised process. Lifecycle: started at once; every exit that is not asked for by stop() is
 * followed by a new process after `restartDelayMs` (kill() is such an exit, as a crash would be);
 * after stop() nothing is started again. `pid` is the current process's, undefined between a
 * death and the next start.
 */
export interface Service {
  readonly name: string;
  readonly pid: number | undefined;
  /** Processes started so far (1 until the first restart). */
  readonly starts: number;
  /** Resolves once the current process answers `healthUrl` (a service without one: once it runs);
   * rejects after `timeoutMs`, or when the supervisor gives up on it. */
  whenHealthy(timeoutMs?: number): Promise<void>;
  /** Sends `signal` (default SIGKILL) to the current process; the supervisor restarts it. */
  kill(signal?: NodeJS.Signals): void;
  /** Stops the current process (SIGTERM, SIGKILL after `graceMs`) and starts the next at once;
   * resolves once the next one is running (not yet healthy: see whenHealthy). */
  restart(graceMs?: number): Promise<void>;
  /** Stops supervising: SIGTERM to the process (a worker suspends its kernels on it), SIGKILL after
   * `graceMs`, then, in its own process group, whatever of the group is left. */
  stop(graceMs?: number): Promise<void>;
}

export interface SupervisorOptions {
  /** The repository root, which entries are relative to. */
  root: string;
  /**
   * Each process in its own process group. On: a terminal's Ctrl-C reaches only the launcher,
   * which stops services in the order it chooses, and stop() ends each group entirely. Off (npm
   * start): they share the launcher's group, so whoever kills that group outright (the e2e runner
   * does) kills them too.
   */
  ownProcessGroups?: boolean;
  /** Prefix every line of a service's output with `[name] ` (several services on one terminal);
   * off, output is inherited untouched. */
  prefixOutput?: boolean;
  log?: (line: string) => void;
  onGiveUp?: (service: Service, code: number | null) => void;
}

export class Supervisor {
  readonly services: Service[] = [];
  constructor(private readonly opts: SupervisorOptions) {}

  start(spec: ServiceSpec): Service {
    const service = new SupervisedService(spec, this.opts);
    this.services.push(service);
    return service;
  }

  /** Stops every service at once (stop() of each). */
  async stopAll(graceMs?: number): Promise<void> {
    await Promise.all(this.services.map((s) => s.stop(graceMs)));
  }
}

const HEALTH_POLL_MS = 200;

class SupervisedService implements Service {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private stopped = false;
  private restartNow = false;
  private failedStarts = 0;
  private upSince = 0;
  private gaveUp: Error | null = null;
  private waiters = new Set<{ resolve: () => void; reject: (e: Error) => void }>();
  starts = 0;

  constructor(
    private readonly spec: ServiceSpec,
    private readonly opts: SupervisorOptions,
  ) {
    this.launch();
  }

  get name(): string {
    return this.spec.name;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  private log(line: string): void {
    (this.opts.log ?? ((l) => console.error(`cellar: ${l}`)))(line);
  }

  private launch(): void {
    if (this.stopped) return;
    const prefix = this.opts.prefixOutput;
    const child = spawn(process.execPath, ["--import", "tsx", path.join(this.opts.root, this.spec.entry)], {
      cwd: this.opts.root,
      env: this.spec.env,
      stdio: prefix ? ["ignore", "pipe", "pipe"] : "inherit",
      detached: this.opts.ownProcessGroups ?? false,
    });
    this.child = child;
    this.starts++;
    this.upSince = 0;
    if (prefix) {
      for (const [from, to] of [
        [child.stdout, process.stdout],
        [child.stderr, process.stderr],
      ] as const) {
        if (from) readline.createInterface({ input: from }).on("line", (line) => to.write(`[${this.spec.name}] ${line}\n`));
      }
    }
    this.exited = new Promise((resolve) => {
      child.on("exit", (code, signal) => {
        this.child = undefined;
        resolve();
        this.onExit(code, signal);
      });
    });
    void this.pollHealth(child);
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.stopped) return;
    const now = this.restartNow;
    this.restartNow = false;
    if (!now) this.log(`${this.spec.name} exited (${signal ?? code})`);
    if (this.spec.healthUrl) {
      this.failedStarts = this.upSince ? 0 : this.failedStarts + 1;
      if (this.spec.maxFailedStarts !== undefined && this.failedStarts >= this.spec.maxFailedStarts) {
        this.stopped = true;
        this.gaveUp = new Error(`${this.spec.name} exited ${this.failedStarts} times in a row before it served`);
        for (const w of this.waiters) w.reject(this.gaveUp);
        this.waiters.clear();
        this.opts.onGiveUp?.(this, code);
        return;
      }
    }
    setTimeout(() => this.launch(), now ? 0 : this.spec.restartDelayMs);
  }

  /** Polls the health URL of one process until it answers or exits. */
  private async pollHealth(child: ChildProcess): Promise<void> {
    while (this.child === child) {
      if (!this.spec.healthUrl || (await answers(this.spec.healthUrl))) {
        if (this.child !== child) return;
        this.upSince = Date.now();
        for (const w of this.waiters) w.resolve();
        this.waiters.clear();
        return;
      }
      await new Promise((r) => setTimeout(r, HEALTH_POLL_MS));
    }
  }

  whenHealthy(timeoutMs = 60_000): Promise<void> {
    if (this.gaveUp) return Promise.reject(this.gaveUp);
    if (this.child && this.upSince) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (e: Error) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`${this.spec.name} did not come up within ${Math.round(timeoutMs / 1000)} s`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  kill(signal: NodeJS.Signals = "SIGKILL"): void {
    this.child?.kill(signal);
  }

  async restart(graceMs = 15_000): Promise<void> {
    if (this.stopped) throw new Error(`${this.spec.name} is stopped`);
    const startsBefore = this.starts;
    if (this.child) {
      this.restartNow = true;
      await this.terminate(graceMs);
    }
    while (this.starts === startsBefore && !this.stopped) await new Promise((r) => setTimeout(r, 20));
  }

  async stop(graceMs = 15_000): Promise<void> {
    this.stopped = true;
    for (const w of this.waiters) w.reject(new Error(`${this.spec.name} was stopped`));
    this.waiters.clear();
    const pid = this.child?.pid;
    await this.terminate(graceMs);
    if (pid !== undefined && this.opts.ownProcessGroups) {
      try {
        process.kill(-pid, "SIGKILL");
      } catch {
        /* the group is empty */
      }
    }
  }

  /** SIGTERM to the process alone (not its group: a worker's sandboxes must outlive the signal
   * until it has suspended them), SIGKILL after `graceMs`. */
  private async terminate(graceMs: number): Promise<void> {
    const child = this.child;
    if (!child) return;
    const exited = this.exited;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    await exited;
    clearTimeout(timer);
  }
}

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}
