export { CellEditor, type CellEditorProps, type CellLanguage, type RunMode } from "./editor/CellEditor";
export { OutputArea, OutputView, ErrorOutput, TruncationNotice, type OutputAreaProps } from "./outputs/OutputArea";
export { MimeBundleOutput, type MimeBundleOutputProps } from "./outputs/MimeBundleOutput";
export { AnsiText, DEFAULT_TEXT_LIMITS, type AnsiTextProps, type TextLimits } from "./outputs/AnsiText";
export { MarkdownView, type MarkdownViewProps } from "./markdown/MarkdownView";
export { ansiToHtml } from "./outputs/ansi";
export { sanitizeHtml, sanitizeSvg, renderMarkdown } from "./outputs/sanitize";
export { chooseMimeType, bundleText, MIME_PREFERENCE, type RenderableMime } from "./outputs/mime";
export { streamTail, applyCarriageReturns, countLines, type StreamTail } from "./outputs/stream-tail";
