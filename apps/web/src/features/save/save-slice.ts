// Whether the gateway has every edit: the title's autosave and the shared document's flush
// report here (use-autosave.ts).
import type { StateCreator } from "zustand/vanilla";
import type { NotebookState } from "../notebook/notebook-store";

/** `offline`: the gateway cannot be reached; edits are kept in this browser until it can. */
export type SaveState = "saved" | "saving" | "unsaved" | "offline";

export interface SaveSlice {
  save: { state: SaveState; error?: string };

  setSaveState(state: SaveState, error?: string): void;
}

export const createSaveSlice: StateCreator<NotebookState, [], [], SaveSlice> = (set) => ({
  save: { state: "saved" },

  setSaveState: (state, error) => set({ save: { state, error } }),
});
