// Parameters the way papermill injects them: `-p NAME VALUE` becomes a Python assignment in a new
// code cell right after the cell tagged "parameters" (at the top when there is none), so the
// notebook's defaults are overridden and the rest of it runs unchanged.
import type { Cell } from "@cellar/protocol";

export const PARAMETERS_TAG = "parameters";
export const INJECTED_TAG = "injected-parameters";

/** A `-p` value as the Python literal papermill would inject: True/False/None stay themselves,
 * then an int, then a float, else the text becomes a string. */
export function parameterLiteral(text: string): string {
  if (text === "True" || text === "False" || text === "None") return text;
  const trimmed = text.trim();
  const int = /^([+-]?)(\d+)$/.exec(trimmed);
  // Python rejects leading zeros in int literals ("007"); int("007") is 7.
  if (int) return `${int[1] === "-" ? "-" : ""}${int[2]!.replace(/^0+(?=\d)/, "")}`;
  if (/^[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?$/.test(trimmed)) return trimmed.replace(/^\+/, "");
  // A JSON string is a valid Python string literal (the same escapes).
  return JSON.stringify(text);
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

export class ParameterError extends Error {
  override name = "ParameterError";
}

/** `parameters` maps names to Python literals (see parameterLiteral). Returns the cells with a
 * fresh injected-parameters cell; an injected cell from an earlier run is replaced. */
export function injectParameters(
  cells: Cell[],
  parameters: Record<string, string>,
  newCellId: () => string = () => globalThis.crypto.randomUUID(),
): Cell[] {
  const names = Object.keys(parameters);
  for (const name of names) {
    if (!IDENTIFIER.test(name)) throw new ParameterError(`parameter name ${JSON.stringify(name)} is not a Python identifier`);
  }
  const kept = cells.filter((c) => !hasTag(c, INJECTED_TAG));
  if (!names.length) return kept;
  const source = ["# Parameters", ...names.map((n) => `${n} = ${parameters[n]}`)].join("\n") + "\n";
  const injected: Cell = {
    id: newCellId(),
    cell_type: "code",
    source,
    outputs: [],
    execution_count: null,
    metadata: { tags: [INJECTED_TAG] },
  };
  const at = kept.findIndex((c) => hasTag(c, PARAMETERS_TAG));
  return [...kept.slice(0, at + 1), injected, ...kept.slice(at + 1)];
}

function hasTag(cell: Cell, tag: string): boolean {
  const tags = cell.metadata?.tags;
  return Array.isArray(tags) && tags.includes(tag);
}
