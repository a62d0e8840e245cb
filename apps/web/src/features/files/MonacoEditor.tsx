"use client";
// Monaco, bundled with the app: there is no CDN to load it from, so @monaco-editor/react is told to
// use this copy. Only the editor core and a few tokenisers are imported (the language services of
// the full build need their own workers and add megabytes). Loaded only in the browser, through
// next/dynamic in FileEditor, because Monaco touches `window` as it loads.
import { useRef } from "react";
import Editor, { loader } from "@monaco-editor/react";
import * as monaco from "monaco-editor/esm/vs/editor/editor.api.js";
import "monaco-editor/esm/vs/editor/editor.all.js";
import "monaco-editor/esm/vs/basic-languages/python/python.contribution.js";
import "monaco-editor/esm/vs/basic-languages/markdown/markdown.contribution.js";
import "monaco-editor/esm/vs/basic-languages/shell/shell.contribution.js";
import "monaco-editor/esm/vs/basic-languages/sql/sql.contribution.js";
import "monaco-editor/esm/vs/basic-languages/yaml/yaml.contribution.js";
import "monaco-editor/esm/vs/basic-languages/xml/xml.contribution.js";
import "monaco-editor/esm/vs/basic-languages/html/html.contribution.js";
import "monaco-editor/esm/vs/basic-languages/javascript/javascript.contribution.js";
import "monaco-editor/esm/vs/basic-languages/r/r.contribution.js";
import "monaco-editor/esm/vs/basic-languages/ini/ini.contribution.js";

(self as unknown as { MonacoEnvironment: monaco.Environment }).MonacoEnvironment = {
  getWorker: () => new Worker(new URL("monaco-editor/esm/vs/editor/editor.worker.js", import.meta.url), { type: "module" }),
};
loader.config({ monaco });

export interface MonacoEditorProps {
  /** Workspace-relative path: names the model, and its extension picks the language. */
  path: string;
  value: string;
  /** Shown but not editable (a role that may not save it). */
  readOnly?: boolean;
  onChange(value: string): void;
  onSave(): void;
}

export default function MonacoEditor({ path, value, readOnly = false, onChange, onSave }: MonacoEditorProps) {
  const save = useRef(onSave);
  save.current = onSave;
  // The model is disposed when this unmounts (keepCurrentModel is off), so reopening reads afresh.
  return (
    <Editor
      path={`file:///workspace/${path}`}
      defaultValue={value}
      onChange={(v) => onChange(v ?? "")}
      onMount={(editor) => {
        // Ctrl+S saves this file (Monaco stops the key, so the notebook's own Ctrl+S does not run).
        editor.addCommand(monaco.KeyMod.CtrlCmd | monaco.KeyCode.KeyS, () => save.current());
        editor.focus();
      }}
      options={{ automaticLayout: true, minimap: { enabled: false }, fontSize: 13, scrollBeyondLastLine: false, wordWrap: "off", readOnly }}
      loading={<div className="muted file-editor-message">Loading editor…</div>}
    />
  );
}
