// One reducer turns kernel iopub messages into a cell's nbformat outputs. The gateway uses it to
// persist outputs and the browser to render them, so both always agree on what a cell shows.
import { hasMsgType, isClearOutput, isError, isExecuteInput, isExecuteResult, isStream, type JupyterMessage } from "./jupyter";
import type { DisplayDataContent, MimeBundle } from "./message-contents";
import type { Output } from "./notebook";

export interface OutputLimits {
  /** Total characters of output kept per cell; beyond it, output is dropped and a note is shown. */
  maxChars: number;
}

export const DEFAULT_OUTPUT_LIMITS: OutputLimits = { maxChars: 2_000_000 };

export interface CellOutputState {
  outputs: Output[];
  executionCount: number | null;
  /** clear_output(wait=True): clear just before the next output arrives. */
  clearPending: boolean;
  /** Characters currently held, to enforce the limit without re-measuring. */
  chars: number;
  truncated: boolean;
}

export const TRUNCATION_NOTE_KEY = "cellar_truncated";

export function emptyCellOutput(): CellOutputState {
  return { outputs: [], executionCount: null, clearPending: false, chars: 0, truncated: false };
}

export function cellOutputFrom(outputs: Output[], executionCount: number | null): CellOutputState {
  const truncated = outputs.some((o) => o.output_type === "display_data" && o.metadata[TRUNCATION_NOTE_KEY]);
  return { outputs, executionCount, clearPending: false, chars: outputs.reduce((n, o) => n + outputSize(o), 0), truncated };
}

export function outputSize(o: Output): number {
  switch (o.output_type) {
    case "stream":
      return o.text.length;
    case "error":
      return o.traceback.reduce((n, l) => n + l.length, o.evalue.length);
    default:
      return bundleSize(o.data);
  }
}

function bundleSize(data: MimeBundle): number {
  let n = 0;
  for (const v of Object.values(data)) n += typeof v === "string" ? v.length : JSON.stringify(v).length;
  return n;
}

function truncationNote(limits: OutputLimits): Output {
  return {
    output_type: "display_data",
    data: {
      "text/plain": `Output truncated: this cell produced more than ${limits.maxChars.toLocaleString("en-US")} characters of output.`,
    },
    metadata: { [TRUNCATION_NOTE_KEY]: true },
  };
}

/** Apply one iopub message to a cell's outputs. Returns a new state (the input is not mutated);
 * messages that do not change outputs return the same object. */
export function applyOutputMessage(
  state: CellOutputState,
  msg: JupyterMessage,
  limits: OutputLimits = DEFAULT_OUTPUT_LIMITS,
): CellOutputState {
  if (isExecuteInput(msg)) return { ...state, executionCount: msg.content.execution_count ?? state.executionCount };
  if (isClearOutput(msg)) {
    if (msg.content.wait) return { ...state, clearPending: true };
    return { ...emptyCellOutput(), executionCount: state.executionCount };
  }
  if (hasMsgType(msg, "update_display_data")) {
    const c = msg.content;
    const id = c.transient?.display_id;
    if (!id) return state;
    let changed = false;
    const outputs = state.outputs.map((o) => {
      if ((o.output_type === "display_data" || o.output_type === "execute_result") && o.display_id === id) {
        changed = true;
        return { ...o, data: c.data ?? {}, metadata: c.metadata ?? {} };
      }
      return o;
    });
    return changed ? { ...state, outputs, chars: outputs.reduce((n, o) => n + outputSize(o), 0) } : state;
  }
  const output = toOutput(msg);
  if (!output) return state;

  let base = state;
  if (state.clearPending) base = { ...emptyCellOutput(), executionCount: state.executionCount };
  if (isExecuteResult(msg)) base = { ...base, executionCount: msg.content.execution_count ?? base.executionCount };
  if (base.truncated) return base === state ? state : base;

  const size = outputSize(output);
  if (base.chars + size > limits.maxChars) {
    const room = limits.maxChars - base.chars;
    const outputs = base.outputs.slice();
    if (output.output_type === "stream" && room > 0) appendStream(outputs, { ...output, text: output.text.slice(0, room) });
    outputs.push(truncationNote(limits));
    return { ...base, outputs, chars: limits.maxChars, truncated: true };
  }
  const outputs = base.outputs.slice();
  if (output.output_type === "stream") appendStream(outputs, output);
  else outputs.push(output);
  return { ...base, outputs, chars: base.chars + size };
}

/** update_display_data for a whole notebook: every cell showing that display_id is updated, as
 * in Jupyter, where a handle made in one cell can be updated from another. Returns the same
 * object when no cell shows it. */
export function applyDisplayUpdate<T extends Record<string, CellOutputState>>(
  cells: T,
  msg: JupyterMessage,
  limits: OutputLimits = DEFAULT_OUTPUT_LIMITS,
): T {
  let next = cells;
  for (const [cellId, state] of Object.entries(cells)) {
    const after = applyOutputMessage(state, msg, limits);
    if (after !== state) next = { ...next, [cellId]: after };
  }
  return next;
}

function appendStream(outputs: Output[], out: Extract<Output, { output_type: "stream" }>) {
  const last = outputs[outputs.length - 1];
  if (last && last.output_type === "stream" && last.name === out.name) {
    outputs[outputs.length - 1] = { ...last, text: last.text + out.text };
  } else {
    outputs.push(out);
  }
}

function toOutput(msg: JupyterMessage): Output | null {
  if (isStream(msg))
    return { output_type: "stream", name: msg.content.name === "stderr" ? "stderr" : "stdout", text: String(msg.content.text ?? "") };
  if (hasMsgType(msg, "display_data")) {
    const c = msg.content;
    return withDisplayId({ output_type: "display_data", data: c.data ?? {}, metadata: c.metadata ?? {} }, c);
  }
  if (isExecuteResult(msg)) {
    const c = msg.content;
    return withDisplayId(
      { output_type: "execute_result", data: c.data ?? {}, metadata: c.metadata ?? {}, execution_count: c.execution_count ?? null },
      c,
    );
  }
  if (isError(msg)) {
    const c = msg.content;
    return {
      output_type: "error",
      ename: String(c.ename ?? ""),
      evalue: String(c.evalue ?? ""),
      traceback: Array.isArray(c.traceback) ? c.traceback.map(String) : [],
    };
  }
  return null;
}

function withDisplayId<T extends Output>(o: T, c: DisplayDataContent): T {
  const id = c.transient?.display_id;
  return id ? { ...o, display_id: String(id) } : o;
}
