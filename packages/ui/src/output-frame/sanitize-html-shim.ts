// Stands in for sanitize-html in the widget runtime's bundle (build-frame.mjs aliases it):
// ipywidgets' ManagerBase uses it only to clean the HTML of widget labels and descriptions, and
// DOMPurify does that in a tenth of the bytes (sanitize-html brings htmlparser2 and postcss).
import DOMPurify from "dompurify";

export default function sanitize(html: string): string {
  return DOMPurify.sanitize(html);
}
