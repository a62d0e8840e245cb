"use client";
import { useEffect, useMemo, useState } from "react";
import type { Notebook } from "@cellar/protocol";
import { NotebookContext } from "./notebook-context";
import { useAutosave } from "../save/use-autosave";
import { useNotebookKeys } from "./use-notebook-keys";
import { useKernelConnection } from "../kernel/use-kernel-connection";
import { decideDraft, readDraft } from "../save/local-drafts";
import { createNotebookCommands } from "./notebook-commands";
import { createNotebookStore } from "./notebook-store";
import { NotebookLayout } from "./NotebookLayout";

/** One open notebook: its store, its kernel connection and its autosave live as long as this does.
 * Edits this browser made that never reached the gateway (local-drafts.ts) are put back first. */
export function NotebookEditor({ notebook }: { notebook: Notebook }) {
  const [draft] = useState(() => decideDraft(notebook, readDraft(notebook.id)));
  const [store] = useState(() => {
    const created = createNotebookStore(draft.kind === "restore" ? draft.notebook : notebook);
    if (draft.kind === "restore")
      created.getState().setNotice("Restored edits made in this browser that had not reached the gateway; saving them now.");
    if (draft.kind === "conflict") created.getState().offerDraft(draft.draft);
    return created;
  });
  const saveNow = useAutosave(store, { restored: draft.kind === "restore" });
  const kernel = useKernelConnection(notebook.id, store);
  const commands = useMemo(() => createNotebookCommands(store, kernel, saveNow), [store, kernel, saveNow]);

  useNotebookKeys(store, commands, saveNow);

  useEffect(
    () =>
      store.subscribe((s, prev) => {
        if (s.title !== prev.title) document.title = `${s.title || "Untitled"} · Cellar`;
      }),
    [store],
  );
  useEffect(() => {
    document.title = `${store.getState().title || "Untitled"} · Cellar`;
  }, [store]);

  const context = useMemo(() => ({ store, commands, saveNow, kernel }), [store, commands, saveNow, kernel]);
  return (
    <NotebookContext.Provider value={context}>
      <NotebookLayout />
    </NotebookContext.Provider>
  );
}
