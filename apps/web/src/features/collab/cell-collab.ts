"use client";
// A cell's editor bound to its Y.Text: y-codemirror.next keeps the two in step, draws the others'
// cursors and selections with their names and colours, and gives the editor an UndoManager that
// tracks only this editor's own typing, so undo never takes back someone else's edit (nor an
// output: outputs are not in the document at all).
import { useMemo } from "react";
import type { Extension } from "@codemirror/state";
import { keymap } from "@codemirror/view";
import { yCollab, yUndoManagerKeymap } from "y-codemirror.next";
import * as Y from "yjs";
import type { SharedNotebook } from "./shared-notebook";

/** The cell's binding, made once per editor; undefined where no shared document is open. */
export function useCellCollab(shared: SharedNotebook | undefined, cellId: string): Extension | undefined {
  return useMemo(() => {
    const text = shared?.text(cellId);
    if (!shared || !text) return undefined;
    return [yCollab(text, shared.awareness, { undoManager: new Y.UndoManager(text) }), keymap.of(yUndoManagerKeymap)];
  }, [shared, cellId]);
}
