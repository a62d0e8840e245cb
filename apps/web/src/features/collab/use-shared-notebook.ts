"use client";
import { useEffect, useState } from "react";
import type { NotebookStore } from "../notebook/notebook-store";
import type { KernelConnection } from "../kernel/kernel-socket";
import { useMe } from "../account/account-queries";
import { SharedNotebook } from "./shared-notebook";

const COLORS = ["#d9480f", "#1971c2", "#2f9e44", "#9c36b5", "#e8590c", "#0c8599", "#c2255c", "#5f3dc4"];

/** The notebook's shared document for as long as the calling component is mounted; `synced`
 * once the gateway's copy has arrived (the editors bind to it from then on). */
export function useSharedNotebook(notebookId: string, store: NotebookStore, kernel: KernelConnection) {
  const [shared] = useState(() => new SharedNotebook(notebookId, store));
  const [synced, setSynced] = useState(shared.isSynced);
  const me = useMe().data;
  useEffect(() => {
    const stop = kernel.onNotebookOpen((socket) => shared.attach(socket));
    const unsubscribe = shared.onSynced(() => setSynced(true));
    return () => {
      stop();
      unsubscribe();
    };
  }, [shared, kernel]);
  useEffect(() => {
    shared.retain();
    return () => shared.release();
  }, [shared]);
  useEffect(() => {
    if (!me) return;
    const hash = [...me.id].reduce((h, ch) => (h * 31 + ch.charCodeAt(0)) >>> 0, 7);
    shared.setPresence({ name: me.name, color: COLORS[hash % COLORS.length] });
  }, [shared, me]);
  return { shared, synced };
}
