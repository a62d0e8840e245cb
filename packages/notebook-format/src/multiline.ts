// nbformat lets text be one string or a list of lines. Cellar keeps one string and writes lists,
// as Jupyter does, so files it exports diff cleanly against files Jupyter wrote.
import type { MultilineString } from "./ipynb";

export function joinLines(value: MultilineString): string {
  return Array.isArray(value) ? value.join("") : value;
}

/** Lines with their line endings kept; "" becomes no lines. */
export function splitLines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

/** JSON mime types (application/json, application/vnd.foo+json) hold objects, not text. */
export function isJsonMime(mime: string): boolean {
  return mime === "application/json" || mime.endsWith("+json");
}

/** Mime bundle values that are text get written as lists of lines; images stay one string,
 * because that is how Jupyter writes them. */
const SPLIT_NON_TEXT = new Set(["application/javascript", "image/svg+xml"]);

export function joinBundle(bundle: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [mime, value] of Object.entries(bundle)) {
    out[mime] = !isJsonMime(mime) && Array.isArray(value) && value.every((v) => typeof v === "string") ? value.join("") : value;
  }
  return out;
}

export function splitBundle(bundle: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [mime, value] of Object.entries(bundle)) {
    out[mime] = typeof value === "string" && (mime.startsWith("text/") || SPLIT_NON_TEXT.has(mime)) ? splitLines(value) : value;
  }
  return out;
}
