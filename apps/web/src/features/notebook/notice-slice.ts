// What the page tells the user (a one-line notice) or asks them before something drastic.
import type { StateCreator } from "zustand/vanilla";
import type { NotebookState } from "./notebook-store";

/** A question the user must answer before something drastic happens (restart and run all). */
export interface Confirmation {
  title: string;
  message: string;
  confirmLabel: string;
  onConfirm: () => void;
}

export interface NoticeSlice {
  notice: string | null;
  confirmation: Confirmation | null;

  setNotice(notice: string | null): void;
  ask(confirmation: Confirmation | null): void;
}

export const createNoticeSlice: StateCreator<NotebookState, [], [], NoticeSlice> = (set) => ({
  notice: null,
  confirmation: null,

  setNotice: (notice) => set({ notice }),
  ask: (confirmation) => set({ confirmation }),
});
