import type { MimeBundle } from "@cellar/protocol";

/** Richest first. Types not listed (application/javascript, widgets) are never rendered: they
 * would run code in the page. */
export const MIME_PREFERENCE = [
  "image/png",
  "image/jpeg",
  "image/gif",
  "image/svg+xml",
  "text/html",
  "text/markdown",
  "text/latex",
  "application/json",
  "text/plain",
] as const;

export type RenderableMime = (typeof MIME_PREFERENCE)[number];

export function chooseMimeType(bundle: MimeBundle): RenderableMime | null {
  for (const mime of MIME_PREFERENCE) {
    const value = bundle[mime];
    if (value === undefined || value === null) continue;
    if (mime !== "application/json" && typeof value !== "string" && !Array.isArray(value)) continue;
    return mime;
  }
  return null;
}

/** nbformat allows multiline strings as arrays of lines. */
export function bundleText(value: unknown): string {
  if (typeof value === "string") return value;
  if (Array.isArray(value)) return value.join("");
  return JSON.stringify(value, null, 2);
}
