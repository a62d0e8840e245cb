"use client";
import { useEffect, useMemo, useState } from "react";
import type { Notebook } from "@cellar/protocol";
import { NotebookContext } from "./notebook-context";
import { useAutosave } from "../save/use-autosave";
import { useNotebookKeys } from "./use-notebook-keys";
import { useKernelConnection } from "../kernel/use-kernel-connection";
import { createNotebookCommands } from "./notebook-commands";
import { createNotebookStore } from "./notebook-store";
import { NotebookLayout } from "./NotebookLayout";
import { useSharedNotebook } from "../collab/use-shared-notebook";
import { WidgetHubProvider } from "@cellar/ui";

/** One open notebook: its store, its kernel connection, its shared document and the autosave of
 * its title live as long as this does. The cells are shown once the shared document has arrived:
 * the editors bind to it, and edits this browser kept while offline merge into it. */
export function NotebookEditor({ notebook }: { notebook: Notebook }) {
  const [store] = useState(() => createNotebookStore(notebook));
  const kernel = useKernelConnection(notebook.id, store, notebook.metadata?.widgets);
  const { shared, synced } = useSharedNotebook(notebook.id, store, kernel);
  const saveNow = useAutosave(store, shared);
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

  const context = useMemo(() => ({ store, commands, saveNow, kernel, shared }), [store, commands, saveNow, kernel, shared]);
  return (
    <NotebookContext.Provider value={context}>
      {/* Widget views render in output frames fed by this kernel's widget hub. */}
      <WidgetHubProvider hub={kernel.widgets}>
        <NotebookLayout cellsReady={synced} />
      </WidgetHubProvider>
    </NotebookContext.Provider>
  );
}
