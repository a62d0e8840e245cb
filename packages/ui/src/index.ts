export { CellEditor, type CellEditorProps, type CellLanguage, type RunMode } from "./editor/CellEditor";
export type { SearchMatch } from "./editor/search-highlight";
export { JsonOutput, type JsonOutputProps } from "./outputs/JsonOutput";
export { OutputArea, OutputView, ErrorOutput, TruncationNotice, type OutputAreaProps } from "./outputs/OutputArea";
export { PlacementOutput, isPlacementOutput } from "./outputs/PlacementOutput";
export { MimeBundleOutput, type MimeBundleOutputProps } from "./outputs/MimeBundleOutput";
export { AnsiText, DEFAULT_TEXT_LIMITS, type AnsiTextProps, type TextLimits } from "./outputs/AnsiText";
export { MarkdownView, type MarkdownViewProps } from "./markdown/MarkdownView";
export { ansiToHtml } from "./outputs/ansi";
export { sanitizeHtml, sanitizeSvg, sanitizeInWindow, renderMarkdown, renderLatex } from "./outputs/sanitize";
export { highlightCode } from "./markdown/render-markdown";
export {
  chooseMimeType,
  bundleText,
  htmlNeedsFrame,
  needsFrame,
  FRAME_MIMES,
  MIME_PREFERENCE,
  type MimeChoiceOptions,
  type RenderableMime,
} from "./outputs/mime";
export {
  FrameOutput,
  OutputFrameProvider,
  useOutputFrames,
  useWidgetHub,
  WidgetHubProvider,
  type FrameOutputProps,
  type OutputFrameSettings,
} from "./outputs/FrameOutput";
export {
  widgetSendFrom,
  type FrameCommMessage,
  type FrameWidgetSendMessage,
  type PageToFrameWidgetMessage,
  type WidgetFrameHub,
  type WidgetFrameLink,
} from "./output-frame/widget-messages";
export { frameMessageFrom, MAX_FRAME_HEIGHT, type FrameRenderMessage, type FrameToPageMessage } from "./output-frame/messages";
export { streamTail, applyCarriageReturns, countLines, type StreamTail } from "./outputs/stream-tail";
export type { EditorAssist, EditorCompletions, EditorHint } from "./editor/kernel-assist";
