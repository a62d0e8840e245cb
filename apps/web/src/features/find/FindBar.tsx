"use client";
import { useEffect, useMemo, useRef, useState } from "react";
import { useNotebookContext, useNotebookState } from "../notebook/notebook-context";
import { compileQuery, findMatches, replaceAll, replaceMatch, type FindOptions } from "./find-replace";
import { useMay } from "../notebook/page-roles";

/** Find and replace across all cells (Ctrl+F), like JupyterLab's notebook search: matches are
 * marked in every editor, Enter / Shift+Enter step through them, and replace works on the current
 * match or all of them (for a role that may edit: anyone else only finds). */
export function FindBar() {
  const open = useNotebookState((s) => s.findOpen);
  if (!open) return null;
  return <FindBarOpen />;
}

function FindBarOpen() {
  const { store } = useNotebookContext();
  const cells = useNotebookState((s) => s.cells);
  const [query, setQuery] = useState("");
  const [replacement, setReplacement] = useState("");
  const [options, setOptionsState] = useState<FindOptions>({ caseSensitive: false, regex: false });
  const [index, setIndex] = useState(0);
  const input = useRef<HTMLInputElement>(null);
  const mayReplace = useMay("edit");

  const compiled = useMemo(() => (query ? compileQuery(query, options) : null), [query, options]);
  const matches = useMemo(() => findMatches(cells, query, options), [cells, query, options]);
  const current = matches.length ? matches[Math.min(index, matches.length - 1)] : null;

  useEffect(() => input.current?.select(), []);

  useEffect(() => {
    store.getState().setSearch({ pattern: compiled?.ok ? compiled.pattern : null, current });
  }, [store, compiled, current]);

  // Show where the current match is; a rendered markdown cell opens so the mark is visible.
  useEffect(() => {
    if (!current) return;
    const s = store.getState();
    if (s.cells.find((c) => c.id === current.cellId)?.cell_type === "markdown") s.setEditingMarkdown(current.cellId, true);
    s.revealCell(current.cellId);
  }, [store, current?.cellId, current?.from]); // eslint-disable-line react-hooks/exhaustive-deps

  // A new query or new options start again from the first match.
  const setOptions = (next: FindOptions) => {
    setOptionsState(next);
    setIndex(0);
  };
  const step = (delta: 1 | -1) => {
    if (!matches.length) return;
    setIndex((i) => (Math.min(i, matches.length - 1) + delta + matches.length) % matches.length);
  };
  const close = () => {
    const s = store.getState();
    s.setFindOpen(false);
    if (s.activeCellId) s.selectCell(s.activeCellId);
  };
  const replaceCurrent = () => {
    if (!current) return;
    const source = cells.find((c) => c.id === current.cellId)?.source ?? "";
    store.getState().setSource(current.cellId, replaceMatch(source, current, query, replacement, options));
  };
  const replaceEverywhere = () => store.getState().replaceSources(replaceAll(cells, query, replacement, options));
  const keys = (e: React.KeyboardEvent, onEnter: () => void) => {
    if (e.key === "Escape") {
      e.preventDefault();
      close();
    } else if (e.key === "Enter") {
      e.preventDefault();
      if (e.shiftKey) step(-1);
      else onEnter();
    }
  };

  const count = !query
    ? ""
    : compiled && !compiled.ok
      ? "Invalid regex"
      : matches.length
        ? `${Math.min(index, matches.length - 1) + 1} of ${matches.length}`
        : "No results";
  return (
    <div className="find-bar" role="search" data-testid="find-bar">
      <input
        ref={input}
        className="find-input"
        data-testid="find-input"
        aria-label="Find"
        placeholder="Find"
        value={query}
        onChange={(e) => {
          setQuery(e.target.value);
          setIndex(0);
        }}
        onKeyDown={(e) => keys(e, () => step(1))}
      />
      <label className="find-toggle" title="Match case">
        <input
          type="checkbox"
          data-testid="find-case"
          checked={options.caseSensitive}
          onChange={(e) => setOptions({ ...options, caseSensitive: e.target.checked })}
        />{" "}
        Aa
      </label>
      <label className="find-toggle" title="Regular expression">
        <input
          type="checkbox"
          data-testid="find-regex"
          checked={options.regex}
          onChange={(e) => setOptions({ ...options, regex: e.target.checked })}
        />{" "}
        .*
      </label>
      <span
        className={`find-count${compiled && !compiled.ok ? " error-text" : ""}`}
        data-testid="find-count"
        title={compiled && !compiled.ok ? compiled.error : undefined}
      >
        {count}
      </span>
      <button
        type="button"
        className="tool"
        data-testid="find-previous"
        onClick={() => step(-1)}
        disabled={!matches.length}
        title="Previous match (Shift+Enter)"
      >
        ↑
      </button>
      <button
        type="button"
        className="tool"
        data-testid="find-next"
        onClick={() => step(1)}
        disabled={!matches.length}
        title="Next match (Enter)"
      >
        ↓
      </button>
      {mayReplace && (
        <>
          <input
            className="find-input"
            data-testid="replace-input"
            aria-label="Replace with"
            placeholder="Replace"
            value={replacement}
            onChange={(e) => setReplacement(e.target.value)}
            onKeyDown={(e) => keys(e, replaceCurrent)}
          />
          <button type="button" className="tool" data-testid="replace-one" onClick={replaceCurrent} disabled={!current}>
            Replace
          </button>
          <button type="button" className="tool" data-testid="replace-all" onClick={replaceEverywhere} disabled={!matches.length}>
            Replace all
          </button>
        </>
      )}
      <button type="button" className="icon-button" data-testid="find-close" aria-label="Close find" onClick={close}>
        ×
      </button>
    </div>
  );
}
