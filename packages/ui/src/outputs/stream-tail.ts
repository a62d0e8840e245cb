export interface StreamTail {
  text: string;
  totalLines: number;
  shownLines: number;
  /** True when the start of the stream was left out. */
  cut: boolean;
}

/** The last `maxLines` lines (and at most `maxChars` characters) of a stream, so printing a
 * million lines renders as fast as printing a few thousand. Scans backwards from the end only. */
export function streamTail(text: string, maxLines: number, maxChars: number): StreamTail {
  let start = 0;
  let newlines = 0;
  let from = text.endsWith("\n") ? text.length - 2 : text.length - 1;
  while (from >= 0) {
    const nl = text.lastIndexOf("\n", from);
    if (nl < 0) break;
    newlines += 1; // the text after the k-th newline from the end holds k lines
    if (newlines >= maxLines || text.length - nl - 1 >= maxChars) {
      start = nl + 1;
      break;
    }
    from = nl - 1;
  }
  if (text.length - start > maxChars) {
    start = text.length - maxChars;
    const nextLine = text.indexOf("\n", start);
    if (nextLine >= 0 && nextLine < text.length - 1) start = nextLine + 1;
  }
  if (start === 0) {
    const lines = countLines(text);
    return { text, totalLines: lines, shownLines: lines, cut: false };
  }
  const shown = text.slice(start);
  return { text: shown, totalLines: countLines(text), shownLines: countLines(shown), cut: true };
}

export function countLines(text: string): number {
  if (!text) return 0;
  let n = 0;
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) n += 1;
  return text.endsWith("\n") ? n : n + 1;
}

/** Progress bars print `\r` to redraw a line; a terminal shows only the last redraw. */
export function applyCarriageReturns(text: string): string {
  if (!text.includes("\r")) return text;
  return text
    .replace(/\r\n/g, "\n")
    .split("\n")
    .map((line) => {
      const trimmed = line.replace(/\r+$/, "");
      const i = trimmed.lastIndexOf("\r");
      return i >= 0 ? trimmed.slice(i + 1) : trimmed;
    })
    .join("\n");
}
