// `cellar`: import, export and run notebooks on a Cellar gateway. Argument parsing only; the
// work is in commands.ts.
import { Command, CommanderError, InvalidArgumentError } from "commander";
import { GatewayError } from "@cellar/kernel-client";
import { NotebookFormatError, ParameterError } from "@cellar/notebook-format";
import { DEFAULT_URL, resolveConnection, TOKEN_REFUSED, UsageError } from "./connection";
import { exportCommand, gatewayClient, importCommand, runCommand, type Io } from "./commands";
import { imageBuild, imageList } from "./image-commands";
import { runsList, scheduleAct, scheduleCreate, scheduleList, type ScheduleCreateOptions } from "./schedule-commands";
import { ParameterError as ScheduleParameterError } from "@cellar/schedules";
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
  const client = () => gatewayClient(connection());

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

  const schedule = program.command("schedule").description("schedule a notebook as a recurring job, and manage its schedules");
  schedule
    .command("create")
    .description("schedule a notebook (its id) and print the schedule's id and next fire times")
    .argument("<notebook>", "the notebook's id (the id=… in its URL)")
    .requiredOption("--cron <expression>", 'when it runs, e.g. "0 9 * * 1-5" (weekdays at 09:00)')
    .option("--tz <zone>", "the IANA time zone the expression is read in (default: this machine's)")
    .option("--name <name>", "the schedule's name")
    .option("-p, --parameter <name value...>", "set a parameter, as papermill -p does (repeatable)")
    .option("--timeout <seconds>", "fail a run that takes longer (default 3600)", positiveNumber)
    .option("--retries <n>", "attempts after a failed one (default 0)", (v) => Number.parseInt(v, 10))
    .option("--paused", "create it paused")
    .action(async (notebook: string, opts: ScheduleCreateOptions) => {
      code = await scheduleCreate(client(), notebook, opts, io);
    });
  schedule
    .command("list")
    .description("your schedules, or a notebook's")
    .argument("[notebook]", "only this notebook's")
    .action(async (notebook?: string) => {
      code = await scheduleList(client(), notebook, io);
    });
  for (const action of ["pause", "resume", "delete"] as const) {
    schedule
      .command(action)
      .description(`${action} a schedule`)
      .argument("<schedule>", "the schedule's id")
      .action(async (id: string) => {
        code = await scheduleAct(client(), action, id, io);
      });
  }
  schedule
    .command("run")
    .description("run a schedule now and print the run's id")
    .argument("<schedule>", "the schedule's id")
    .option("-p, --parameter <name value...>", "parameters for this run instead of the schedule's")
    .action(async (id: string, opts: { parameter?: string[] }) => {
      code = await scheduleAct(client(), "run", id, io, opts.parameter);
    });
  program
    .command("runs")
    .description("the runs of a notebook's schedules, latest first")
    .argument("<notebook>", "the notebook's id")
    .option("-n, --limit <n>", "how many (default 20)", (v) => Number.parseInt(v, 10))
    .action(async (notebook: string, opts: { limit?: number }) => {
      code = await runsList(client(), notebook, opts, io);
    });

  const image = program.command("image").description("build images from spec files, and list the images notebooks can choose");
  image
    .command("build")
    .description("build an image spec file (images/*.json's format) on the gateway; writes NAME.lock.json beside it")
    .argument("<file>", "the spec file")
    .action(async (file: string) => {
      code = await imageBuild(client(), file, io);
    });
  image
    .command("list")
    .description("every image: name, id, parent, packages and layer size")
    .action(async () => {
      code = await imageList(client(), io);
    });

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
      for (const f of error.fields) io.err(`  - ${f.field ? `${f.field}: ` : ""}${f.message}`);
      return 2;
    }
    if (
      error instanceof UsageError ||
      error instanceof ParameterError ||
      error instanceof ScheduleParameterError ||
      error instanceof RunError
    ) {
      io.err(`cellar: ${error.message}`);
      return 2;
    }
    throw error;
  }
}
