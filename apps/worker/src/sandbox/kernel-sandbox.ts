// One kernel in one sandbox: boots the kernel bridge under runsc (gVisor), or under crun for a GPU
// kernel that nvproxy cannot serve, speaks framed Jupyter messages with it over stdin/stdout, and
// guarantees nothing is left behind when it ends.
import { EventEmitter } from "node:events";
import { rm } from "node:fs/promises";
import path from "node:path";
import type { ChildProcessWithoutNullStreams } from "node:child_process";
import {
  FrameDecoder,
  encodeFrame,
  hasMsgType,
  isStatus,
  makeMessage,
  validateJupyterMessage,
  type ContentOf,
  type JupyterMessage,
  type ReplyType,
} from "@cellar/protocol";
import { futuresFor, KernelFutureError, parentIdOf } from "@cellar/kernel-client";
import { containerIdFor, writeBundle, type BundleOptions, type SandboxLimits, type SandboxRuntime } from "./bundle";
import { crunDelete, crunKill, crunList, crunRun, type CrunConfig } from "./crun";
import { randomBytes } from "node:crypto";
import { hostnameFor } from "./bundle";
import { type GpuSandbox, runscGpuFlags } from "./gpu-spec";
import {
  runscCheckpoint,
  runscDelete,
  runscHasState,
  runscKill,
  runscList,
  runscRemove,
  runscRestore,
  runscRun,
  type RunscConfig,
} from "./runsc";
import { describeExit } from "./exit-reason";
import { createSandboxCgroup, hitMemoryCap, reapSandboxCgroups, removeSandboxCgroup, type SandboxCgroup } from "./sandbox-cgroup";
import { isTerminalFrame, SandboxTerminals } from "./sandbox-terminals";

export interface KernelSandboxOptions {
  sessionId: string;
  imageRootfs: string;
  workspaceDir: string;
  stateRoot: string;
  limits: SandboxLimits;
  platform?: string;
  runscPath?: string;
  /** Defaults to apps/worker/kernel-bridge. */
  bridgeDir?: string;
  /** How long to wait for the bridge's ready message. */
  startTimeoutMs?: number;
  /** Boot a kernel that will be checkpointed as a warm snapshot (see bundle.ts). */
  snapshotBoot?: boolean;
  /** A GPU kernel (always booted cold: GPU memory is not checkpointed). */
  gpu?: GpuSandbox;
  /** The runtime; by default crun for a GPU kernel under the fallback isolation, else runsc. */
  runtime?: SandboxRuntime;
  crunPath?: string;
}

export function runtimeOf(opts: Pick<KernelSandboxOptions, "runtime" | "gpu">): SandboxRuntime {
  return opts.runtime ?? (opts.gpu?.isolation === "crun-passthrough" ? "crun" : "runsc");
}

/** Decides, for each message before the sandbox is ready, whether it means "ready" (true), a
 * failure to get ready (an Error), or neither (undefined: dropped). */
type ReadySignal = (msg: JupyterMessage) => true | Error | undefined;

/** The bridge's first idle status after a boot, with no request as parent. */
const bootReady: ReadySignal = (msg) =>
  isStatus(msg) && msg.content.execution_state === "idle" && parentIdOf(msg) === undefined ? true : undefined;

export interface KernelSandboxExit {
  code: number | null;
  signal: string | null;
  /** What happened, in words a notebook user understands. */
  reason: string;
}

export interface KernelSandboxEvents {
  message: [msg: JupyterMessage];
  exit: [exit: KernelSandboxExit];
}

const STDERR_TAIL_BYTES = 8192;
const STOP_GRACE_MS = 5000;
const REAP_PARALLELISM = 4;

export class KernelSandbox extends EventEmitter<KernelSandboxEvents> {
  readonly sessionId: string;
  readonly containerId: string;
  private readonly decoder = new FrameDecoder();
  private readonly runsc: RunscConfig;
  private readonly crun: CrunConfig | null;
  private stderr = "";
  private exited: KernelSandboxExit | null = null;
  private readonly exitPromise: Promise<KernelSandboxExit>;
  private stopping: Promise<void> | null = null;
  private overrideReason: string | null = null;
  private ready = false;
  private readySignal: ReadySignal = bootReady;
  private readyWaiter: { resolve: () => void; reject: (err: Error) => void } | null = null;
  /** Shells on ptys inside this sandbox, run by the kernel bridge. */
  readonly terminals: SandboxTerminals;

  /** @internal use startKernelSandbox */
  constructor(
    opts: KernelSandboxOptions,
    private readonly child: ChildProcessWithoutNullStreams,
    private readonly bundleDir: string,
    private readonly cgroup: SandboxCgroup | null = null,
  ) {
    super();
    this.sessionId = opts.sessionId;
    this.containerId = containerIdFor(opts.sessionId);
    this.runsc = { stateRoot: opts.stateRoot, platform: opts.platform, runscPath: opts.runscPath };
    this.crun = runtimeOf(opts) === "crun" ? { stateRoot: opts.stateRoot, crunPath: opts.crunPath } : null;
    this.terminals = new SandboxTerminals((frame) => {
      if (this.exited || this.stopping) return false;
      this.child.stdin.write(encodeFrame(frame));
      return true;
    }, this.sessionId);

    child.stdout.on("data", (chunk: Buffer) => this.onStdout(chunk));
    child.stderr.on("data", (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString("utf8")).slice(-STDERR_TAIL_BYTES);
    });
    // A write to a sandbox that just died must not crash the worker; 'exit' reports the death.
    child.stdin.on("error", () => {});
    this.exitPromise = new Promise((resolve) => {
      child.on("error", (err) => {
        this.stderr += `\n${err.message}`;
        this.onExit(null, null, resolve);
      });
      child.on("close", (code, signal) => this.onExit(code, signal, resolve));
    });
  }

  /** Which runtime runs this sandbox. */
  get runtime(): SandboxRuntime {
    return this.crun ? "crun" : "runsc";
  }

  /** The last few KiB the sandbox wrote to stderr (runsc errors, bridge logs, C-level prints). */
  get stderrTail(): string {
    return this.stderr;
  }

  get hasExited(): boolean {
    return this.exited !== null;
  }

  /** Sends a message to the kernel. After the sandbox has stopped or exited the message is
   * dropped (and logged): the 'exit' event has told, or is about to tell, the owner why. */
  send(msg: JupyterMessage): void {
    if (this.exited || this.stopping) {
      console.warn(`[sandbox ${this.sessionId}] dropped ${msg.header.msg_type}: the kernel is not running`);
      return;
    }
    this.child.stdin.write(encodeFrame(msg));
  }

  interrupt(): void {
    this.send(makeMessage("interrupt_request", {}, { channel: "control" }));
  }

  /** Ends the kernel and removes its container. Safe to call any number of times. */
  stop(): Promise<void> {
    this.stopping ??= this.teardown();
    return this.stopping;
  }

  /** @internal */
  waitUntilReady(timeoutMs: number, signal?: ReadySignal): Promise<void> {
    if (signal) this.readySignal = signal;
    if (this.ready) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.readyWaiter = null;
        reject(new Error(`kernel sandbox ${this.sessionId} did not become ready within ${timeoutMs} ms${this.tailForError()}`));
      }, timeoutMs);
      this.readyWaiter = {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
    });
  }

  private tailForError(): string {
    const tail = this.stderr.trim().split("\n").slice(-20).join("\n");
    return tail ? `; sandbox stderr:\n${tail}` : "";
  }

  private onStdout(chunk: Buffer): void {
    let frames: unknown[];
    try {
      frames = this.decoder.push(chunk);
    } catch (err) {
      // After a bad length or non-JSON body the stream cannot be resynchronised.
      console.error(`[sandbox ${this.sessionId}] corrupt frame stream: ${(err as Error).message}`);
      this.overrideReason = "The kernel sent output the worker could not read, so it was stopped";
      void this.stop();
      return;
    }
    for (const frame of frames) {
      if (isTerminalFrame(frame)) {
        this.terminals.onFrame(frame);
        continue;
      }
      const checked = validateJupyterMessage(frame);
      if (!checked.ok) {
        console.error(`[sandbox ${this.sessionId}] dropped invalid message: ${checked.error}`);
        continue;
      }
      const msg = checked.value;
      if (!this.ready) {
        const signal = this.readySignal(msg);
        if (signal === true) {
          this.ready = true;
          this.readyWaiter?.resolve();
          this.readyWaiter = null;
        } else if (signal instanceof Error) {
          this.readyWaiter?.reject(signal);
          this.readyWaiter = null;
        }
        continue;
      }
      this.emit("message", msg);
    }
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null, resolve: (e: KernelSandboxExit) => void): void {
    if (this.exited) return;
    const exit: KernelSandboxExit = {
      code,
      signal,
      reason: this.overrideReason ?? describeExit(code, signal, this.stderr, this.stopping !== null),
    };
    this.exited = exit;
    resolve(exit);
    this.readyWaiter?.reject(
      new Error(`kernel sandbox ${this.sessionId} exited before it was ready: ${exit.reason}${this.tailForError()}`),
    );
    this.readyWaiter = null;
    // The container may outlive `runsc run` (e.g. runsc itself was killed): always clean up.
    void this.blameMemoryCap(exit)
      .then(() => this.stop())
      .catch((err) => console.error(`[sandbox ${this.sessionId}] cleanup failed: ${(err as Error).message}`))
      .finally(() => this.emit("exit", exit));
  }

  /** A sandbox the host's OOM killer ended for passing its cap says so, whatever runsc printed. */
  private async blameMemoryCap(exit: KernelSandboxExit): Promise<void> {
    if (this.stopping || !(await hitMemoryCap(this.cgroup))) return;
    const gib = (this.cgroup!.memoryBytes / 2 ** 30).toFixed(1);
    exit.reason = `The kernel's processes together used more than the ${gib} GiB memory limit, so the sandbox was stopped`;
  }

  /**
   * Sends a bridge control request and resolves with its reply's content (used by warm-snapshot
   * boots). Rejects if the sandbox exits first or no reply comes within `timeoutMs`.
   */
  call<T extends `cellar_${string}_request`>(msgType: T, content: ContentOf<T>, timeoutMs: number): Promise<ContentOf<ReplyType<T>>> {
    // The bridge answers its own control requests with a reply and publishes no status for them.
    const call = futuresFor(this).request(makeMessage(msgType, content, { channel: "control" }), { awaitIdle: false, timeoutMs });
    return call.done.then(
      (reply) => reply.content as ContentOf<ReplyType<T>>,
      (error: Error) => {
        const lost = error instanceof KernelFutureError && error.kind === "kernel-lost";
        throw new Error(`${lost ? `the sandbox exited during ${msgType}: ` : ""}${error.message}${this.tailForError()}`);
      },
    );
  }

  /**
   * Saves the whole sandbox into `imagePath` with `runsc checkpoint`, then stops and removes the
   * container. If the checkpoint fails (a full disk, say) the kernel runs on untouched and the
   * error says why. The kernel must have no TCP sockets (gVisor refuses to save those).
   */
  async checkpoint(imagePath: string): Promise<void> {
    if (this.exited || this.stopping) throw new Error(`kernel sandbox ${this.sessionId} is not running`);
    if (this.crun) throw new Error(`kernel sandbox ${this.sessionId} runs under crun, which Cellar does not checkpoint`);
    await this.terminals.closeAll("kernel suspended");
    // Set first: under a runsc without a working --leave-running the container ends with the
    // checkpoint, and its exit must not read as a crash.
    this.overrideReason = "The kernel was checkpointed";
    try {
      await runscCheckpoint(this.runsc, this.containerId, imagePath);
    } catch (err) {
      if (!this.exited) this.overrideReason = null;
      throw new Error(`checkpointing kernel sandbox ${this.sessionId}: ${(err as Error).message}`, { cause: err });
    }
    await this.stop();
  }

  private async teardown(): Promise<void> {
    this.child.stdin.end();
    if (!this.exited) {
      try {
        if (this.crun) await crunKill(this.crun, this.containerId, "KILL");
        else await runscKill(this.runsc, this.containerId, "KILL");
      } catch {
        // Already gone, or never created; delete --force below settles it either way.
      }
      const timer = setTimeout(() => this.child.kill("SIGKILL"), STOP_GRACE_MS);
      await this.exitPromise;
      clearTimeout(timer);
    }
    try {
      if (this.crun) await crunDelete(this.crun, this.containerId);
      else await runscDelete(this.runsc, this.containerId);
    } catch (err) {
      console.error(`[sandbox ${this.sessionId}] ${(err as Error).message}`);
    }
    await rm(this.bundleDir, { recursive: true, force: true });
    await removeSandboxCgroup(this.cgroup);
  }
}

export function bundleDirFor(stateRoot: string, sessionId: string): string {
  return path.join(stateRoot, "bundles", containerIdFor(sessionId));
}

/** Boots a kernel sandbox; resolves once the kernel bridge reports it is ready. */
export async function startKernelSandbox(opts: KernelSandboxOptions): Promise<KernelSandbox> {
  const { containerId, runsc, bundleDir, cgroup } = await prepareContainer(opts, {
    sessionId: opts.sessionId,
    imageRootfs: opts.imageRootfs,
    workspaceDir: opts.workspaceDir,
    bridgeDir: opts.bridgeDir,
    limits: opts.limits,
    snapshotBoot: opts.snapshotBoot,
    gpu: opts.gpu,
    runtime: runtimeOf(opts),
  });
  const child =
    runtimeOf(opts) === "crun"
      ? await crunRun({ stateRoot: opts.stateRoot, crunPath: opts.crunPath }, containerId, bundleDir, cgroup)
      : await runscRun(runsc, containerId, bundleDir, cgroup);
  const sandbox = new KernelSandbox(opts, child, bundleDir, cgroup);
  return readyOrStopped(sandbox, sandbox.waitUntilReady(opts.startTimeoutMs ?? 60_000));
}

/** The session's container id, bundle and cgroup, for a boot or a restore. */
async function prepareContainer(opts: Omit<KernelSandboxOptions, "snapshotBoot">, bundle: BundleOptions) {
  const containerId = containerIdFor(opts.sessionId);
  const runsc: RunscConfig = {
    stateRoot: opts.stateRoot,
    platform: opts.platform,
    runscPath: opts.runscPath,
    extraFlags: runscGpuFlags(opts.gpu?.isolation ?? "gvisor"),
  };
  const bundleDir = bundleDirFor(opts.stateRoot, opts.sessionId);
  // A container with this id left over from a crashed worker would make `runsc run` fail.
  if (await runscHasState(runsc, containerId)) await runscRemove(runsc, containerId).catch(() => {});
  if (runtimeOf(opts) === "crun") await crunDelete({ stateRoot: opts.stateRoot, crunPath: opts.crunPath }, containerId).catch(() => {});
  await writeBundle(bundleDir, bundle);
  const cgroup = await createSandboxCgroup(containerId, opts.limits.memoryBytes);
  return { containerId, runsc, bundleDir, cgroup };
}

/** The sandbox once `ready` resolves; stopped if it does not. */
async function readyOrStopped(sandbox: KernelSandbox, ready: Promise<void>): Promise<KernelSandbox> {
  try {
    await ready;
  } catch (err) {
    await sandbox.stop();
    throw err;
  }
  return sandbox;
}

export interface RestoreKernelSandboxOptions extends Omit<KernelSandboxOptions, "snapshotBoot"> {
  /** A directory written by `KernelSandbox.checkpoint` of a snapshot boot. */
  snapshotDir: string;
}

/**
 * Restores a warm snapshot into a new sandbox: the session's own container id, bundle, workspace
 * and (after the bridge renames it) hostname. Resolves once the restored bridge has become this
 * session (fresh random state, sandbox user); rejects with runsc's stderr if the restore fails.
 */
export async function restoreKernelSandbox(opts: RestoreKernelSandboxOptions): Promise<KernelSandbox> {
  // Queued in the pipe until the restored bridge reads its new stdin.
  const request = makeMessage(
    "cellar_restore_request",
    { hostname: hostnameFor(opts.sessionId), entropy: randomBytes(32).toString("hex") },
    { channel: "control" },
  );
  const ready: ReadySignal = (msg) => {
    if (parentIdOf(msg) !== request.header.msg_id || !hasMsgType(msg, "cellar_restore_reply")) return undefined;
    if (msg.content.status === "ok") return true;
    return new Error(`the restored kernel could not take on its session: ${String(msg.content.evalue)}`);
  };
  return restoreWith(opts, request, ready, 30_000);
}

/**
 * Resumes a suspended kernel from its own checkpoint: it already is its session (user, seeds,
 * hostname), so unlike `restoreKernelSandbox` nothing is re-done; resolves once the restored
 * kernel answers a `kernel_info_request`.
 */
export async function resumeKernelSandbox(opts: RestoreKernelSandboxOptions): Promise<KernelSandbox> {
  const probe = makeMessage("kernel_info_request", {}, { channel: "shell" });
  const ready: ReadySignal = (msg) =>
    parentIdOf(msg) === probe.header.msg_id && msg.header.msg_type === "kernel_info_reply" ? true : undefined;
  // A checkpoint of a kernel holding gigabytes takes a while to load back.
  return restoreWith(opts, probe, ready, 300_000);
}

async function restoreWith(
  opts: RestoreKernelSandboxOptions,
  request: JupyterMessage,
  ready: ReadySignal,
  defaultTimeoutMs: number,
): Promise<KernelSandbox> {
  const { containerId, runsc, bundleDir, cgroup } = await prepareContainer(opts, opts);
  const child = await runscRestore(runsc, containerId, bundleDir, opts.snapshotDir, cgroup);
  const sandbox = new KernelSandbox(opts, child, bundleDir, cgroup);
  const waiting = sandbox.waitUntilReady(opts.startTimeoutMs ?? defaultTimeoutMs, ready);
  sandbox.send(request);
  return readyOrStopped(sandbox, waiting);
}

/** Deletes every container under this state root: after a worker restart none of them has an
 * owner any more. Returns the ids it removed. */
export async function reapOrphanSandboxes(
  stateRoot: string,
  opts: { platform?: string; runscPath?: string; crunPath?: string } = {},
): Promise<string[]> {
  const runsc: RunscConfig = { stateRoot, platform: opts.platform, runscPath: opts.runscPath };
  const removed: string[] = [];
  // A few at a time: a worker killed with a dozen kernels must not keep the gateway waiting for
  // a dozen removals in a row before it reconnects.
  const left = await runscList(runsc);
  await Promise.all(
    Array.from({ length: Math.min(REAP_PARALLELISM, left.length) }, async () => {
      for (let c = left.shift(); c; c = left.shift()) {
        await runscRemove(runsc, c.id);
        removed.push(c.id);
      }
    }),
  );
  // crun kernels (GPU kernels under the fallback runtime), where crun is there at all.
  const crun: CrunConfig = { stateRoot, crunPath: opts.crunPath };
  for (const id of await crunList(crun).catch(() => [])) {
    await crunDelete(crun, id).catch((err) => console.error(`worker: removing crun container ${id}: ${(err as Error).message}`));
    removed.push(id);
  }
  await rm(path.join(stateRoot, "bundles"), { recursive: true, force: true });
  await reapSandboxCgroups(removed);
  return removed;
}
