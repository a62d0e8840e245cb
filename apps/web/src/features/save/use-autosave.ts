"use client";
import { useCallback, useEffect, useRef } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { GatewayError } from "@cellar/kernel-client";
import { DocumentOfflineError, FROM_GATEWAY } from "@cellar/notebook-doc";
import { gateway } from "../../shared/gateway";
import { Autosaver } from "./autosave";
import type { NotebookStore } from "../notebook/notebook-store";
import type { SharedNotebook } from "../collab/shared-notebook";
import { notebookKeys } from "../../shared/notebook-queries";
import { may } from "../notebook/page-roles";

export const AUTOSAVE_DELAY_MS = 500;

/** Saves shortly after each edit and says whether the gateway has everything (the save status).
 * Cells live in the shared document, which sends each change at once and keeps it in this
 * browser (IndexedDB) until then; a save here asks the gateway to confirm it has stored them
 * (`flush`), and PUTs the title when it changed. Returns a function that saves immediately. */
export function useAutosave(store: NotebookStore, shared: SharedNotebook): () => Promise<void> {
  const client = useQueryClient();
  const saverRef = useRef<Autosaver | null>(null);

  useEffect(() => {
    const notebookId = store.getState().notebookId;
    let savedTitle = store.getState().title;
    const saveTitle = async (options?: { keepalive: boolean }) => {
      const title = store.getState().title;
      if (title === savedTitle) return;
      await gateway.notebooks.update(notebookId, { title }, options);
      savedTitle = title;
      void client.invalidateQueries({ queryKey: notebookKeys.all, exact: true });
    };
    const saver = new Autosaver({
      delayMs: AUTOSAVE_DELAY_MS,
      save: async () => {
        await saveTitle();
        await shared.flush();
      },
      onState: (state, error) => store.getState().setSaveState(state, error),
      isOffline: (e) =>
        e instanceof DocumentOfflineError ||
        (e instanceof GatewayError && e.status === 0) ||
        (typeof navigator !== "undefined" && navigator.onLine === false),
    });
    saverRef.current = saver;
    // A page that may not edit has nothing to save: the gateway drops its document changes, and
    // "Unsaved changes" (the first sync's check, say) would tell a viewer something untrue.
    const changed = () => {
      if (may(store.getState().role, "edit")) saver.changed();
    };

    const unsubscribe = store.subscribe((s, prev) => {
      if (s.docVersion !== prev.docVersion) changed();
    });
    const onDocUpdate = (_update: Uint8Array, origin: unknown) => {
      if (origin !== FROM_GATEWAY && shared.isSynced) changed();
    };
    shared.doc.on("update", onDocUpdate);
    // What this browser kept (IndexedDB) and the gateway did not have went up in the first sync:
    // the status says "Saved" only once the gateway has stored it.
    const stopSynced = shared.onSynced(changed);

    // Leaving the page: the document already sent its changes (and IndexedDB keeps them); a
    // title changed within the debounce goes with a request that outlives the page.
    const onLeave = () => {
      if (typeof navigator !== "undefined" && navigator.onLine === false) return;
      void saveTitle({ keepalive: true }).catch(() => {});
    };
    const onVisibility = () => {
      if (document.visibilityState === "hidden") onLeave();
    };
    const onOnline = () => saver.setOffline(false);
    const onOffline = () => saver.setOffline(true);
    window.addEventListener("pagehide", onLeave);
    document.addEventListener("visibilitychange", onVisibility);
    window.addEventListener("online", onOnline);
    window.addEventListener("offline", onOffline);
    if (typeof navigator !== "undefined" && navigator.onLine === false) saver.setOffline(true);
    return () => {
      unsubscribe();
      shared.doc.off("update", onDocUpdate);
      stopSynced();
      window.removeEventListener("pagehide", onLeave);
      document.removeEventListener("visibilitychange", onVisibility);
      window.removeEventListener("online", onOnline);
      window.removeEventListener("offline", onOffline);
      if (saverRef.current === saver) saverRef.current = null;
      // Navigating away inside the app: finish the pending save rather than drop it.
      void saver.flush().finally(() => saver.dispose());
    };
  }, [store, client, shared]);

  return useCallback(() => saverRef.current?.flush() ?? Promise.resolve(), []);
}
