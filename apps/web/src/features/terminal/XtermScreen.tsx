"use client";
import { useEffect, useRef } from "react";
import { Terminal } from "@xterm/xterm";
import { FitAddon } from "@xterm/addon-fit";
import "@xterm/xterm/css/xterm.css";
import type { TerminalHandlers, TerminalSession } from "./terminal-socket";

export type OpenTerminal = (handlers: TerminalHandlers, cols: number, rows: number) => TerminalSession;

/** An xterm.js screen wired to one shell: keys go to the shell, its output is drawn, and the
 * shell's pty follows the screen's size (resizing the page or the panels refits it). Loaded only
 * in the browser: xterm needs a DOM. */
export default function XtermScreen({ open, onEnded }: { open: OpenTerminal; onEnded(reason: string): void }) {
  const box = useRef<HTMLDivElement>(null);
  const ended = useRef(onEnded);
  ended.current = onEnded;

  useEffect(() => {
    const term = new Terminal({
      cursorBlink: true,
      fontSize: 13,
      scrollback: 5000,
      fontFamily: "ui-monospace, Menlo, Consolas, monospace",
    });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.open(box.current!);
    // A hidden tab has no size; fitting it would shrink the pty to nothing.
    const refit = () => {
      if (box.current && box.current.offsetWidth > 0) fit.fit();
    };
    refit();
    const session = open(
      {
        output: (bytes) => term.write(bytes),
        ended: (reason) => {
          term.write(`\r\n[terminal ended: ${reason}]\r\n`);
          ended.current(reason);
        },
      },
      term.cols,
      term.rows,
    );
    const typed = term.onData((data) => session.input(data));
    // The size is on the element too, for whoever needs the screen's size in characters (tests).
    const showSize = () => box.current?.setAttribute("data-size", `${term.rows} ${term.cols}`);
    showSize();
    const resized = term.onResize(({ cols, rows }) => {
      showSize();
      session.resize(cols, rows);
    });
    const observer = new ResizeObserver(refit);
    observer.observe(box.current!);
    term.focus();
    return () => {
      observer.disconnect();
      typed.dispose();
      resized.dispose();
      session.close();
      term.dispose();
    };
  }, [open]);

  return <div ref={box} className="terminal-screen" data-testid="terminal-screen" />;
}
