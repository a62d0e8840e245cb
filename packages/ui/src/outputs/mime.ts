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

/** An ipywidget's view (`{model_id, version_major, version_minor}`): drawn by the widget runtime
 * of the output frame, and only where the page also has a widget hub (WidgetHubProvider) to give
 * the frame the models' state and relay their comms. Never in the page: a widget's HTML, Markdown
 * and labels are the kernel's, and ipywidgets writes them as HTML. */
export const WIDGET_VIEW = "application/vnd.jupyter.widget-view+json";

export type FrameMime = (typeof FRAME_MIMES)[number] | typeof WIDGET_VIEW | "text/html";

/** Richest first. The interactive types come before everything else: a widget's view comes with
 * a text/plain repr, and plotly and altair send a PNG or text/plain beside their spec for viewers
 * that cannot run it, and that is what we show where there is no frame (the HTML export) or no
 * widget hub. `text/html` is shown in the page after DOMPurify, unless it carries scripts
 * (htmlNeedsFrame). */
export const MIME_PREFERENCE = [
  WIDGET_VIEW,
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

const JSON_VALUED = new Set<string>([WIDGET_VIEW, "application/json", ...FRAME_MIMES.filter((m) => m !== "application/javascript")]);

export interface MimeChoiceOptions {
  /** Whether an output frame can be made here (the browser app: yes; the HTML export: no). */
  frames?: boolean;
  /** Whether widget views can be drawn here (frames and a widget hub: a notebook's page). */
  widgets?: boolean;
}

/** The type to show from a bundle; the frame types only when `frames` is set, a widget view only
 * with `widgets` too. */
export function chooseMimeType(bundle: MimeBundle, { frames = false, widgets = false }: MimeChoiceOptions = {}): RenderableMime | null {
  for (const mime of MIME_PREFERENCE) {
    const value = bundle[mime];
    if (value === undefined || value === null) continue;
    if (mime === WIDGET_VIEW && !(frames && widgets)) continue;
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
  if (mime === WIDGET_VIEW) return true;
  return (FRAME_MIMES as readonly string[]).includes(mime);
}

/** nbformat allows multiline strings as arrays of lines. */
export function bundleText(value: unknown): string {
  if (typeof value === "string") return value;
  if (Array.isArray(value)) return value.join("");
  return JSON.stringify(value, null, 2);
}
