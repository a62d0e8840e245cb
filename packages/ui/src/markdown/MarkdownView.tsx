import { memo, useMemo } from "react";
import { renderMarkdown } from "../outputs/sanitize";

export interface MarkdownViewProps {
  source: string;
  onDoubleClick?: () => void;
  /** Shown when the source is empty, so an empty cell is still something to click. */
  placeholder?: string;
}

export const MarkdownView = memo(function MarkdownView({
  source,
  onDoubleClick,
  placeholder = "Double-click to write markdown",
}: MarkdownViewProps) {
  const html = useMemo(() => renderMarkdown(source), [source]);
  const empty = source.trim() === "";
  return (
    <div className="cellar-markdown cellar-markdown-rendered" data-testid="markdown-rendered" onDoubleClick={onDoubleClick}>
      {empty ? (
        <p className="cellar-placeholder">{placeholder}</p>
      ) : (
        // biome-ignore lint/security/noDangerouslySetInnerHtml: renderMarkdown's output is sanitised with DOMPurify
        <div dangerouslySetInnerHTML={{ __html: html }} />
      )}
    </div>
  );
});
