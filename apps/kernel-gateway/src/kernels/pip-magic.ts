// `%pip install X` (and `!pip install X`, `%pip install -r requirements.txt`, `%pip uninstall`,
// `%pip list`) in a cell. Sandboxes have no network, so these never reach pip: the gateway reads
// them here, builds the packages into an image layer on the host and moves the kernel onto it.
// Pip lines go at the top of a cell; the code after them runs once the packages are in.
import type { JupyterMessage } from "@cellar/protocol";
import { PIP_REQUIREMENT } from "../images/image-specs";

export type PipCommand =
  | { op: "install"; requirements: string[]; requirementFiles: string[] }
  | { op: "uninstall"; names: string[] }
  | { op: "list" };

export type PipCell =
  /** The cell's pip commands, and the request with their lines blanked (`%pip list`'s becomes
   * the listing). */
  { commands: PipCommand[]; message: JupyterMessage } | { error: string };

const PIP_LINE = /^\s*(?:%pip3?|!\s*pip3?|!\s*python3?\s+-m\s+pip)\s+(.*)$/;
/** Flags pip takes that change nothing here: output volume, "upgrade" (a new layer is resolved
 * afresh anyway), and confirmation. */
const IGNORED_FLAGS = new Set(["-q", "--quiet", "-qq", "-v", "--verbose", "-U", "--upgrade", "-y", "--yes", "--no-cache-dir"]);

/** `%pip list` as the kernel runs it: what its Python can import, by distribution, in a
 * namespace of its own (the notebook's stays as it was). */
const PIP_LIST_SOURCE = `import importlib.metadata as m
rows = sorted({(d.metadata["Name"] or "?", d.version) for d in m.distributions()}, key=lambda r: r[0].lower())
width = max([len(name) for name, _ in rows] + [7])
print(f"{'Package':<{width}} Version")
print("-" * width, "-" * 7)
for name, version in rows:
    print(f"{name:<{width}} {version}")
`;
export const PIP_LIST_LINE = `exec(compile(${JSON.stringify(PIP_LIST_SOURCE)}, "%pip list", "exec"), {})`;

/** The pip commands at the top of an execute_request's code; null when it has none. */
export function pipCell(msg: JupyterMessage): PipCell | null {
  const content = msg.content as { code?: unknown };
  if (typeof content.code !== "string") return null;
  const lines = content.code.split("\n");
  const commands: PipCommand[] = [];
  let top = true;
  for (const [i, line] of lines.entries()) {
    const pip = PIP_LINE.exec(line);
    if (!pip) {
      if (line.trim() && !line.trim().startsWith("#")) top = false;
      continue;
    }
    if (!top)
      return {
        error: `Line ${i + 1}: put %pip at the top of a cell: the kernel moves onto the new packages before the rest of the cell runs.`,
      };
    const command = parsePipArgs(pip[1]!.trim().split(/\s+/));
    if ("error" in command) return { error: `Line ${i + 1}: ${command.error}` };
    commands.push(command);
    // The listing takes the line's place, so the rest keeps its line numbers.
    lines[i] = command.op === "list" ? PIP_LIST_LINE : "";
  }
  if (!commands.length) return null;
  return { commands, message: { ...msg, content: { ...msg.content, code: lines.join("\n") } } };
}

function parsePipArgs(args: string[]): PipCommand | { error: string } {
  const [verb, ...rest] = args;
  const words = rest.filter((a) => !IGNORED_FLAGS.has(a));
  if (verb === "list" || verb === "freeze") {
    if (words.length) return { error: `%pip ${verb} takes no arguments here (${words.join(" ")}).` };
    return { op: "list" };
  }
  if (verb === "uninstall") {
    const option = words.find((w) => w.startsWith("-"));
    if (option) return { error: `%pip uninstall: the option ${option} is not supported.` };
    if (!words.length) return { error: "%pip uninstall needs the name of a package." };
    return { op: "uninstall", names: words };
  }
  if (verb !== "install") return { error: `%pip ${verb ?? ""}: only install, uninstall and list work in Cellar.`.replace("  ", " ") };
  const requirements: string[] = [];
  const requirementFiles: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (word === "-r" || word === "--requirement") {
      const file = words[++i];
      if (!file) return { error: `%pip install ${word} needs a file name.` };
      requirementFiles.push(file);
    } else if (word.startsWith("-")) {
      return {
        error: `%pip install: the option ${word} is not supported (packages come from the index Cellar is configured with).`,
      };
    } else {
      const requirement = unquote(word);
      const checked = PIP_REQUIREMENT.safeParse(requirement);
      if (!checked.success) return { error: `%pip install ${requirement}: ${checked.error.issues[0]!.message}.` };
      requirements.push(checked.data);
    }
  }
  if (!requirements.length && !requirementFiles.length) return { error: "%pip install needs a package, or -r and a requirements file." };
  return { op: "install", requirements, requirementFiles };
}

/** `"requests>=2"` as a shell would give it to pip. */
const unquote = (word: string) => word.replace(/^(['"])(.*)\1$/, "$2");
