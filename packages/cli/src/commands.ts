// What each `cellar` subcommand does, apart from argument parsing (main.ts).
import fs from "node:fs/promises";
import path from "node:path";
import { stripVTControlCharacters } from "node:util";
import { GatewayClient } from "@cellar/kernel-client";
import { fromIpynb, injectParameters, parameterLiteral, parseIpynb, serializeIpynb, toIpynb } from "@cellar/notebook-format";
import type { Connection } from "./connection";
import { UsageError } from "./connection";
import { runNotebookCells, type CellFailure } from "./kernel-runner";

export interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
  /** Whether stderr shows colours (tracebacks keep IPython's ANSI colours only then). */
  colour: boolean;
}

const titleOf = (file: string) => path.basename(file).replace(/\.ipynb$/i, "");
export const gatewayClient = (connection: Connection) => new GatewayClient({ baseUrl: connection.baseUrl, token: connection.token });

async function readNotebookFile(file: string): Promise<string> {
  try {
    return await fs.readFile(file, "utf8");
  } catch (error) {
    throw new UsageError(
      `Cannot read ${file}: ${(error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (error as Error).message}`,
    );
  }
}

export async function importCommand(connection: Connection, file: string, opts: { title?: string }, io: Io): Promise<number> {
  const text = await readNotebookFile(file);
  const gateway = gatewayClient(connection);
  const notebook = await gateway.notebooks.import(text, opts.title ?? titleOf(file));
  io.out(gateway.url(notebook.url));
  return 0;
}

export async function exportCommand(connection: Connection, id: string, opts: { output?: string }, io: Io): Promise<number> {
  const text = await gatewayClient(connection).notebooks.export(id);
  if (opts.output) {
    await fs.writeFile(opts.output, text);
    io.err(`Wrote ${opts.output}`);
  } else {
    io.out(text.replace(/\n$/, ""));
  }
  return 0;
}

/** `-p NAME VALUE` pairs, as commander collects them (one flat list). */
export function pairParameters(values: string[] = []): Record<string, string> {
  if (values.length % 2) throw new UsageError(`-p takes a name and a value (got ${values.length} word(s): ${values.join(" ")})`);
  const parameters: Record<string, string> = {};
  for (let i = 0; i < values.length; i += 2) parameters[values[i]!] = parameterLiteral(values[i + 1]!);
  return parameters;
}

export interface RunCommandOptions {
  output: string;
  parameter?: string[];
  keep?: boolean;
  cellTimeout?: number;
  allowErrors?: boolean;
}

export async function runCommand(connection: Connection, file: string, opts: RunCommandOptions, io: Io): Promise<number> {
  // Check everything local before touching the gateway: a bad file or -p fails fast.
  const nb = parseIpynb(await readNotebookFile(file));
  const parameters = pairParameters(opts.parameter);
  const doc = fromIpynb(nb, { title: titleOf(file) });
  const cells = injectParameters(doc.cells, parameters);

  const gateway = gatewayClient(connection);
  const stored = await gateway.notebooks.import(serializeIpynb(toIpynb({ ...doc, cells })), `${doc.title} (cellar run)`);
  let failure: CellFailure | undefined;
  try {
    const codeCells = stored.cells.filter((c) => c.cell_type === "code").length;
    let n = 0;
    const result = await runNotebookCells(connection, stored.id, stored.cells, {
      onCell: () => io.err(`Running cell ${++n}/${codeCells}…`),
      cellTimeoutMs: opts.cellTimeout ? opts.cellTimeout * 1000 : undefined,
      allowErrors: opts.allowErrors,
    });
    failure = result.failure;
    // Written even when a cell failed, like papermill: the outputs up to the failure are the story.
    await fs.writeFile(
      opts.output,
      serializeIpynb(toIpynb({ metadata: doc.metadata, nbformatMinor: doc.nbformatMinor, cells: result.cells })),
    );
    io.err(`Wrote ${opts.output}`);
  } finally {
    if (opts.keep) io.err(`The run's notebook: ${gateway.url(stored.url)}`);
    else
      await gateway.notebooks
        .remove(stored.id)
        .catch((e) => io.err(`Could not delete the run's notebook ${stored.id}: ${(e as Error).message}`));
  }
  if (failure) {
    io.err(`\nCell ${failure.index + 1} raised ${failure.ename}: ${failure.evalue}`);
    const traceback = failure.traceback.join("\n");
    io.err(io.colour ? traceback : stripVTControlCharacters(traceback));
    return 1;
  }
  return 0;
}
