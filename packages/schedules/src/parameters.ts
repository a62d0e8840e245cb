// A parameter's value as typed on a command line (`cellar schedule create … -p alpha 0.5`), read
// the way papermill reads `-p`: True/False/None, an int, a float, else the text itself. Also
// true/false/null, a JSON list or object, and a JSON-quoted string ('"0.5"' is the text 0.5).
// Values are kept as JSON, so what JSON cannot hold is refused rather than changed: NaN and
// infinities, integers past 2^53. JSON has one kind of number: 1.0 arrives in Python as 1.
import type { JsonValue } from "@cellar/protocol";

export class ParameterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ParameterError";
  }
}

const WORDS: Record<string, JsonValue> = { True: true, true: true, False: false, false: false, None: null, null: null };
const INT = /^[+-]?\d+(_\d+)*$/;
const FLOAT = /^[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?$/;
const NOT_FINITE = /^[+-]?(nan|inf|infinity)$/i;

export function parseParameterValue(text: string): JsonValue {
  const t = text.trim();
  if (Object.hasOwn(WORDS, t)) return WORDS[t];
  if (INT.test(t)) {
    const n = Number(t.replaceAll("_", ""));
    if (!Number.isSafeInteger(n)) throw new ParameterError(`${text} is too large an integer to keep exactly; ${quoteHint(text)}`);
    return n;
  }
  if (FLOAT.test(t)) {
    const n = Number(t);
    if (!Number.isFinite(n)) throw new ParameterError(`${text} is too large a number; ${quoteHint(text)}`);
    return n;
  }
  if (NOT_FINITE.test(t)) throw new ParameterError(`${text} cannot be kept as JSON (no NaN or infinity); ${quoteHint(text)}`);
  if (t.startsWith("[") || t.startsWith("{") || (t.startsWith('"') && t.endsWith('"') && t.length > 1)) {
    try {
      return JSON.parse(t) as JsonValue;
    } catch (error) {
      throw new ParameterError(`${text} is not valid JSON (${(error as Error).message}); ${quoteHint(text)}`);
    }
  }
  return text;
}

const quoteHint = (text: string) => `to pass it as text, quote it as JSON: '${JSON.stringify(text)}'`;
