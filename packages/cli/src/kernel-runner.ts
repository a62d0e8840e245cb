// Runs a stored notebook's code cells on its kernel through the gateway's socket.io, with the
// same client core as the browser (@cellar/kernel-client) and the same outputs reducer, so a CLI
// run records exactly what a run in the browser would.
import { createGatewaySocket, GatewayKernel, isAuthRefusal, KernelFutureError } from "@cellar/kernel-client";
import { errorStopsRun } from "@cellar/notebook-format";
import { applyOutputMessage, emptyCellOutput, isRunning, type Cell, type ExecuteReplyContent } from "@cellar/protocol";
import { TOKEN_REFUSED, type Connection } from "./connection";

export interface CellFailure {
  /** Index of the cell in the notebook (0-based). */
  index: number;
  ename: string;
  evalue: string;
  traceback: string[];
}

export interface RunResult {
  /** The notebook's cells; code cells that ran carry their new outputs and execution counts. */
  cells: Cell[];
  failure?: CellFailure;
}

export interface RunOptions {
  /** Called before each code cell runs, for progress output. */
  onCell?: (index: number, cell: Cell) => void;
  /** How long the kernel may take to start. */
  startTimeoutMs?: number;
  /** Per-cell limit; none by default (like papermill). */
  cellTimeoutMs?: number;
  /** Run on past errors, as nbclient's allow_errors; a cell tagged "raises-exception" may always raise. */
  allowErrors?: boolean;
}

export class RunError extends Error {
  override name = "RunError";
}

export async function runNotebookCells(
  connection: Connection,
  notebookId: string,
  cells: Cell[],
  options: RunOptions = {},
): Promise<RunResult> {
  const kernel = new GatewayKernel(
    createGatewaySocket({ url: connection.baseUrl, token: connection.token, reconnection: false }),
    notebookId,
  );
  try {
    await open(kernel, connection);
    await ready(kernel, options.startTimeoutMs ?? 180_000);

    const result: Cell[] = cells.map((c) => (c.cell_type === "code" ? { ...c, outputs: [], execution_count: null } : c));
    for (const [index, cell] of result.entries()) {
      if (cell.cell_type !== "code") continue;
      options.onCell?.(index, cell);
      const ran = await runCell(kernel, cell, options.cellTimeoutMs);
      result[index] = { ...cell, outputs: ran.outputs, execution_count: ran.executionCount };
      if (errorStopsRun(ran.reply, cell, { allowErrors: options.allowErrors })) {
        const error = ran.outputs.find((o) => o.output_type === "error");
        return {
          cells: result,
          failure: {
            index,
            ename: ran.reply.ename ?? (error?.output_type === "error" ? error.ename : "Error"),
            evalue: ran.reply.evalue ?? (error?.output_type === "error" ? error.evalue : ran.reply.status),
            traceback: ran.reply.traceback ?? (error?.output_type === "error" ? error.traceback : []),
          },
        };
      }
    }
    return { cells: result };
  } finally {
    kernel.dispose();
  }
}

async function open(kernel: GatewayKernel, connection: Connection): Promise<void> {
  try {
    await kernel.opened();
  } catch (error) {
    if (error instanceof KernelFutureError) {
      throw new RunError(
        error.kind === "refused"
          ? `The gateway would not open the notebook: ${error.message}`
          : "The gateway did not answer when asked to open the notebook.",
      );
    }
    throw new RunError(
      isAuthRefusal(error as Error)
        ? TOKEN_REFUSED
        : `Cannot connect to the gateway's socket at ${connection.baseUrl}: ${(error as Error).message}`,
    );
  }
}

/** Resolves once the kernel has started; rejects if it dies, the link breaks or it takes too long. */
function ready(kernel: GatewayKernel, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new RunError(`The kernel did not start within ${Math.round(timeoutMs / 1000)} s.`)), timeoutMs);
    const check = () => {
      if (isRunning(kernel.status)) done();
      else if (kernel.status === "dead") done(new RunError(`The kernel died: ${kernel.reason ?? "no reason given"}`));
      else if (!kernel.connected) done(new RunError(`Cannot run: ${kernel.reason}`));
    };
    const stop = kernel.on("status", check);
    const done = (error?: Error) => {
      clearTimeout(timer);
      stop();
      if (error) reject(error);
      else resolve();
    };
    check();
  });
}

interface CellRun {
  outputs: Cell["outputs"];
  executionCount: number | null;
  reply: ExecuteReplyContent;
}

async function runCell(kernel: GatewayKernel, cell: Cell, timeoutMs?: number): Promise<CellRun> {
  let state = emptyCellOutput();
  const run = kernel.execute(cell.source, {
    cellId: cell.id,
    timeoutMs,
    onIOPub: (msg) => {
      if (msg.header.msg_type !== "status") state = applyOutputMessage(state, msg);
    },
  });
  let reply: ExecuteReplyContent;
  try {
    reply = (await run.done).content;
  } catch (error) {
    throw runFailure(error, timeoutMs);
  }
  return { outputs: state.outputs, executionCount: state.executionCount ?? reply.execution_count ?? null, reply };
}

function runFailure(error: unknown, timeoutMs?: number): Error {
  if (!(error instanceof KernelFutureError)) return error as Error;
  switch (error.kind) {
    case "timeout":
      return new RunError(`A cell ran longer than ${Math.round(timeoutMs! / 1000)} s.`);
    case "unanswered":
      return new RunError("The gateway did not accept the cell in time.");
    case "refused":
      return new RunError(`The gateway would not run the cell: ${error.message}`);
    default:
      return new RunError(`The kernel stopped while running a cell: ${error.message}`);
  }
}
