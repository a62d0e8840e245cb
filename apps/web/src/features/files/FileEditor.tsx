"use client";
import dynamic from "next/dynamic";
import { useCallback, useEffect, useRef, useState } from "react";
import { textOf } from "./workspace-files";
import { gateway } from "../../shared/gateway";
import { DownloadIcon } from "../../shared/icons";
import { useMay } from "../notebook/page-roles";

const MonacoEditor = dynamic(() => import("./MonacoEditor"), {
  ssr: false,
  loading: () => <div className="muted file-editor-message">Loading editor…</div>,
});

type Loaded =
  | { state: "loading" }
  | { state: "text"; text: string }
  | { state: "binary"; size: number }
  | { state: "error"; message: string };

/** One workspace file in an editor tab: text opens in Monaco and saves back with Ctrl+S (or the
 * Save button); anything that is not UTF-8 text can only be downloaded. */
export function FileEditor({
  notebookId,
  path,
  onDirtyChange,
  onSaved,
}: {
  notebookId: string;
  path: string;
  onDirtyChange(path: string, dirty: boolean): void;
  onSaved(): void;
}) {
  const [loaded, setLoaded] = useState<Loaded>({ state: "loading" });
  const [saveState, setSaveState] = useState<{ kind: "idle" | "saving" | "saved" } | { kind: "error"; message: string }>({ kind: "idle" });
  const current = useRef("");
  const saved = useRef("");
  const [dirty, setDirty] = useState(false);
  // A role that may read the file but not save it (a runner) gets it read-only, with no Save.
  const maySave = useMay("writeFile");

  useEffect(() => {
    let live = true;
    gateway.files.read(notebookId, path).then(
      (bytes) => {
        if (!live) return;
        const text = textOf(bytes);
        if (text === null) return setLoaded({ state: "binary", size: bytes.length });
        current.current = saved.current = text;
        setLoaded({ state: "text", text });
      },
      (err: Error) => live && setLoaded({ state: "error", message: err.message }),
    );
    return () => {
      live = false;
    };
  }, [notebookId, path]);

  useEffect(() => onDirtyChange(path, dirty), [path, dirty, onDirtyChange]);

  const save = useCallback(async () => {
    if (!maySave) return;
    const text = current.current;
    setSaveState({ kind: "saving" });
    try {
      await gateway.files.write(notebookId, path, text);
      saved.current = text;
      setDirty(current.current !== saved.current);
      setSaveState({ kind: "saved" });
      onSaved();
    } catch (err) {
      setSaveState({ kind: "error", message: (err as Error).message });
    }
  }, [notebookId, path, onSaved, maySave]);

  const onChange = useCallback((value: string) => {
    current.current = value;
    setDirty(value !== saved.current);
  }, []);

  return (
    <div className="file-editor" data-testid="file-editor" data-path={path}>
      <div className="file-editor-bar">
        <span className="file-editor-path">{path}</span>
        <span className="muted" data-testid="file-save-state" data-state={dirty ? "unsaved" : saveState.kind}>
          {saveState.kind === "error" ? (
            <span className="error-text">Not saved: {saveState.message}</span>
          ) : dirty ? (
            "Unsaved changes"
          ) : saveState.kind === "saving" ? (
            "Saving…"
          ) : saveState.kind === "saved" ? (
            "Saved"
          ) : (
            ""
          )}
        </span>
        <div className="header-spacer" />
        {loaded.state === "text" && maySave && (
          <button type="button" className="button button-small" data-testid="file-save" onClick={() => void save()} disabled={!dirty}>
            Save
          </button>
        )}
        <a className="button button-small" href={gateway.files.downloadPath(notebookId, path)} download data-testid="file-editor-download">
          <DownloadIcon /> Download
        </a>
      </div>
      <div className="file-editor-body">
        {loaded.state === "loading" && <div className="muted file-editor-message">Loading {path}…</div>}
        {loaded.state === "error" && (
          <div className="error-text file-editor-message">
            Cannot open {path}: {loaded.message}
          </div>
        )}
        {loaded.state === "binary" && (
          <div className="file-editor-message" data-testid="file-binary">
            {path} is not a text file ({loaded.size} bytes), so it cannot be edited here. Download it instead.
          </div>
        )}
        {loaded.state === "text" && (
          <MonacoEditor path={path} value={loaded.text} readOnly={!maySave} onChange={onChange} onSave={() => void save()} />
        )}
      </div>
    </div>
  );
}
