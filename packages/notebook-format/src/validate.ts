// Checks an .ipynb against the official nbformat 4.x JSON schema of its own minor version, and
// turns the schema's complaints into sentences that name the cell and the field.
import Ajv, { type ErrorObject, type ValidateFunction } from "ajv-draft-04";
import v40 from "./schemas/nbformat.v4.0.schema.json" with { type: "json" };
import v41 from "./schemas/nbformat.v4.1.schema.json" with { type: "json" };
import v42 from "./schemas/nbformat.v4.2.schema.json" with { type: "json" };
import v43 from "./schemas/nbformat.v4.3.schema.json" with { type: "json" };
import v44 from "./schemas/nbformat.v4.4.schema.json" with { type: "json" };
import v45 from "./schemas/nbformat.v4.5.schema.json" with { type: "json" };
import { LATEST_MINOR, type IpynbNotebook } from "./ipynb";

const SCHEMAS: Record<number, object> = { 0: v40, 1: v41, 2: v42, 3: v43, 4: v44, 5: v45 };
const CELL_TYPES = ["code", "markdown", "raw"];
const OUTPUT_TYPES = ["execute_result", "display_data", "stream", "error"];
/** A file with hundreds of broken cells needs the first few problems, not all of them. */
const MAX_PROBLEMS = 20;

export type IpynbValidation = { ok: true; notebook: IpynbNotebook } | { ok: false; problems: string[] };

export class NotebookFormatError extends Error {
  override name = "NotebookFormatError";
  constructor(readonly problems: string[]) {
    super(`Not a valid Jupyter notebook (.ipynb): ${problems.join("; ")}`);
  }
}

/** Validates and returns the notebook, or throws NotebookFormatError listing what is wrong. */
export function parseIpynb(input: string | unknown): IpynbNotebook {
  let value = input;
  if (typeof input === "string") {
    try {
      value = JSON.parse(input);
    } catch (error) {
      throw new NotebookFormatError([`the file is not JSON (${(error as Error).message})`]);
    }
  }
  const result = validateIpynb(value);
  if (!result.ok) throw new NotebookFormatError(result.problems);
  return result.notebook;
}

export function validateIpynb(value: unknown): IpynbValidation {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { ok: false, problems: ["the file is not a JSON object, so not a notebook"] };
  }
  const nb = value as Record<string, unknown>;
  if (nb.nbformat === undefined) return { ok: false, problems: ['missing field "nbformat": this is not a Jupyter notebook'] };
  if (nb.nbformat !== 4) {
    return {
      ok: false,
      problems: [
        `nbformat ${JSON.stringify(nb.nbformat)} is not supported: Cellar reads nbformat 4 (open and save the file in a current Jupyter to convert it)`,
      ],
    };
  }
  const minor = nb.nbformat_minor;
  if (typeof minor !== "number" || !Number.isInteger(minor) || minor < 0) {
    return { ok: false, problems: ['field "nbformat_minor" must be a whole number ≥ 0'] };
  }
  // Like Jupyter, read a newer minor version with the newest schema we know.
  const schema = validators(Math.min(minor, LATEST_MINOR));
  const problems = schema.notebook(value) ? [] : explain(nb, schema);
  problems.push(...duplicateIds(nb));
  if (problems.length) return { ok: false, problems: problems.slice(0, MAX_PROBLEMS) };
  return { ok: true, notebook: value as IpynbNotebook };
}

interface Validators {
  notebook: ValidateFunction;
  part(definition: string): ValidateFunction;
}

const ajv = new Ajv({ allErrors: true, strict: false });
const compiled = new Map<number, Validators>();

function validators(minor: number): Validators {
  let v = compiled.get(minor);
  if (!v) {
    // The schema files carry no id; give each one so its definitions can be compiled alone.
    const id = `https://cellar.invalid/nbformat.v4.${minor}.schema.json`;
    ajv.addSchema({ ...SCHEMAS[minor], id }, id);
    const parts = new Map<string, ValidateFunction>();
    v = {
      notebook: ajv.getSchema(id)!,
      part(definition) {
        let fn = parts.get(definition);
        if (!fn) parts.set(definition, (fn = ajv.compile({ $ref: `${id}#/definitions/${definition}` })));
        return fn;
      },
    };
    compiled.set(minor, v);
  }
  return v;
}

/** The whole-notebook schema says "cells[3] matches none of code/markdown/raw"; validating each
 * cell against the schema of its own cell_type (and each output against its own output_type)
 * says which field is wrong instead. */
function explain(nb: Record<string, unknown>, schema: Validators): string[] {
  const problems: string[] = [];
  const top = schema.notebook.errors ?? [];
  for (const e of top) {
    if (e.instancePath.startsWith("/cells/")) continue;
    problems.push(describe(e, "notebook"));
  }
  if (!Array.isArray(nb.cells)) return dedupe(problems);
  nb.cells.forEach((cell, index) => {
    if (problems.length >= MAX_PROBLEMS) return;
    problems.push(...cellProblems(cell, index, schema));
  });
  return dedupe(problems);
}

function cellProblems(cell: unknown, index: number, schema: Validators): string[] {
  const at = `cell ${index + 1}`;
  if (typeof cell !== "object" || cell === null || Array.isArray(cell)) return [`${at}: must be an object`];
  const c = cell as Record<string, unknown>;
  const type = c.cell_type;
  if (typeof type !== "string" || !CELL_TYPES.includes(type)) {
    return [`${at}: "cell_type" must be "code", "markdown" or "raw" (got ${JSON.stringify(type) ?? "nothing"})`];
  }
  const where = `${at} (${type}${typeof c.id === "string" ? `, id ${JSON.stringify(c.id)}` : ""})`;
  const check = schema.part(`${type}_cell`);
  if (check(cell)) return [];
  const problems: string[] = [];
  for (const e of check.errors ?? []) {
    if (/^\/outputs\/\d+/.test(e.instancePath)) continue;
    problems.push(describe(e, where));
  }
  if (Array.isArray(c.outputs)) {
    c.outputs.forEach((output, j) => {
      problems.push(...outputProblems(output, `${where}, output ${j + 1}`, schema));
    });
  }
  return problems;
}

function outputProblems(output: unknown, at: string, schema: Validators): string[] {
  if (typeof output !== "object" || output === null || Array.isArray(output)) return [`${at}: must be an object`];
  const type = (output as Record<string, unknown>).output_type;
  if (typeof type !== "string" || !OUTPUT_TYPES.includes(type)) {
    return [
      `${at}: "output_type" must be one of ${OUTPUT_TYPES.map((t) => `"${t}"`).join(", ")} (got ${JSON.stringify(type) ?? "nothing"})`,
    ];
  }
  const check = schema.part(type);
  return check(output) ? [] : (check.errors ?? []).map((e) => describe(e, `${at} (${type})`));
}

function describe(e: ErrorObject, where: string): string {
  const field = fieldName(e.instancePath);
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case "required":
      return `${where}: missing required field ${quote(join(field, String(params.missingProperty)))}`;
    case "additionalProperties":
      return `${where}: unknown field ${quote(join(field, String(params.additionalProperty)))} (nbformat 4 does not allow it here)`;
    case "type":
      return `${where}: ${field ? quote(field) : "value"} must be ${String(params.type).replace(",", " or ")}`;
    case "enum":
      return `${where}: ${field ? quote(field) : "value"} must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`;
    default:
      return `${where}: ${field ? quote(field) + " " : ""}${e.message ?? "is invalid"}`;
  }
}

/** "/outputs/0/name" → "outputs[0].name" */
function fieldName(instancePath: string): string {
  return instancePath
    .split("/")
    .slice(1)
    .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"))
    .reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), "");
}

const join = (parent: string, child: string) => (parent ? `${parent}.${child}` : child);
const quote = (s: string) => `"${s}"`;
const dedupe = (list: string[]) => [...new Set(list)];

/** nbformat 4.5 requires cell ids to be unique; the schema alone cannot say so. */
function duplicateIds(nb: Record<string, unknown>): string[] {
  if (!Array.isArray(nb.cells)) return [];
  const first = new Map<string, number>();
  const problems: string[] = [];
  nb.cells.forEach((cell, index) => {
    const id = (cell as { id?: unknown } | null)?.id;
    if (typeof id !== "string") return;
    const earlier = first.get(id);
    if (earlier === undefined) first.set(id, index);
    else problems.push(`cell ${index + 1}: id ${JSON.stringify(id)} is already the id of cell ${earlier + 1} (cell ids must be unique)`);
  });
  return problems;
}
