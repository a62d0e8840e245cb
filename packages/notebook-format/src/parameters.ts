// Parameters the way papermill injects them: `-p NAME VALUE` becomes a Python assignment in a new
// code cell right after the cell tagged "parameters" (at the top when there is none), so the
// notebook's defaults are overridden and the rest of it runs unchanged.
import { pythonNameProblem, type Cell } from "@cellar/protocol";

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

/** A JSON-like value (a schedule's parameters) as the Python literal that evaluates to it:
 * null/true/false as None/True/False, integers as ints, other numbers as floats (NaN and the
 * infinities as float('nan'), float('inf')), strings escaped, arrays as lists, objects as dicts.
 * Anything else (undefined, a function, a bigint, a Date) is a ParameterError naming `path`. */
export function pythonLiteral(value: unknown, path = "value"): string {
  if (value === null) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  if (typeof value === "number") {
    if (Number.isNaN(value)) return "float('nan')";
    if (!Number.isFinite(value)) return value > 0 ? "float('inf')" : "-float('inf')";
    // Safe integers are Python ints; anything else prints as a float Python reads back the same.
    if (Number.isSafeInteger(value)) return Object.is(value, -0) ? "-0.0" : String(value);
    const text = String(value);
    return /[.e]/.test(text) ? text : `${text}.0`;
  }
  // JSON's string escapes (\" \\ \n \uXXXX …) are Python's too.
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((v, i) => pythonLiteral(v, `${path}[${i}]`)).join(", ")}]`;
  if (typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    const entries = Object.entries(value as Record<string, unknown>);
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}: ${pythonLiteral(v, `${path}.${k}`)}`).join(", ")}}`;
  }
  throw new ParameterError(`${path} is not a JSON value (${typeof value}), so it cannot be a Python literal`);
}

/** A map of JSON values as the Python literals injectParameters takes. */
export function parameterLiterals(parameters: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(parameters).map(([name, value]) => [name, pythonLiteral(value, `parameter ${name}`)]));
}

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
    const problem = pythonNameProblem(name);
    if (problem) throw new ParameterError(`parameter name ${JSON.stringify(name)} ${problem}`);
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

export function hasTag(cell: Pick<Cell, "metadata">, tag: string): boolean {
  const tags = cell.metadata?.tags;
  return Array.isArray(tags) && tags.includes(tag);
}
