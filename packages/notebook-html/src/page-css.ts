// The page's one <style>: @cellar/ui's stylesheet as the app loads it (its @imports of KaTeX's and
// highlight.js's CSS inlined), then the layout of a page that has no app around it. Read once.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

// KaTeX's fonts are files beside its CSS; a downloaded page cannot reach them, and the browser's
// own serif font is close enough, so its @font-face rules are left out rather than sent dangling.
const FONT_FACE = /@font-face\s*\{[^}]*\}/g;
const IMPORT = /@import\s+"([^"]+)"\s*;[^\n]*\n?/g;

function inlineImports(path: string): string {
  const from = createRequire(path);
  return readFileSync(path, "utf8").replace(
    IMPORT,
    (_, spec: string) => `${readFileSync(from.resolve(spec), "utf8").replace(FONT_FACE, "")}\n`,
  );
}

const PAGE = `
body { margin: 0; background: #fff; color: var(--cellar-text); font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main { max-width: 960px; margin: 0 auto; padding: 24px 20px 48px; }
header.nbh-header { border-bottom: 1px solid var(--cellar-border); margin-bottom: 20px; padding-bottom: 8px; }
header.nbh-header h1 { margin: 0; font-size: 1.6em; }
header.nbh-header p { margin: 4px 0 0; color: var(--cellar-muted); font-size: 13px; }
.nbh-cell { display: grid; grid-template-columns: 64px minmax(0, 1fr); gap: 4px 8px; margin: 0 0 14px; }
.nbh-prompt { grid-column: 1; color: var(--cellar-muted); font: 12px/1.9 var(--cellar-mono); text-align: right; white-space: nowrap; }
.nbh-body { grid-column: 2; min-width: 0; display: flex; flex-direction: column; gap: 6px; }
.nbh-source { margin: 0; padding: 8px 10px; background: var(--cellar-code-bg); border: 1px solid var(--cellar-border); border-radius: 6px;
  font: 13px/1.5 var(--cellar-mono); white-space: pre-wrap; word-break: break-word; overflow-x: auto; }
.nbh-raw { margin: 0; font: 13px/1.5 var(--cellar-mono); white-space: pre-wrap; }
/* A file has no scripts: the whole text scrolls with the page, and "show more" buttons could not work. */
.cellar-follow-tail { max-height: none; }
.cellar-output-more button { display: none; }
`;

let css: string | null = null;

export function pageCss(): string {
  css ??= `${inlineImports(require.resolve("@cellar/ui/styles.css"))}\n${PAGE}`;
  return css;
}
