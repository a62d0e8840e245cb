"use client";
import { useCallback, useEffect, useState, type ReactNode } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { useNotebookContext } from "../../hooks/notebook-context";
import { FileEditor } from "./FileEditor";
import { FilesPanel } from "./FilesPanel";

/** The notebook with its workspace beside it: the files panel on the left, and tabs — the
 * notebook itself, then every file opened from the panel. Editors stay mounted while another tab
 * is shown, so unsaved edits survive switching tabs. */
export function WorkspaceArea({ children }: { children: ReactNode }) {
  const { store } = useNotebookContext();
  const notebookId = store.getState().notebookId;
  const queryClient = useQueryClient();
  const [panelOpen, setPanelOpen] = useState(true);
  const [tabs, setTabs] = useState<string[]>([]);
  const [active, setActive] = useState<string | null>(null); // null: the notebook
  const [dirty, setDirty] = useState<Record<string, boolean>>({});

  const open = useCallback((path: string) => {
    setTabs((t) => (t.includes(path) ? t : [...t, path]));
    setActive(path);
  }, []);
  const close = (path: string) => {
    if (dirty[path] && !window.confirm(`${path} has unsaved changes. Close it anyway?`)) return;
    setTabs((t) => t.filter((p) => p !== path));
    setDirty(({ [path]: _, ...rest }) => rest);
    if (active === path) setActive(null);
  };
  // Tabs of a renamed file, or of files in a renamed folder, reopen under the new path.
  const renamed = useCallback((from: string, to: string) => {
    const moved = (p: string) => (p === from ? to : p.startsWith(`${from}/`) ? to + p.slice(from.length) : p);
    setTabs((t) => t.map(moved));
    setActive((a) => (a === null ? a : moved(a)));
  }, []);
  const renameBlocked = (path: string) => {
    const unsaved = tabs.find((p) => dirty[p] && (p === path || p.startsWith(`${path}/`)));
    return unsaved ? `${unsaved} has unsaved changes; save or close it before renaming.` : null;
  };
  // Unsaved file edits live only in this tab: the browser asks before it is closed.
  const anyDirty = Object.values(dirty).some(Boolean);
  useEffect(() => {
    if (!anyDirty) return;
    const warn = (e: BeforeUnloadEvent) => e.preventDefault();
    window.addEventListener("beforeunload", warn);
    return () => window.removeEventListener("beforeunload", warn);
  }, [anyDirty]);
  const markDirty = useCallback((path: string, d: boolean) => setDirty((s) => (Boolean(s[path]) === d ? s : { ...s, [path]: d })), []);
  const onSaved = useCallback(() => void queryClient.invalidateQueries({ queryKey: ["workspace-files", notebookId] }), [queryClient, notebookId]);

  return (
    <div className="workspace-layout">
      {panelOpen && <FilesPanel onOpen={open} onHide={() => setPanelOpen(false)} onRenamed={renamed} renameBlocked={renameBlocked} />}
      <div className="workspace-main">
        {(tabs.length > 0 || !panelOpen) && (
          <div className="workspace-tabs" role="tablist" data-testid="workspace-tabs">
            {!panelOpen && (
              <button className="workspace-tab" data-testid="files-show" onClick={() => setPanelOpen(true)} title="Show the workspace files">» Files</button>
            )}
            <button role="tab" aria-selected={active === null} className="workspace-tab" data-testid="tab-notebook" onClick={() => setActive(null)}>
              Notebook
            </button>
            {tabs.map((path) => (
              <span key={path} role="tab" aria-selected={active === path} className="workspace-tab" data-testid="file-tab" data-path={path}>
                <button className="workspace-tab-name" onClick={() => setActive(path)} title={path}>
                  {dirty[path] ? "● " : ""}{path.split("/").pop()}
                </button>
                <button className="workspace-tab-close" aria-label={`Close ${path}`} data-testid="file-tab-close" onClick={() => close(path)}>×</button>
              </span>
            ))}
          </div>
        )}
        <div hidden={active !== null}>{children}</div>
        {tabs.map((path) => (
          <div key={path} hidden={active !== path} className="workspace-file">
            <FileEditor
              notebookId={notebookId} path={path} onSaved={onSaved}
              onDirtyChange={markDirty}
            />
          </div>
        ))}
      </div>
    </div>
  );
}
