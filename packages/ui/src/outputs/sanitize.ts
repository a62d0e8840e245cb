import DOMPurify from "dompurify";
import { markdownToHtml } from "../markdown/render-markdown";
import { latexToHtml } from "./latex";

// Outside a browser (static prerender) DOMPurify cannot sanitise and would hand back its input;
// fail closed instead, the real render happens in the browser — unless a server hands a window
// of its own (jsdom) to sanitise in, as the notebook's HTML export does.
let serverPurifier: ReturnType<typeof DOMPurify> | null = null;

function purifier() {
  if (DOMPurify.isSupported) return DOMPurify;
  return serverPurifier?.isSupported ? serverPurifier : null;
}

/** Outside a browser: sanitise in this window (a jsdom one) instead of refusing everything. */
export function sanitizeInWindow(window: Parameters<typeof DOMPurify>[0]): void {
  serverPurifier = DOMPurify(window);
}

/** HTML from a kernel or a markdown cell, safe to insert: no scripts, no event handlers, no
 * javascript: URLs. */
export function sanitizeHtml(html: string): string {
  const p = purifier();
  if (!p) return "";
  return p.sanitize(html, { ADD_ATTR: ["target"], FORBID_TAGS: ["form"] });
}

export function sanitizeSvg(svg: string): string {
  const p = purifier();
  if (!p) return "";
  return p.sanitize(svg, { USE_PROFILES: { svg: true, svgFilters: true } });
}

/** Markdown to sanitised HTML (GitHub-flavoured with KaTeX math, as Jupyter renders it). */
export function renderMarkdown(markdown: string): string {
  return sanitizeHtml(markdownToHtml(markdown));
}

/** A text/latex output typeset by KaTeX, sanitised like any kernel HTML. */
export function renderLatex(latex: string): string {
  return sanitizeHtml(latexToHtml(latex));
}
