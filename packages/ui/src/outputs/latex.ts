// text/latex outputs (IPython's Math, Latex, sympy): typeset with KaTeX the way Jupyter's MathJax
// does, i.e. the string is LaTeX with its own delimiters.
import katex from "katex";
import { markdownToHtml } from "../markdown/render-markdown";

const WRAPPED: Array<[RegExp, boolean]> = [
  [/^\$\$([\s\S]+)\$\$$/, true],
  [/^\\\[([\s\S]+)\\\]$/, true],
  [/^\$([\s\S]+)\$$/, false],
  [/^\\\(([\s\S]+)\\\)$/, false],
];

/** LaTeX to HTML (unsanitised). A formula wrapped in one pair of delimiters, or a bare
 * environment (`\begin{align}…`), is typeset whole; anything else is text with inline math. */
export function latexToHtml(latex: string): string {
  const text = latex.trim();
  for (const [pattern, displayMode] of WRAPPED) {
    const m = pattern.exec(text);
    if (m && !hasDelimiterInside(m[1])) return typeset(m[1], displayMode);
  }
  if (text.startsWith("\\begin{")) return typeset(text, true);
  return markdownToHtml(text);
}

function hasDelimiterInside(body: string): boolean {
  return /(^|[^\\])\$/.test(body);
}

function typeset(tex: string, displayMode: boolean): string {
  // throwOnError false: a formula KaTeX cannot parse shows its source in red instead of nothing.
  return katex.renderToString(tex, { displayMode, throwOnError: false, output: "htmlAndMathml" });
}
