"use client";
import { useCallback, useEffect, useRef } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { GatewayError } from "@cellar/kernel-client";
import { gateway } from "../../shared/gateway";
import { Autosaver } from "./autosave";
import { clearDraft, writeDraft } from "./local-drafts";
import { toNotebookUpdate } from "../notebook/document-slice";
import type { NotebookStore } from "../notebook/notebook-store";
import { notebookKeys } from "../../shared/notebook-queries";

export const AUTOSAVE_DELAY_MS = 500;
/** How soon after an edit it is also written to this browser's storage. */
export const DRAFT_DELAY_MS = 150;
/** Browsers refuse keepalive requests whose bodies add up to more than 64 KiB. */
const KEEPALIVE_LIMIT = 60_000;

/** Saves title, cell sources and order to the gateway shortly after each edit, and keeps what the
 * gateway has not confirmed in this browser (see local-drafts.ts) so a closed tab or a lost network
 * loses nothing. `restored`: the store starts from such a draft, so save it at once. Returns a
 * function that saves immediately. */
export function useAutosave(store: NotebookStore, options: { restored?: boolean } = {}): () => Promise<void> {
  const client = useQueryClient();
  const saverRef = useRef<Autosaver | null>(null);
  const restored = options.restored ?? false;

  useEffect(() => {
    const notebookId = store.getState().notebookId;
    const saver = new Autosaver({
      delayMs: AUTOSAVE_DELAY_MS,
      save: async () => {
        const s = store.getState();
        await gateway.notebooks.update(s.notebookId, toNotebookUpdate(s));
        void client.invalidateQueries({ queryKey: notebookKeys.all, exact: true });
      },
      onState: (state, error) => {
        // Only once nothing is pending is the gateway's copy the whole truth.
        if (state === "saved") clearDraft(notebookId);
        store.getState().setSaveState(state, error);
      },
      isOffline: (e) => (e instanceof GatewayError && e.status === 0) || (typeof navigator !== "undefined" && navigator.onLine === false),
    });
    saverRef.current = saver;

    let draftTimer: ReturnType<typeof setTimeout> | null = null;
    const keepDraft = () => {
      if (draftTimer) clearTimeout(draftTimer);
      draftTimer = null;
      if (saver.hasUnsavedChanges) writeDraft(notebookId, toNotebookUpdate(store.getState()));
    };
    const unsubscribe = store.subscribe((s, prev) => {
      if (s.docVersion === prev.docVersion) return;
      saver.changed();
      if (!draftTimer) draftTimer = setTimeout(keepDraft, DRAFT_DELAY_MS);
    });
    if (restored) {
      saver.changed();
      keepDraft();
    }

    // Leaving (or hiding) the page mid-debounce: keep the edits here, and send them with a request
    // that outlives the page. (No "leave site?" prompt: this covers it, and a prompt would block
    // reloads.) Whatever that request does not deliver is restored from the draft next time.
    const onLeave = () => {
      if (!saver.hasUnsavedChanges) return;
      keepDraft();
      // Offline, the draft is all there is. Chromium may still deliver a keepalive request sent
      // now once the network returns, after the page is gone, racing the next visit's restore of
      // the draft: that visit would open the gateway's copy with no word that edits were restored.
      if (typeof navigator !== "undefined" && navigator.onLine === false) return;
      const body = toNotebookUpdate(store.getState());
      if (JSON.stringify(body).length > KEEPALIVE_LIMIT) return;
      void gateway.notebooks.update(notebookId, body, { keepalive: true }).catch(() => {});
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
      window.removeEventListener("pagehide", onLeave);
      document.removeEventListener("visibilitychange", onVisibility);
      window.removeEventListener("online", onOnline);
      window.removeEventListener("offline", onOffline);
      if (draftTimer) keepDraft();
      if (saverRef.current === saver) saverRef.current = null;
      // Navigating away inside the app: finish the pending save rather than drop it.
      void saver.flush().finally(() => saver.dispose());
    };
  }, [store, client, restored]);

  return useCallback(() => saverRef.current?.flush() ?? Promise.resolve(), []);
}
