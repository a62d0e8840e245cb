// One store per open notebook, composed of slices (zustand's slices pattern), each owned by the
// feature whose state it is:
// - document-slice (notebook): title, cells, order, undo of deletions; mirrored with the shared document
// - selection-slice (notebook): active cell and range, edit/command mode, focus requests
// - notice-slice (notebook): the notice line and confirmation dialogs
// - run-slice (kernel): outputs, queued/running cells, input() prompts
// - kernel-slice (kernel): kernel status, worker count, and the user's role on the notebook
// - find-slice (find): find bar and highlights
// - save-slice (save): save state and an offered draft
// A slice's actions may also set other slices' fields in the same update (adding a cell makes it
// active), through the owning slice's exported helpers, so one user action is one store change.
import { createStore } from "zustand/vanilla";
import type { Notebook } from "@cellar/protocol";
import { createDocumentSlice, type DocumentSlice } from "./document-slice";
import { createSelectionSlice, type SelectionSlice } from "./selection-slice";
import { createNoticeSlice, type NoticeSlice } from "./notice-slice";
import { createRunSlice, type RunSlice } from "../kernel/run-slice";
import { createKernelSlice, type KernelSlice } from "../kernel/kernel-slice";
import { createFindSlice, type FindSlice } from "../find/find-slice";
import { createSaveSlice, type SaveSlice } from "../save/save-slice";

export type NotebookState = DocumentSlice & SelectionSlice & NoticeSlice & RunSlice & KernelSlice & FindSlice & SaveSlice;

export type NotebookStore = ReturnType<typeof createNotebookStore>;

export function createNotebookStore(notebook: Notebook) {
  return createStore<NotebookState>()((...a) => ({
    ...createDocumentSlice(notebook)(...a),
    ...createSelectionSlice(notebook)(...a),
    ...createNoticeSlice(...a),
    ...createRunSlice(notebook)(...a),
    ...createKernelSlice(notebook)(...a),
    ...createFindSlice(...a),
    ...createSaveSlice(...a),
  }));
}
