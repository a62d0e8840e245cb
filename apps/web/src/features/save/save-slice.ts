// Whether the gateway has every edit (autosave reports here), and edits from this browser that a
// newer save elsewhere overtook (local-drafts.ts), offered back to the user.
import type { StateCreator } from "zustand/vanilla";
import { emptyCellOutput } from "@cellar/protocol";
import type { NotebookState } from "../notebook/notebook-store";
import { cellDocsFrom, documentEdit } from "../notebook/document-slice";
import type { Draft } from "./local-drafts";

/** `offline`: the gateway cannot be reached; edits are kept in this browser until it can. */
export type SaveState = "saved" | "saving" | "unsaved" | "offline";

export interface SaveSlice {
  save: { state: SaveState; error?: string };
  draftOffer: Draft | null;

  setSaveState(state: SaveState, error?: string): void;
  offerDraft(draft: Draft | null): void;
  /** Takes the offered draft's title, cells and order (an edit, saved as usual). */
  acceptDraft(): void;
}

export const createSaveSlice: StateCreator<NotebookState, [], [], SaveSlice> = (set, get) => ({
  save: { state: "saved" },
  draftOffer: null,

  setSaveState: (state, error) => set({ save: { state, error } }),
  offerDraft: (draftOffer) => set({ draftOffer }),
  acceptDraft: () => {
    const { draftOffer, outputs } = get();
    if (!draftOffer) return;
    const cells = cellDocsFrom(draftOffer.cells);
    set((s) =>
      documentEdit(s, {
        title: draftOffer.title,
        cells,
        // Cells the draft adds start with no outputs; the others keep theirs.
        outputs: { ...Object.fromEntries(cells.map((c) => [c.id, emptyCellOutput()])), ...outputs },
        activeCellId: cells[0]?.id ?? null,
        anchorCellId: null,
        draftOffer: null,
      }),
    );
  },
});
