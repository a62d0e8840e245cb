"use client";
import { useEffect, useRef, useState, type DragEvent, type KeyboardEvent } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { MAX_WORKSPACE_FILE_BYTES, type WorkspaceEntry } from "@cellar/protocol";
import { useNotebookContext } from "../notebook/notebook-context";
import { useMay } from "../notebook/page-roles";
import { GatewayError } from "@cellar/kernel-client";
import { joinPath, parentOf } from "./workspace-files";
import { gateway } from "../../shared/gateway";
import { DownloadIcon, PencilIcon, PlusIcon, RestartIcon, TrashIcon, UploadIcon } from "../../shared/icons";
import "./files.css";

const filesKey = (notebookId: string, dir?: string) =>
  dir === undefined ? ["workspace-files", notebookId] : ["workspace-files", notebookId, dir];

/** The notebook's workspace (the kernel's working directory, /workspace) as a tree: folders
 * expand, files open in an editor tab, and files dropped or picked are uploaded into the selected
 * folder. Refreshes whenever a cell finishes and when the kernel becomes idle. Each change is
 * offered only to a role the gateway allows it (a runner reads and downloads, nothing more). */
export function FilesPanel({
  onOpen,
  onHide,
  onRenamed,
  renameBlocked,
}: {
  onOpen(path: string): void;
  onHide(): void;
  /** A file or folder was renamed: open tabs follow it. */
  onRenamed(from: string, to: string): void;
  /** Why `path` cannot be renamed now (unsaved edits in a tab), or null. */
  renameBlocked(path: string): string | null;
}) {
  const { store } = useNotebookContext();
  const notebookId = store.getState().notebookId;
  const queryClient = useQueryClient();
  const [expanded, setExpanded] = useState<ReadonlySet<string>>(new Set());
  const [folder, setFolder] = useState(""); // where uploads and new folders go
  const [creating, setCreating] = useState(false);
  const [dropFolder, setDropFolder] = useState<string | null>(null);
  const [renaming, setRenaming] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const picker = useRef<HTMLInputElement>(null);
  const mayUpload = useMay("writeFile");
  const mayCreateFolder = useMay("createFolder");
  const allowed: FileActions = { download: useMay("downloadFile"), rename: useMay("renameFile"), delete: useMay("deleteFile") };

  const refresh = () => queryClient.invalidateQueries({ queryKey: filesKey(notebookId) });
  useEffect(
    () =>
      store.subscribe((s, prev) => {
        const finished = Object.keys(prev.running).some((id) => !(id in s.running));
        const backIdle = s.kernel.status === "idle" && prev.kernel.status !== "idle" && prev.kernel.status !== "busy";
        if (finished || backIdle) void queryClient.invalidateQueries({ queryKey: filesKey(notebookId) });
      }),
    [store, queryClient, notebookId],
  );

  const act = async (work: () => Promise<unknown>) => {
    setProblem(null);
    setBusy(true);
    try {
      await work();
    } catch (err) {
      setProblem((err as Error).message);
    } finally {
      setBusy(false);
      void refresh();
    }
  };

  const upload = (files: File[], dir: string) =>
    act(async () => {
      // Checked here too: a body the gateway refuses part-way can surface as a dropped connection.
      const tooBig = files.find((f) => f.size > MAX_WORKSPACE_FILE_BYTES);
      if (tooBig)
        throw new Error(`${tooBig.name} is over the ${MAX_WORKSPACE_FILE_BYTES / 1024 / 1024} MiB upload limit; nothing was uploaded.`);
      for (const file of files) {
        const path = joinPath(dir, file.name);
        try {
          await gateway.files.write(notebookId, path, file, { createOnly: true });
        } catch (err) {
          if (!(err instanceof GatewayError && err.status === 409)) throw err;
          if (window.confirm(`${path} already exists. Replace it?`)) await gateway.files.write(notebookId, path, file);
        }
      }
      setExpanded((s) => new Set(s).add(dir));
    });

  const onDrop = (e: DragEvent, dir: string) => {
    if (!mayUpload) return;
    e.preventDefault();
    e.stopPropagation();
    setDropFolder(null);
    const files = [...e.dataTransfer.files];
    if (files.length) void upload(files, dir);
  };
  const onDragOver = (e: DragEvent, dir: string) => {
    if (!mayUpload || ![...e.dataTransfer.types].includes("Files")) return;
    e.preventDefault();
    e.stopPropagation();
    e.dataTransfer.dropEffect = "copy";
    setDropFolder(dir);
  };

  const toggle = (dir: string) => {
    setFolder(dir);
    setExpanded((s) => {
      const next = new Set(s);
      if (next.has(dir)) next.delete(dir);
      else next.add(dir);
      return next;
    });
  };

  return (
    <aside
      className="files-panel"
      data-testid="files-panel"
      data-drop={dropFolder === "" ? "true" : undefined}
      onDragOver={(e) => onDragOver(e, "")}
      onDragLeave={(e) => {
        if (e.currentTarget === e.target) setDropFolder(null);
      }}
      onDrop={(e) => onDrop(e, "")}
    >
      <div className="files-panel-bar">
        <strong>Files</strong>
        <div className="header-spacer" />
        {mayUpload && (
          <button
            type="button"
            className="icon-button"
            title="Upload files"
            data-testid="files-upload"
            onClick={() => picker.current?.click()}
            disabled={busy}
          >
            <UploadIcon />
          </button>
        )}
        {mayCreateFolder && (
          <button type="button" className="icon-button" title="New folder" data-testid="files-new-folder" onClick={() => setCreating(true)}>
            <PlusIcon />
          </button>
        )}
        <button type="button" className="icon-button" title="Refresh" data-testid="files-refresh" onClick={() => void refresh()}>
          <RestartIcon />
        </button>
        <button type="button" className="icon-button" title="Hide files" onClick={onHide}>
          «
        </button>
        <input
          ref={picker}
          type="file"
          multiple
          hidden
          data-testid="files-upload-input"
          onChange={(e) => {
            const files = [...(e.target.files ?? [])];
            e.target.value = "";
            if (files.length) void upload(files, folder);
          }}
        />
      </div>
      {(mayUpload || mayCreateFolder) && (
        <div className="files-panel-target muted" data-testid="files-target">
          In <code>/workspace{folder ? `/${folder}` : ""}</code>
          {folder && (
            <button type="button" className="link-button" onClick={() => setFolder("")}>
              top
            </button>
          )}
        </div>
      )}
      {creating && (
        <NameInput
          label="New folder name"
          testId="files-new-folder-name"
          onCancel={() => setCreating(false)}
          onDone={(name) => {
            setCreating(false);
            void act(async () => {
              await gateway.files.mkdir(notebookId, joinPath(folder, name));
              setExpanded((s) => new Set(s).add(folder));
            });
          }}
        />
      )}
      {problem && (
        <div className="files-problem error-text" role="alert" data-testid="files-problem">
          {problem}
        </div>
      )}
      <div className="files-tree" role="tree">
        <Listing
          dir=""
          depth={0}
          notebookId={notebookId}
          expanded={expanded}
          folder={folder}
          allowed={allowed}
          dropFolder={dropFolder}
          onToggle={toggle}
          onOpen={(p) => onOpen(p)}
          onDelete={(entry) => {
            const what = entry.kind === "directory" ? `the folder ${entry.path} and everything in it` : entry.path;
            if (window.confirm(`Delete ${what}?`)) void act(() => gateway.files.remove(notebookId, entry.path));
          }}
          onDragOver={onDragOver}
          onDrop={onDrop}
          renaming={renaming}
          onStartRename={setRenaming}
          onRename={(entry, name) => {
            setRenaming(null);
            const to = joinPath(parentOf(entry.path), name);
            const blocked = renameBlocked(entry.path);
            if (blocked) return setProblem(blocked);
            if (to !== entry.path)
              void act(async () => {
                await gateway.files.rename(notebookId, entry.path, to);
                onRenamed(entry.path, to);
              });
          }}
        />
      </div>
    </aside>
  );
}

/** What the caller's role may do to an entry of the tree. */
interface FileActions {
  download: boolean;
  rename: boolean;
  delete: boolean;
}

interface ListingProps {
  allowed: FileActions;
  dir: string;
  depth: number;
  notebookId: string;
  expanded: ReadonlySet<string>;
  folder: string;
  dropFolder: string | null;
  onToggle(dir: string): void;
  onOpen(path: string): void;
  onDelete(entry: WorkspaceEntry): void;
  onDragOver(e: DragEvent, dir: string): void;
  onDrop(e: DragEvent, dir: string): void;
  renaming: string | null;
  onStartRename(path: string | null): void;
  onRename(entry: WorkspaceEntry, name: string): void;
}

function Listing(props: ListingProps) {
  const { dir, depth, notebookId } = props;
  const query = useQuery({ queryKey: filesKey(notebookId, dir), queryFn: () => gateway.files.list(notebookId, dir), retry: false });
  const pad = { paddingLeft: 8 + depth * 14 };
  if (query.error)
    return (
      <div className="files-note error-text" style={pad} data-testid="files-error">
        {query.error.message}
      </div>
    );
  if (!query.data)
    return (
      <div className="files-note muted" style={pad}>
        Loading…
      </div>
    );
  if (!query.data.entries.length)
    return (
      <div className="files-note muted" style={pad}>
        {depth ? "Empty folder" : "No files yet"}
      </div>
    );
  return (
    <>
      {query.data.entries.map((entry) => {
        const isDir = entry.kind === "directory";
        const open = isDir && props.expanded.has(entry.path);
        return (
          <div key={entry.path} role="treeitem" aria-expanded={isDir ? open : undefined}>
            <div
              className="file-row"
              style={pad}
              data-testid="file-entry"
              data-path={entry.path}
              data-kind={entry.kind}
              data-selected={isDir && props.folder === entry.path ? "true" : undefined}
              data-drop={isDir && props.dropFolder === entry.path ? "true" : undefined}
              onDragOver={isDir ? (e) => props.onDragOver(e, entry.path) : undefined}
              onDrop={isDir ? (e) => props.onDrop(e, entry.path) : undefined}
            >
              {props.renaming === entry.path ? (
                <NameInput
                  initial={entry.name}
                  label={`New name for ${entry.name}`}
                  testId="file-rename-name"
                  onDone={(name) => props.onRename(entry, name)}
                  onCancel={() => props.onStartRename(null)}
                />
              ) : (
                <button
                  type="button"
                  className="file-name"
                  title={entry.path}
                  onClick={() => (isDir ? props.onToggle(entry.path) : props.onOpen(entry.path))}
                >
                  <span className="file-icon" aria-hidden="true">
                    {isDir ? (open ? "▾" : "▸") : entry.kind === "symlink" ? "↪" : "·"}
                  </span>
                  {entry.name}
                </button>
              )}
              {!isDir && props.allowed.download && (
                <a
                  className="icon-button file-action"
                  title={`Download ${entry.name}`}
                  href={gateway.files.downloadPath(notebookId, entry.path)}
                  download
                  data-testid="file-download"
                >
                  <DownloadIcon />
                </a>
              )}
              {props.allowed.rename && (
                <button
                  type="button"
                  className="icon-button file-action"
                  title={`Rename ${entry.name}`}
                  data-testid="file-rename"
                  onClick={() => props.onStartRename(entry.path)}
                >
                  <PencilIcon />
                </button>
              )}
              {props.allowed.delete && (
                <button
                  type="button"
                  className="icon-button file-action"
                  title={`Delete ${entry.name}`}
                  data-testid="file-delete"
                  onClick={() => props.onDelete(entry)}
                >
                  <TrashIcon />
                </button>
              )}
            </div>
            {open && <Listing {...props} dir={entry.path} depth={depth + 1} />}
          </div>
        );
      })}
    </>
  );
}

/** A one-line name editor: Enter accepts, Escape or leaving it cancels. */
function NameInput({
  initial = "",
  label,
  testId,
  onDone,
  onCancel,
}: {
  initial?: string;
  label: string;
  testId: string;
  onDone(name: string): void;
  onCancel(): void;
}) {
  const [name, setName] = useState(initial);
  const trimmed = name.trim();
  const valid = trimmed !== "" && !/[/\\]/.test(trimmed) && trimmed !== "." && trimmed !== "..";
  const onKey = (e: KeyboardEvent) => {
    if (e.key === "Enter" && valid) onDone(trimmed);
    if (e.key === "Escape") onCancel();
  };
  return (
    <div className="files-name-input">
      <input
        autoFocus
        className="files-input"
        placeholder="Name"
        aria-label={label}
        data-testid={testId}
        value={name}
        onChange={(e) => setName(e.target.value)}
        onKeyDown={onKey}
        onBlur={onCancel}
      />
      {name && !valid && <div className="error-text files-note">{"A name cannot contain / or \\ or be . or .."}</div>}
    </div>
  );
}
