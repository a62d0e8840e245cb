/** @jsxRuntime automatic */
// (The pragma: the gateway renders these under tsx, which applies no tsconfig of this package.)
import { memo, useMemo, useState } from "react";
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

const fmt = (n: number) => n.toLocaleString("en-US");

/** Terminal text: ANSI colours become spans, `\r` redraws a line, and only the tail of very long
 * text is put in the DOM — with buttons to bring the earlier lines back, a page at a time or all. */
export const AnsiText = memo(function AnsiText({
  text,
  className,
  testId,
  limits = DEFAULT_TEXT_LIMITS,
  followTail = false,
}: AnsiTextProps) {
  // How many pages of the limit are shown; Infinity once the user asked for everything.
  const [pages, setPages] = useState(1);
  const { html, cut, shownLines, totalLines } = useMemo(() => {
    const tail =
      pages === Infinity ? streamTail(text, Infinity, Infinity) : streamTail(text, limits.maxLines * pages, limits.maxChars * pages);
    return { html: ansiToHtml(applyCarriageReturns(tail.text)), cut: tail.cut, shownLines: tail.shownLines, totalLines: tail.totalLines };
  }, [text, limits.maxLines, limits.maxChars, pages]);
  // biome-ignore lint/security/noDangerouslySetInnerHtml: ansi_up escapes the text before it adds its colour spans
  const pre = <pre className={className} data-testid={testId} dangerouslySetInnerHTML={{ __html: html }} />;
  const more = Math.min(limits.maxLines, totalLines - shownLines);
  return (
    <>
      {cut && (
        <div className="cellar-output-note cellar-output-more">
          <span data-testid="output-tail-note">{`Showing the last ${fmt(shownLines)} of ${fmt(totalLines)} lines`}</span>
          {more > 0 && (
            <button type="button" className="cellar-link-button" data-testid="output-show-more" onClick={() => setPages((p) => p + 1)}>
              Show {fmt(more)} more
            </button>
          )}
          <button type="button" className="cellar-link-button" data-testid="output-show-all" onClick={() => setPages(Infinity)}>
            Show all {fmt(totalLines)} lines
          </button>
        </div>
      )}
      {followTail ? <div className="cellar-follow-tail">{pre}</div> : pre}
    </>
  );
});
