import { AnsiUp } from "ansi_up";

/** Kernel text (tracebacks, coloured prints) carries ANSI escape codes. Turn them into escaped
 * HTML spans; a fresh converter per call because AnsiUp keeps colour state between calls. */
export function ansiToHtml(text: string): string {
  const converter = new AnsiUp();
  converter.use_classes = true;
  converter.escape_html = true;
  return converter.ansi_to_html(text);
}
