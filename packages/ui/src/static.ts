// The renderers without the editor (no CodeMirror, nothing that needs a browser to load), for
// rendering a notebook outside the browser: @cellar/notebook-html's static HTML export.
export { OutputArea, type OutputAreaProps } from "./outputs/OutputArea";
export { renderMarkdown, sanitizeHtml, sanitizeInWindow } from "./outputs/sanitize";
export { highlightCode } from "./markdown/render-markdown";
