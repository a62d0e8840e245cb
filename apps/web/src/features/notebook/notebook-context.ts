"use client";
import { createContext, useContext } from "react";
import { useStore } from "zustand";
import type { NotebookState, NotebookStore } from "./notebook-store";
import type { NotebookCommands } from "./notebook-commands";
import type { KernelConnection } from "../kernel/kernel-socket";
import type { SharedNotebook } from "../collab/shared-notebook";

export interface NotebookContextValue {
  store: NotebookStore;
  commands: NotebookCommands;
  saveNow: () => Promise<void>;
  /** Completion, inspection and input() answers; absent where no kernel is connected (tests). */
  kernel?: Pick<KernelConnection, "assist" | "answerInput" | "openTerminal" | "cancelQueued">;
  /** The shared document the editors bind to; absent in tests without a gateway. */
  shared?: SharedNotebook;
}

export const NotebookContext = createContext<NotebookContextValue | null>(null);

export function useNotebookContext(): NotebookContextValue {
  const value = useContext(NotebookContext);
  if (!value) throw new Error("useNotebookContext outside a notebook page");
  return value;
}

/** Read from the open notebook's store; re-renders only when the selected value changes. */
export function useNotebookState<T>(selector: (s: NotebookState) => T): T {
  return useStore(useNotebookContext().store, selector);
}
