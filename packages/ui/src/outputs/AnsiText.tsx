import { memo, useMemo } from "react";
import { ansiToHtml } from "./ansi";
import { applyCarriageReturns, streamTail } from "./stream-tail";

export interface TextLimits {
  /** Lines rendered at most; older lines are left out with a note. */
  maxLines: number;
  maxChars: number;
}

export const DEFAULT_TEXT_LIMITS: TextLimits = { maxLines: 5_000, maxChars: 500_000 };

export interface AnsiTextProps {
  text: string;
  className?: string;
  testId?: string;
  limits?: TextLimits;
  /** Scroll box that stays pinned to the newest line (for streams that keep growing). */
  followTail?: boolean;
}

/** Terminal text: ANSI colours become spans, `\r` redraws a line, and only the tail of very long
 * text is put in the DOM. */
export const AnsiText = memo(function AnsiText({ text, className, testId, limits = DEFAULT_TEXT_LIMITS, followTail = false }: AnsiTextProps) {
  const { html, note } = useMemo(() => {
    const tail = streamTail(text, limits.maxLines, limits.maxChars);
    const note = tail.cut
      ? `Showing the last ${tail.shownLines.toLocaleString("en-US")} of ${tail.totalLines.toLocaleString("en-US")} lines`
      : null;
    return { html: ansiToHtml(applyCarriageReturns(tail.text)), note };
  }, [text, limits.maxLines, limits.maxChars]);
  const pre = <pre className={className} data-testid={testId} dangerouslySetInnerHTML={{ __html: html }} />;
  return (
    <>
      {note && <div className="cellar-output-note" data-testid="output-tail-note">{note}</div>}
      {followTail ? <div className="cellar-follow-tail">{pre}</div> : pre}
    </>
  );
});
