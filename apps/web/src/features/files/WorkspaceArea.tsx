"use client";
import { useCallback, useEffect, useState, type ReactNode } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { useNotebookContext } from "../notebook/notebook-context";
import { FileEditor } from "./FileEditor";
import { FilesPanel } from "./FilesPanel";
import { TerminalTab } from "../terminal/TerminalTab";
import { useOpenTerminal } from "../terminal/use-open-terminal";
import { useMay } from "../notebook/page-roles";

/** The notebook with its workspace beside it: the files panel on the left, and tabs — the
 * notebook itself, every file opened from the panel, and terminals. Editors and terminals stay
 * mounted while another tab is shown, so unsaved edits and running shells survive switching tabs.
 * A role the gateway would not list the files for gets no panel, and one it would not open a
 * shell for no terminals. */
export function WorkspaceArea({ children }: { children: ReactNode }) {
  const { store } = useNotebookContext();
  const notebookId = store.getState().notebookId;
  const queryClient = useQueryClient();
  const [panelOpen, setPanelOpen] = useState(true);
  const [tabs, setTabs] = useState<string[]>([]);
  const [active, setActive] = useState<string | null>(null); // null: the notebook
  const [dirty, setDirty] = useState<Record<string, boolean>>({});
  const [terminals, setTerminals] = useState<number[]>([]);
  const [activeTerminal, setActiveTerminal] = useState<number | null>(null); // shown over `active`
  const mayListFiles = useMay("listFiles");
  const mayTerminal = useMay("terminal");
  const kernelTerminal = useOpenTerminal();
  const openTerminal = mayTerminal ? kernelTerminal : null;
  const filesShown = panelOpen && mayListFiles;
  const show = (path: string | null) => {
    setActiveTerminal(null);
    setActive(path);
  };
  const newTerminal = () => {
    const id = Math.max(0, ...terminals) + 1;
    setTerminals((t) => [...t, id]);
    setActiveTerminal(id);
  };
  const closeTerminal = (id: number) => {
    setTerminals((t) => t.filter((x) => x !== id));
    if (activeTerminal === id) setActiveTerminal(null);
  };

  const open = useCallback((path: string) => {
    setTabs((t) => (t.includes(path) ? t : [...t, path]));
    setActiveTerminal(null);
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
  const onSaved = useCallback(
    () => void queryClient.invalidateQueries({ queryKey: ["workspace-files", notebookId] }),
    [queryClient, notebookId],
  );

  return (
    <div className="workspace-layout">
      {filesShown && <FilesPanel onOpen={open} onHide={() => setPanelOpen(false)} onRenamed={renamed} renameBlocked={renameBlocked} />}
      <div className="workspace-main">
        {(tabs.length > 0 || (mayListFiles && !panelOpen) || openTerminal) && (
          <div className="workspace-tabs" role="tablist" data-testid="workspace-tabs">
            {mayListFiles && !panelOpen && (
              <button
                type="button"
                className="workspace-tab"
                data-testid="files-show"
                onClick={() => setPanelOpen(true)}
                title="Show the workspace files"
              >
                » Files
              </button>
            )}
            <button
              type="button"
              role="tab"
              aria-selected={active === null && activeTerminal === null}
              className="workspace-tab"
              data-testid="tab-notebook"
              onClick={() => show(null)}
            >
              Notebook
            </button>
            {tabs.map((path) => (
              <span
                key={path}
                role="tab"
                aria-selected={active === path && activeTerminal === null}
                className="workspace-tab"
                data-testid="file-tab"
                data-path={path}
              >
                <button type="button" className="workspace-tab-name" onClick={() => show(path)} title={path}>
                  {dirty[path] ? "● " : ""}
                  {path.split("/").pop()}
                </button>
                <button
                  type="button"
                  className="workspace-tab-close"
                  aria-label={`Close ${path}`}
                  data-testid="file-tab-close"
                  onClick={() => close(path)}
                >
                  ×
                </button>
              </span>
            ))}
            {terminals.map((id) => (
              <span key={id} role="tab" aria-selected={activeTerminal === id} className="workspace-tab" data-testid="terminal-tab">
                <button type="button" className="workspace-tab-name" onClick={() => setActiveTerminal(id)}>
                  Terminal {id}
                </button>
                <button
                  type="button"
                  className="workspace-tab-close"
                  aria-label={`Close terminal ${id}`}
                  data-testid="terminal-tab-close"
                  onClick={() => closeTerminal(id)}
                >
                  ×
                </button>
              </span>
            ))}
            {openTerminal && (
              <button
                type="button"
                className="workspace-tab"
                data-testid="terminal-new"
                onClick={newTerminal}
                title="Open a shell in the kernel's sandbox"
              >
                + Terminal
              </button>
            )}
          </div>
        )}
        <div hidden={active !== null || activeTerminal !== null}>{children}</div>
        {terminals.map((id) => (
          <div key={id} hidden={activeTerminal !== id} className="workspace-terminal">
            {openTerminal && <TerminalTab open={openTerminal} />}
          </div>
        ))}
        {tabs.map((path) => (
          <div key={path} hidden={active !== path || activeTerminal !== null} className="workspace-file">
            <FileEditor notebookId={notebookId} path={path} onSaved={onSaved} onDirtyChange={markDirty} />
          </div>
        ))}
      </div>
    </div>
  );
}
