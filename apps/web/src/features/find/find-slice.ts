// Find and replace: whether the bar is open and what every cell highlights.
import type { StateCreator } from "zustand/vanilla";
import type { NotebookState } from "../notebook/notebook-store";

/** Find in the notebook: what to highlight in every cell, and the match the user is on. */
export interface SearchHighlight {
  pattern: RegExp | null;
  current: { cellId: string; from: number; to: number } | null;
}

export interface FindSlice {
  findOpen: boolean;
  search: SearchHighlight;

  /** Closing it clears the highlights. */
  setFindOpen(open: boolean): void;
  setSearch(search: SearchHighlight): void;
}

export const createFindSlice: StateCreator<NotebookState, [], [], FindSlice> = (set) => ({
  findOpen: false,
  search: { pattern: null, current: null },

  setFindOpen: (findOpen) => set(findOpen ? { findOpen } : { findOpen, search: { pattern: null, current: null } }),
  setSearch: (search) => set({ search }),
});
