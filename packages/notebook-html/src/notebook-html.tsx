/** @jsxRuntime automatic */
// (The pragma: the gateway loads this under tsx, which applies no tsconfig of this package.)
//
// A notebook as one self-contained HTML file: the app's own renderers (@cellar/ui) rendered to
// static markup, kernel HTML sanitised by DOMPurify in a jsdom window, images as data: URIs, one
// inline stylesheet, and a Content-Security-Policy that forbids scripts and every fetch even if
// something slipped through.
import { JSDOM } from "jsdom";
import { renderToStaticMarkup } from "react-dom/server";
import type { Cell, MimeBundle, Notebook } from "@cellar/protocol";
import { highlightCode, OutputArea, renderMarkdown, sanitizeInWindow } from "@cellar/ui/static";
import { pageCss } from "./page-css";

export type HtmlNotebook = Pick<Notebook, "title" | "cells" | "metadata">;

export interface HtmlExportOptions {
  /** A line under the title (a run's status and time, say). */
  subtitle?: string;
}

/** Read by the browser opening the file: nothing may run, nothing is fetched, styles are inline. */
export const PAGE_POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:";

let sanitizerReady = false;

function readySanitizer(): void {
  if (sanitizerReady) return;
  // One window for the process: DOMPurify only parses into it, nothing is kept between calls.
  sanitizeInWindow(new JSDOM("").window as unknown as Parameters<typeof sanitizeInWindow>[0]);
  sanitizerReady = true;
}

/** The whole file, `<!doctype html>` included. */
export function notebookToHtml(notebook: HtmlNotebook, options: HtmlExportOptions = {}): string {
  readySanitizer();
  const language = languageOf(notebook.metadata ?? {});
  const page = (
    <html lang="en">
      <head>
        <meta charSet="utf-8" />
        <meta httpEquiv="Content-Security-Policy" content={PAGE_POLICY} />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="generator" content="Cellar" />
        <title>{notebook.title}</title>
        <style>{pageCss()}</style>
      </head>
      <body>
        <main>
          <header className="nbh-header">
            <h1>{notebook.title}</h1>
            {options.subtitle && <p>{options.subtitle}</p>}
          </header>
          {notebook.cells.map((cell) => (
            <CellView key={cell.id} cell={cell} language={language} />
          ))}
        </main>
      </body>
    </html>
  );
  return `<!doctype html>\n${renderToStaticMarkup(page)}\n`;
}

function CellView({ cell, language }: { cell: Cell; language: string }) {
  switch (cell.cell_type) {
    case "markdown":
      return (
        <section className="nbh-cell nbh-markdown" data-cell-type="markdown">
          <div className="nbh-prompt" />
          <div className="nbh-body cellar-markdown">
            <HtmlBlock html={renderMarkdown(withAttachments(cell.source, cell.attachments))} />
          </div>
        </section>
      );
    case "raw":
      return (
        <section className="nbh-cell nbh-raw-cell" data-cell-type="raw">
          <div className="nbh-prompt" />
          <div className="nbh-body">
            <pre className="nbh-raw">{cell.source}</pre>
          </div>
        </section>
      );
    case "code":
      return (
        <section className="nbh-cell nbh-code" data-cell-type="code">
          <div className="nbh-prompt">In [{cell.execution_count ?? " "}]:</div>
          <div className="nbh-body">
            <Source code={cell.source} language={language} />
            <OutputArea outputs={cell.outputs} />
          </div>
        </section>
      );
  }
}

function Source({ code, language }: { code: string; language: string }) {
  const html = highlightCode(code, language);
  // biome-ignore lint/security/noDangerouslySetInnerHtml: highlight.js escapes the source before it adds its spans
  return <pre className={`nbh-source hljs language-${language}`} dangerouslySetInnerHTML={{ __html: html }} />;
}

function HtmlBlock({ html }: { html: string }) {
  // biome-ignore lint/security/noDangerouslySetInnerHtml: renderMarkdown's output is sanitised with DOMPurify
  return <div dangerouslySetInnerHTML={{ __html: html }} />;
}

/** nbformat's language_info (or kernelspec) names the code cells' language; Python otherwise. */
function languageOf(metadata: Record<string, unknown>): string {
  const info = metadata.language_info as { name?: unknown } | undefined;
  const spec = metadata.kernelspec as { language?: unknown } | undefined;
  const name = typeof info?.name === "string" ? info.name : typeof spec?.language === "string" ? spec.language : "python";
  return name.toLowerCase();
}

/** Markdown's `attachment:name` images (pasted into the cell) point at the cell's attachments;
 * a file has no such URLs, so they become data: URIs of the attached image. */
function withAttachments(source: string, attachments: Cell["attachments"]): string {
  if (!attachments) return source;
  return source.replace(/attachment:([^\s)"'>]+)/g, (whole, name: string) => {
    const bundle: MimeBundle | undefined = attachments[decodeURIComponent(name)];
    const mime = bundle && Object.keys(bundle).find((m) => m.startsWith("image/"));
    if (!bundle || !mime) return whole;
    const data = bundle[mime];
    const text = Array.isArray(data) ? data.join("") : String(data);
    // nbformat keeps SVG as its text and other images as (line-wrapped) base64.
    const base64 = mime === "image/svg+xml" ? Buffer.from(text).toString("base64") : text.replace(/\s+/g, "");
    return `data:${mime};base64,${base64}`;
  });
}
