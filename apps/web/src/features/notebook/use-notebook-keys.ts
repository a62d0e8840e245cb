"use client";
import { useEffect } from "react";
import type { NotebookStore } from "./notebook-store";
import type { NotebookCommands } from "./notebook-commands";
import { CommandKeymap, globalCommandFor } from "./command-keymap";

/** Jupyter's keyboard: Ctrl+S and Ctrl+F anywhere on the page; command-mode keys whenever focus
 * is not in something that takes typing (an editor, the title, the find bar) or in a dialog. */
export function useNotebookKeys(store: NotebookStore, commands: NotebookCommands, saveNow: () => Promise<void>): void {
  useEffect(() => {
    const keymap = new CommandKeymap();
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented || e.isComposing) return;
      const global = globalCommandFor(e);
      if (global === "save") {
        e.preventDefault();
        void saveNow();
        return;
      }
      if (global === "find") {
        e.preventDefault();
        store.getState().setFindOpen(true);
        return;
      }
      if (store.getState().confirmation) return;
      const target = e.target instanceof HTMLElement ? e.target : null;
      if (target && takesKeys(target, e.key)) return;
      const name = keymap.commandFor(e);
      if (name && commands.execute(name)) e.preventDefault();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [store, commands, saveNow]);
}

function takesKeys(el: HTMLElement, key: string): boolean {
  if (el.isContentEditable) return true;
  if (el.closest("input, textarea, select, dialog, [role=search]")) return true;
  // Enter and Space press a focused button or link (the drag handle: keyboard drag).
  return (key === "Enter" || key === " ") && Boolean(el.closest("button, a[href], summary"));
}
