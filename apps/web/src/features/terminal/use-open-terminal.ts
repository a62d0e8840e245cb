"use client";
import { useMemo } from "react";
import { useNotebookContext } from "../notebook/notebook-context";
import type { OpenTerminal } from "./XtermScreen";

/** How a terminal tab opens its shell: a TerminalSession on the socket the notebook's kernel
 * connection holds (the gateway serves terminals only to sockets that opened the notebook).
 * `null` where the page has no kernel connection. */
export function useOpenTerminal(): OpenTerminal | null {
  const { kernel } = useNotebookContext();
  return useMemo<OpenTerminal | null>(
    () => (kernel ? (handlers, cols, rows) => kernel.openTerminal(handlers, cols, rows) : null),
    [kernel],
  );
}
