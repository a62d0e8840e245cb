// Jupyter's command-mode keys (the keys that act on cells while no editor has focus), as a pure
// mapping from key presses to command names so the behaviour is testable without a browser.

export type NotebookCommandName =
  | "enter-edit"
  | "command-mode"
  | "run-advance"
  | "run-in-place"
  | "run-insert-below"
  | "select-previous"
  | "select-next"
  | "extend-previous"
  | "extend-next"
  | "insert-above"
  | "insert-below"
  | "delete"
  | "undo-delete"
  | "to-markdown"
  | "to-code"
  | "to-raw"
  | "copy"
  | "cut"
  | "paste-below"
  | "paste-above"
  | "interrupt"
  | "find"
  | "save";

export interface KeyPress {
  key: string;
  shiftKey?: boolean;
  ctrlKey?: boolean;
  metaKey?: boolean;
  altKey?: boolean;
}

/** Presses of a two-key command (D D, I I) count as one when this close together, as in JupyterLab. */
export const DOUBLE_PRESS_MS = 800;

/** Keys that act in both modes (an editor has focus or not). */
export function globalCommandFor(e: KeyPress): NotebookCommandName | null {
  const mod = e.ctrlKey || e.metaKey;
  if (mod && !e.altKey && !e.shiftKey && e.key.toLowerCase() === "s") return "save";
  if (mod && !e.altKey && !e.shiftKey && e.key.toLowerCase() === "f") return "find";
  return null;
}

/** Tracks the previous press so D D and I I work; everything else is a single key. */
export class CommandKeymap {
  private last: { key: string; at: number } | null = null;

  commandFor(e: KeyPress, now = Date.now()): NotebookCommandName | null {
    const global = globalCommandFor(e);
    if (global) return this.done(global);
    const mod = e.ctrlKey || e.metaKey;
    if (e.key === "Enter") {
      if (e.shiftKey && !mod && !e.altKey) return this.done("run-advance");
      if (mod && !e.shiftKey && !e.altKey) return this.done("run-in-place");
      if (e.altKey && !mod && !e.shiftKey) return this.done("run-insert-below");
      if (!e.shiftKey && !mod && !e.altKey) return this.done("enter-edit");
      return this.done(null);
    }
    if (mod || e.altKey) return this.done(null);
    const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
    if (key === "ArrowUp" || key === "k") return this.done(e.shiftKey ? "extend-previous" : "select-previous");
    if (key === "ArrowDown" || key === "j") return this.done(e.shiftKey ? "extend-next" : "select-next");
    if (key === "Escape") return this.done("command-mode");
    if (e.shiftKey) return this.done(key === "v" ? "paste-above" : null);
    if (key === "d" || key === "i") {
      const double = this.last?.key === key && now - this.last.at <= DOUBLE_PRESS_MS;
      if (double) return this.done(key === "d" ? "delete" : "interrupt");
      this.last = { key, at: now };
      return null;
    }
    const single: Record<string, NotebookCommandName> = {
      a: "insert-above",
      b: "insert-below",
      z: "undo-delete",
      m: "to-markdown",
      y: "to-code",
      r: "to-raw",
      c: "copy",
      x: "cut",
      v: "paste-below",
    };
    return this.done(single[key] ?? null);
  }

  private done(command: NotebookCommandName | null): NotebookCommandName | null {
    this.last = null;
    return command;
  }
}
