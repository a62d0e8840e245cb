// Markdown as Jupyter renders it: GitHub-flavoured, `$…$` / `$$…$$` math typeset by KaTeX, fenced
// code highlighted. The result is sanitised by the caller's sanitiser, never trusted as is.
import { Marked } from "marked";
import markedKatex from "marked-katex-extension";
import { markedHighlight } from "marked-highlight";
import hljs from "highlight.js/lib/core";
import python from "highlight.js/lib/languages/python";
import bash from "highlight.js/lib/languages/bash";
import json from "highlight.js/lib/languages/json";
import javascript from "highlight.js/lib/languages/javascript";
import typescript from "highlight.js/lib/languages/typescript";
import sql from "highlight.js/lib/languages/sql";
import yaml from "highlight.js/lib/languages/yaml";
import xml from "highlight.js/lib/languages/xml";
import plaintext from "highlight.js/lib/languages/plaintext";

// Only the languages notebooks usually quote: the full highlight.js set would triple the bundle.
for (const [name, lang] of Object.entries({ python, bash, json, javascript, typescript, sql, yaml, xml, plaintext })) {
  hljs.registerLanguage(name, lang);
}
hljs.registerAliases(["py", "ipython", "python3"], { languageName: "python" });
hljs.registerAliases(["sh", "shell", "console"], { languageName: "bash" });
hljs.registerAliases(["html"], { languageName: "xml" });

const marked = new Marked(
  markedHighlight({
    emptyLangClass: "hljs",
    langPrefix: "hljs language-",
    highlight: (code, lang) => highlightCode(code, lang),
  }),
  // nonStandard: Jupyter users write `$x$` glued to words ("the $n$-th"), which strict mode skips.
  markedKatex({ throwOnError: false, nonStandard: true }),
);

/** Code highlighted by the same highlight.js languages as fenced code in markdown (escaped HTML
 * spans; plain text for a language it does not know). */
export function highlightCode(code: string, language: string): string {
  return hljs.highlight(code, { language: hljs.getLanguage(language) ? language : "plaintext" }).value;
}

/** Markdown to HTML (unsanitised). */
export function markdownToHtml(markdown: string): string {
  return marked.parse(markdown, { async: false, gfm: true }) as string;
}
