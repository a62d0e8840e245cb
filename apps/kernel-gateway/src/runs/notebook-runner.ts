// Runs a notebook headlessly, as a schedule (or "run now") does: a copy of it as last saved
// becomes the run's notebook (kind "run": read-only, out of the lists), its parameters are
// injected after the cell tagged "parameters", and its code cells run one by one on a kernel of
// the copy's own, started through the KernelManager like any kernel (so from the image's warm
// snapshot or the worker's pool, and never the interactive kernel of the source). Outputs are
// recorded into the copy by the kernel's output recorder, exactly as a browser's run would be;
// the kernel is always stopped at the end.
import { stripVTControlCharacters } from "node:util";
import type { NotebookStore } from "@cellar/db";
import { errorStopsRun, injectParameters, parameterLiterals, ParameterError } from "@cellar/notebook-format";
import {
  deviceOfCell,
  isRunning,
  makeMessage,
  type Cell,
  type DeviceRequest,
  type ExecuteReplyContent,
  type JsonValue,
  type JupyterMessage,
  type Notebook,
} from "@cellar/protocol";
import { withRequestedDevice } from "../kernels/cell-device";
import type { KernelManager, KernelMessageEvent, KernelStatusChange, Requester } from "../kernels/kernel-manager";

export type RunStatus = "succeeded" | "failed" | "timed_out" | "cancelled";

export interface RunRequest {
  notebookId: string;
  /** Whom the run is for (the schedule's owner): the copy is theirs, the runs are recorded as theirs. */
  userId: string;
  /** Names to JSON values, injected papermill-style. */
  parameters?: Record<string, JsonValue>;
  /** How long the cells may run, counted from the moment the kernel is up (starting it has the
   * gateway's own limit, kernelStartTimeoutMs, after which it is dead and the run failed). */
  timeoutMs: number;
  /** Run on past errors (cells tagged "raises-exception" always may raise). */
  allowErrors?: boolean;
  signal?: AbortSignal;
  /** Pre-warm: the kernel is started at once, its first cell waits for this time. */
  startCellsAt?: Date;
  /** Once the kernel is up (and any pre-warm wait is over), as its first cell starts. */
  onStarted?(facts: { executedNotebookId: string; workerId: string | null; startedAt: Date }): void;
  onProgress?(progress: RunProgress): void;
}

export interface RunProgress {
  executedNotebookId: string;
  /** The cell about to run: its id and position in the notebook. */
  cellId: string;
  cellIndex: number;
  /** It is code cell `number` (1-based) of `count` that will run. */
  number: number;
  count: number;
}

export interface RunOutcome {
  status: RunStatus;
  /** The executed copy; null when the run failed before it could be made (no such notebook,
   * parameters that are not valid). */
  executedNotebookId: string | null;
  workerId: string | null;
  startedAt: Date;
  finishedAt: Date;
  /** The cell that failed, or was running when the run timed out or was cancelled. */
  failingCellId: string | null;
  failingCellIndex: number | null;
  errorName: string | null;
  errorValue: string | null;
  /** The error's traceback as text, without terminal colours. */
  traceback: string | null;
}

export interface NotebookRunnerDeps {
  kernels: Pick<
    KernelManager,
    "ensureKernel" | "send" | "interrupt" | "stop" | "status" | "workerIdOf" | "onStatusChange" | "onKernelMessage"
  >;
  notebooks: Pick<NotebookStore, "get" | "createExecutedCopy">;
  /** The copy is about to get its kernel: the image it must start on is the source's. */
  useImage?(notebookId: string, copy: Pick<Notebook, "image" | "metadata">): void;
  /** The name a run is shown as run by ("Last run by"); the user's id when not known. */
  userName?(userId: string): Promise<string | null>;
  /** How long the run waits for its kernel (no worker connected, a slow start) before it fails. */
  kernelStartTimeoutMs: number;
  /** How long an interrupted cell may take to stop before the kernel is stopped anyway. */
  interruptGraceMs?: number;
}

/** A run ends early: why, and the cell it ended in. */
class RunEnd extends Error {
  /** Where the kernel was when it ended (an interrupted cell's traceback). */
  traceback: string | null = null;
  constructor(
    readonly status: RunStatus,
    readonly errorName: string,
    message: string,
  ) {
    super(message);
  }
}

export class NotebookRunner {
  constructor(private readonly deps: NotebookRunnerDeps) {}

  async run(request: RunRequest): Promise<RunOutcome> {
    const startedAt = new Date();
    const outcome = (status: RunStatus, rest: Partial<RunOutcome> = {}): RunOutcome => ({
      status,
      executedNotebookId: null,
      workerId: null,
      startedAt,
      finishedAt: new Date(),
      failingCellId: null,
      failingCellIndex: null,
      errorName: null,
      errorValue: null,
      traceback: null,
      ...rest,
    });
    if (request.signal?.aborted)
      return outcome("cancelled", { errorName: "Cancelled", errorValue: "The run was cancelled before it started." });

    const source = await this.deps.notebooks.get(request.notebookId);
    if (!source) return outcome("failed", { errorName: "NotebookNotFound", errorValue: `There is no notebook ${request.notebookId}.` });
    let cells: Cell[];
    try {
      cells = injectParameters(source.cells, parameterLiterals(request.parameters ?? {}));
    } catch (error) {
      if (!(error instanceof ParameterError)) throw error;
      return outcome("failed", { errorName: error.name, errorValue: error.message });
    }
    const copy = await this.deps.notebooks.createExecutedCopy(source.id, { userId: request.userId, cells });
    if (!copy) return outcome("failed", { errorName: "NotebookNotFound", errorValue: `The notebook ${request.notebookId} was deleted.` });

    this.deps.useImage?.(copy.id, copy);
    const by: Requester = { id: request.userId, name: (await this.deps.userName?.(request.userId).catch(() => null)) ?? request.userId };
    const run = new KernelRun(this.deps, copy.id, request, by);
    try {
      const failure = await run.execute(copy.cells, copy.metadata);
      return outcome(failure ? "failed" : "succeeded", { executedNotebookId: copy.id, workerId: run.workerId(), ...failure });
    } catch (error) {
      if (!(error instanceof RunEnd)) throw error;
      return outcome(error.status, {
        executedNotebookId: copy.id,
        workerId: run.workerId(),
        failingCellId: run.current?.cell.id ?? null,
        failingCellIndex: run.current?.index ?? null,
        errorName: error.errorName,
        errorValue: error.message,
        traceback: error.traceback,
      });
    } finally {
      await run.close();
    }
  }
}

type Failure = Pick<RunOutcome, "failingCellId" | "failingCellIndex" | "errorName" | "errorValue" | "traceback">;

/** One run's kernel: started, fed cells, watched for its replies and its death, and stopped. */
class KernelRun {
  current?: { cell: Cell; index: number };
  private readonly ended: Promise<never>;
  private end!: (reason: RunEnd) => void;
  private readonly listeners: Array<() => void> = [];
  private readonly waiters = new Set<(event: KernelMessageEvent | KernelStatusChange) => void>();
  private timer?: NodeJS.Timeout;
  private worker: string | null = null;
  /** The worker whose connection dropped while it ran this kernel. */
  private lostWorker?: string;
  /** Set once the run is out of time: the interrupted cell's reply goes here. */
  private expiring?: (reply: ExecuteReplyContent) => void;

  constructor(
    private readonly deps: NotebookRunnerDeps,
    private readonly notebookId: string,
    private readonly request: RunRequest,
    private readonly by: Requester,
  ) {
    this.ended = new Promise<never>((_, reject) => {
      this.end = reject;
    });
    // Nobody may be waiting when it ends (between cells): that is not an unhandled rejection.
    this.ended.catch(() => {});
    const { kernels } = deps;
    this.listeners.push(
      kernels.onKernelMessage((event) => {
        if (event.notebookId === notebookId) for (const w of this.waiters) w(event);
      }),
      kernels.onStatusChange((change) => {
        if (change.notebookId !== notebookId) return;
        // Once up, a kernel only goes "disconnected" when its worker's connection drops; dead after
        // that, the worker did not come back with it (in time, or at all). Back in time, it is not lost.
        if (change.status === "disconnected" && this.worker) this.lostWorker = this.worker;
        else if (change.status !== "dead") this.lostWorker = undefined;
        if (change.status === "dead")
          this.end(
            this.lostWorker
              ? new RunEnd(
                  "failed",
                  "WorkerLost",
                  `Worker ${this.lostWorker} was lost mid-run: it disconnected and did not come back with the run's kernel.`,
                )
              : new RunEnd("failed", "KernelDied", change.reason ?? "The kernel died."),
          );
        for (const w of this.waiters) w(change);
      }),
    );
    const abort = () => {
      this.end(new RunEnd("cancelled", "Cancelled", "The run was cancelled."));
    };
    request.signal?.addEventListener("abort", abort, { once: true });
    this.listeners.push(() => request.signal?.removeEventListener("abort", abort));
  }

  workerId(): string | null {
    return this.worker ?? this.deps.kernels.workerIdOf(this.notebookId) ?? null;
  }

  /** Runs the code cells in order; the first error that stops the run is returned. */
  async execute(cells: Cell[], notebookMetadata?: Record<string, unknown>): Promise<Failure | null> {
    await this.started();
    const wait = (this.request.startCellsAt?.getTime() ?? 0) - Date.now();
    if (wait > 0) await Promise.race([new Promise((resolve) => setTimeout(resolve, wait)), this.ended]);
    this.request.onStarted?.({ executedNotebookId: this.notebookId, workerId: this.workerId(), startedAt: new Date() });
    this.timer = setTimeout(() => void this.timeOut(), this.request.timeoutMs);
    // Like nbclient: blank code cells are not sent.
    const runnable = cells.flatMap((cell, index) => (cell.cell_type === "code" && cell.source.trim() ? [{ cell, index }] : []));
    for (const [i, { cell, index }] of runnable.entries()) {
      this.current = { cell, index };
      this.request.onProgress?.({
        executedNotebookId: this.notebookId,
        cellId: cell.id,
        cellIndex: index,
        number: i + 1,
        count: runnable.length,
      });
      const reply = await this.runCell(cell, deviceOfCell(cell.metadata, notebookMetadata));
      if (this.expiring) {
        // The reply to the timeout's interrupt: the run ends as timed out, not as this error.
        this.expiring(reply);
        await this.ended;
      }
      if (errorStopsRun(reply, cell, { allowErrors: this.request.allowErrors })) {
        return {
          failingCellId: cell.id,
          failingCellIndex: index,
          errorName: reply.ename ?? "Error",
          errorValue: reply.evalue ?? "",
          traceback: tracebackText(reply),
        };
      }
    }
    this.current = undefined;
    return null;
  }

  /** Resolves once the kernel is up; a kernel that dies first ends the run (see the listener), and
   * one that is not up within kernelStartTimeoutMs (no worker is connected) fails it. */
  private async started(): Promise<void> {
    const { kernels, kernelStartTimeoutMs } = this.deps;
    const limit = setTimeout(() => {
      const why = kernels.status(this.notebookId)?.reason;
      const seconds = Math.round(kernelStartTimeoutMs / 1000);
      this.end(new RunEnd("failed", "KernelUnavailable", `No kernel started within ${seconds} s${why ? `: ${why}` : "."}`));
    }, kernelStartTimeoutMs);
    try {
      await Promise.race([kernels.ensureKernel(this.notebookId, this.request.userId), this.ended]);
      await this.until(() => {
        const now = kernels.status(this.notebookId);
        if (now?.status === "dead") throw new RunEnd("failed", "KernelDied", now.reason ?? "The kernel did not start.");
        return now !== undefined && isRunning(now.status);
      });
    } finally {
      clearTimeout(limit);
    }
    this.worker = kernels.workerIdOf(this.notebookId) ?? null;
  }

  /** Sends the cell as a page does and waits for its reply and for the kernel to go idle after
   * it (outputs may arrive on iopub after the reply on shell). */
  private async runCell(cell: Cell, device: DeviceRequest): Promise<ExecuteReplyContent> {
    const stopOnError = errorStopsRun({ status: "error" }, cell, { allowErrors: this.request.allowErrors });
    const msg = withRequestedDevice(
      makeMessage(
        "execute_request",
        { code: cell.source, silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: stopOnError },
        { channel: "shell", metadata: { cellId: cell.id } },
      ),
      device,
    );
    let reply: ExecuteReplyContent | undefined;
    let idle = false;
    const finished = this.until(
      (event) => {
        const message = event && "message" in event ? event.message : undefined;
        if (message && message.parent_header?.msg_id === msg.header.msg_id) {
          if (message.header.msg_type === "execute_reply") reply = message.content as ExecuteReplyContent;
          else if (isIdleStatus(message)) idle = true;
        }
        return reply !== undefined && idle;
      },
      // Sent after the listener is in place, so no reply can slip by.
      () => {
        const sent = this.deps.kernels.send(this.notebookId, msg, this.by);
        if (!sent.ok) throw new RunEnd("failed", "KernelUnavailable", sent.error);
      },
    );
    await finished;
    return reply!;
  }

  /** Resolves when `check` (asked now and on every message and status change of the kernel) is
   * true; rejects when it throws or the run ends. `then` runs once the watch is in place. */
  private until(check: (event?: KernelMessageEvent | KernelStatusChange) => boolean, then?: () => void): Promise<void> {
    let waiter!: (event: KernelMessageEvent | KernelStatusChange) => void;
    const done = new Promise<void>((resolve, reject) => {
      const ask = (event?: KernelMessageEvent | KernelStatusChange) => {
        try {
          if (check(event)) resolve();
        } catch (error) {
          reject(error);
        }
      };
      waiter = ask;
      this.waiters.add(waiter);
      ask();
      try {
        then?.();
      } catch (error) {
        reject(error);
      }
    });
    return Promise.race([done, this.ended]).finally(() => this.waiters.delete(waiter));
  }

  /** Out of time: the running cell is interrupted (so it can say where it was), then the kernel
   * is stopped whether it answered or not. */
  private async timeOut(): Promise<void> {
    const seconds = Math.round(this.request.timeoutMs / 100) / 10;
    const ending = new RunEnd("timed_out", "TimeoutError", `The run did not finish within ${seconds} s.`);
    if (!this.current) return this.end(ending);
    // The interrupt's KeyboardInterrupt is the cell's reply; execute hands it over (expiring).
    const answered = new Promise<ExecuteReplyContent | undefined>((resolve) => {
      this.expiring = resolve;
    });
    this.deps.kernels.interrupt(this.notebookId);
    const grace = new Promise<undefined>((resolve) => {
      setTimeout(() => resolve(undefined), this.deps.interruptGraceMs ?? 5_000).unref();
    });
    const reply = await Promise.race([answered, grace, this.ended.catch(() => undefined)]);
    if (reply?.traceback?.length) ending.traceback = tracebackText(reply);
    this.end(ending);
  }

  /** Always: the kernel stops (what it printed is written first) and the watches end. */
  async close(): Promise<void> {
    clearTimeout(this.timer);
    for (const stop of this.listeners) stop();
    this.waiters.clear();
    this.worker ??= this.deps.kernels.workerIdOf(this.notebookId) ?? null;
    await this.deps.kernels.stop(this.notebookId);
  }
}

function tracebackText(reply: ExecuteReplyContent): string {
  return stripVTControlCharacters((reply.traceback ?? []).join("\n"));
}

function isIdleStatus(message: JupyterMessage): boolean {
  return message.header.msg_type === "status" && (message.content as { execution_state?: string }).execution_state === "idle";
}
