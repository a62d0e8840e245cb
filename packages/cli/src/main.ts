// `cellar`: import, export and run notebooks on a Cellar gateway. Argument parsing only; the
// work is in commands.ts.
import { Command, CommanderError, InvalidArgumentError } from "commander";
import { GatewayError } from "@cellar/kernel-client";
import { NotebookFormatError, ParameterError } from "@cellar/notebook-format";
import { DEFAULT_URL, resolveConnection, TOKEN_REFUSED, UsageError } from "./connection";
import { exportCommand, importCommand, runCommand, type Io } from "./commands";
import { RunError } from "./kernel-runner";

const defaultIo: Io = {
  out: (line) => process.stdout.write(line + "\n"),
  err: (line) => process.stderr.write(line + "\n"),
  colour: !!process.stderr.isTTY,
};

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError("must be a positive number of seconds");
  return n;
}

export async function main(argv: string[], io: Io = defaultIo): Promise<number> {
  let code = 0;
  const program = new Command()
    .name("cellar")
    .description("Import, export and run Jupyter notebooks on a Cellar gateway.")
    .option("--url <url>", `gateway URL (env CELLAR_URL; default ${DEFAULT_URL})`)
    .option("--token <token>", "access token printed by `npm start` (env CELLAR_TOKEN)")
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.replace(/\n$/, "")), writeErr: (s) => io.err(s.replace(/\n$/, "")) });
  const connection = () => resolveConnection(program.opts<{ url?: string; token?: string }>());

  program
    .command("import")
    .description("upload a .ipynb file as a new notebook and print its URL")
    .argument("<file>", "the .ipynb file")
    .option("--title <title>", "the notebook's title (default: the file name)")
    .action(async (file: string, opts: { title?: string }) => {
      code = await importCommand(connection(), file, opts, io);
    });

  program
    .command("export")
    .description("download a notebook as .ipynb")
    .argument("<id>", "the notebook's id (the id=… in its URL)")
    .option("-o, --output <file>", "where to write it (default: standard output)")
    .action(async (id: string, opts: { output?: string }) => {
      code = await exportCommand(connection(), id, opts, io);
    });

  program
    .command("run")
    .description(
      "run every code cell on a Cellar worker and write the executed notebook; exits 1 if a cell raises (unless tagged raises-exception)",
    )
    .argument("<file>", "the .ipynb file to run")
    .requiredOption("-o, --output <file>", "where to write the executed notebook")
    .option("-p, --parameter <name value...>", "set a parameter, as papermill -p does (repeatable: -p alpha 0.5 -p label run)")
    .option("--cell-timeout <seconds>", "fail a cell that runs longer than this", positiveNumber)
    .option("--keep", "keep the run's notebook on the gateway and print its URL (it is deleted by default)")
    .option("--allow-errors", "run on past cells that raise, and exit 0 (as nbclient's and papermill's allow_errors)")
    .action(
      async (file: string, opts: { output: string; parameter?: string[]; keep?: boolean; cellTimeout?: number; allowErrors?: boolean }) => {
        code = await runCommand(connection(), file, opts, io);
      },
    );

  try {
    await program.parseAsync(argv);
    return code;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    if (error instanceof NotebookFormatError) {
      io.err("Not a valid Jupyter notebook (.ipynb):");
      for (const p of error.problems) io.err(`  - ${p}`);
      return 2;
    }
    if (error instanceof GatewayError) {
      io.err(`cellar: ${error.status === 401 ? TOKEN_REFUSED : error.message}`);
      for (const p of error.problems) io.err(`  - ${p}`);
      return 2;
    }
    if (error instanceof UsageError || error instanceof ParameterError || error instanceof RunError) {
      io.err(`cellar: ${error.message}`);
      return 2;
    }
    throw error;
  }
}
