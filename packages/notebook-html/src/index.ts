export { notebookToHtml, PAGE_POLICY, type HtmlExportOptions, type HtmlNotebook } from "./notebook-html";
