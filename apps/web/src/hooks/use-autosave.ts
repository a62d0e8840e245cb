"use client";
import { useCallback, useEffect, useRef } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { api } from "../lib/api";
import { Autosaver } from "../lib/autosave";
import { toNotebookUpdate, type NotebookStore } from "../stores/notebook-store";
import { notebookKeys } from "./use-notebook";

export const AUTOSAVE_DELAY_MS = 500;

/** Saves title, cell sources and order to the gateway shortly after each edit. Returns a function
 * that saves immediately. */
export function useAutosave(store: NotebookStore): () => Promise<void> {
  const client = useQueryClient();
  const saverRef = useRef<Autosaver | null>(null);

  useEffect(() => {
    const saver = new Autosaver({
      delayMs: AUTOSAVE_DELAY_MS,
      save: async () => {
        const s = store.getState();
        await api.updateNotebook(s.notebookId, toNotebookUpdate(s));
        void client.invalidateQueries({ queryKey: notebookKeys.all, exact: true });
      },
      onState: (state, error) => store.getState().setSaveState(state, error),
    });
    saverRef.current = saver;
    const unsubscribe = store.subscribe((s, prev) => {
      if (s.docVersion !== prev.docVersion) saver.changed();
    });
    // Leaving the page mid-debounce: send what is unsaved with a request that outlives the page.
    // (No "leave site?" prompt: this covers it, and a prompt would block reloads.)
    const onPageHide = () => {
      if (!saver.hasUnsavedChanges) return;
      const s = store.getState();
      void api.updateNotebook(s.notebookId, toNotebookUpdate(s), { keepalive: true }).catch(() => {});
    };
    window.addEventListener("pagehide", onPageHide);
    return () => {
      unsubscribe();
      window.removeEventListener("pagehide", onPageHide);
      if (saverRef.current === saver) saverRef.current = null;
      // Navigating away inside the app: finish the pending save rather than drop it.
      void saver.flush().finally(() => saver.dispose());
    };
  }, [store, client]);

  return useCallback(() => saverRef.current?.flush() ?? Promise.resolve(), []);
}
