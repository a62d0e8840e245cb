import type { MimeBundle } from "@cellar/protocol";

/** Types that run code: shown only inside the sandboxed output frame (FrameOutput), never in the
 * page. Plotly and Vega specs are data, but rendering them takes a charting library and its
 * script, so they go to the frame as well. */
export const FRAME_MIMES = [
  "application/vnd.plotly.v1+json",
  "application/vnd.vegalite.v5+json",
  "application/vnd.vegalite.v4+json",
  "application/vnd.vega.v5+json",
  "application/javascript",
] as const;

export type FrameMime = (typeof FRAME_MIMES)[number] | "text/html";

/** Richest first. The interactive types come before everything else: plotly and altair send a
 * PNG or text/plain beside their spec for viewers that cannot run it, and that is what we show
 * where there is no frame (the HTML export). Types not listed (widgets) are never rendered.
 * `text/html` is shown in the page after DOMPurify, unless it carries scripts (htmlNeedsFrame). */
export const MIME_PREFERENCE = [
  ...FRAME_MIMES,
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

const JSON_VALUED = new Set<string>(["application/json", ...FRAME_MIMES.filter((m) => m !== "application/javascript")]);

export interface MimeChoiceOptions {
  /** Whether an output frame can be made here (the browser app: yes; the HTML export: no). */
  frames?: boolean;
}

/** The type to show from a bundle; the frame types only when `frames` is set. */
export function chooseMimeType(bundle: MimeBundle, { frames = false }: MimeChoiceOptions = {}): RenderableMime | null {
  for (const mime of MIME_PREFERENCE) {
    const value = bundle[mime];
    if (value === undefined || value === null) continue;
    if (!frames && (FRAME_MIMES as readonly string[]).includes(mime)) continue;
    if (JSON_VALUED.has(mime) ? typeof value !== "object" && typeof value !== "string" : typeof value !== "string" && !Array.isArray(value))
      continue;
    return mime;
  }
  return null;
}

/** HTML that only works with its scripts running (bokeh, folium's map in an iframe, a widget's
 * fallback): shown in the frame, where they may run, rather than sanitised into a husk. Tables
 * and styled pandas output have neither and stay in the page. */
export function htmlNeedsFrame(html: string): boolean {
  return /<(script|iframe)\b/i.test(html);
}

/** Where a chosen type is shown: in the sandboxed frame, or in the page. */
export function needsFrame(mime: RenderableMime, text: string): mime is FrameMime {
  if (mime === "text/html") return htmlNeedsFrame(text);
  return (FRAME_MIMES as readonly string[]).includes(mime);
}

/** nbformat allows multiline strings as arrays of lines. */
export function bundleText(value: unknown): string {
  if (typeof value === "string") return value;
  if (Array.isArray(value)) return value.join("");
  return JSON.stringify(value, null, 2);
}
