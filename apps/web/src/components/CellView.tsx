"use client";
import { memo, useEffect, useRef } from "react";
import { CellEditor, MarkdownView, OutputArea, type RunMode } from "@cellar/ui";
import { useNotebookContext, useNotebookState } from "../hooks/notebook-context";
import { CellActions } from "./CellActions";
import { PlayIcon } from "./icons";

export interface CellViewProps {
  cellId: string;
  index: number;
  count: number;
}

export const CellView = memo(function CellView({ cellId, index, count }: CellViewProps) {
  const { store } = useNotebookContext();
  const cell = useNotebookState((s) => s.cells.find((c) => c.id === cellId));
  const active = useNotebookState((s) => s.activeCellId === cellId);
  const focusToken = useNotebookState((s) => (s.focusRequest?.cellId === cellId ? s.focusRequest.token : 0));
  const ref = useRef<HTMLDivElement>(null);

  useEffect(() => {
    // Optional call: not every DOM (jsdom) has scrollIntoView.
    if (focusToken) ref.current?.scrollIntoView?.({ block: "nearest" });
  }, [focusToken]);

  if (!cell) return null;
  return (
    <div
      ref={ref}
      className={`cell cell-${cell.cell_type}${active ? " cell-active" : ""}`}
      data-testid="cell"
      data-cell-type={cell.cell_type}
      data-cell-id={cell.id}
      tabIndex={-1}
      onMouseDown={() => store.getState().setActiveCell(cellId)}
    >
      <div className="cell-gutter">{cell.cell_type === "code" && <CodeGutter cellId={cellId} />}</div>
      <div className="cell-body">
        {cell.cell_type === "code" ? (
          <CodeCellBody cellId={cellId} source={cell.source} focusToken={focusToken} />
        ) : (
          <MarkdownCellBody cellId={cellId} source={cell.source} focusToken={focusToken} cellRef={ref} />
        )}
      </div>
      <CellActions cellId={cellId} index={index} count={count} />
    </div>
  );
});

function CodeGutter({ cellId }: { cellId: string }) {
  const { commands } = useNotebookContext();
  const running = useNotebookState((s) => Boolean(s.running[cellId]));
  const count = useNotebookState((s) => s.outputs[cellId]?.executionCount ?? null);
  const label = running ? "[*]" : count === null ? "[ ]" : `[${count}]`;
  return (
    <>
      <button className="cell-run" data-testid="run-this-cell" title="Run this cell (Ctrl+Enter)" aria-label="Run this cell" onClick={() => commands.runCell(cellId, "in-place")}>
        <PlayIcon />
      </button>
      <span className={`execution-count${running ? " execution-count-running" : ""}`} data-testid="execution-count">
        {label}
      </span>
    </>
  );
}

function useEditorHandlers(cellId: string) {
  const { store, commands } = useNotebookContext();
  return {
    onChange: (value: string) => store.getState().setSource(cellId, value),
    onRun: (mode: RunMode) => commands.runCell(cellId, mode),
    onFocus: () => store.getState().setActiveCell(cellId),
  };
}

function CodeCellBody({ cellId, source, focusToken }: { cellId: string; source: string; focusToken: number }) {
  const handlers = useEditorHandlers(cellId);
  const outputs = useNotebookState((s) => s.outputs[cellId]?.outputs);
  return (
    <>
      <CellEditor value={source} language="python" focusToken={focusToken} ariaLabel="Code cell" {...handlers} />
      <OutputArea outputs={outputs ?? NO_OUTPUTS} />
    </>
  );
}

const NO_OUTPUTS: never[] = [];

function MarkdownCellBody({ cellId, source, focusToken, cellRef }: { cellId: string; source: string; focusToken: number; cellRef: React.RefObject<HTMLDivElement | null> }) {
  const { store } = useNotebookContext();
  const handlers = useEditorHandlers(cellId);
  const editing = useNotebookState((s) => Boolean(s.editingMarkdown[cellId]));

  // Moving onto a rendered markdown cell (Shift+Enter from above) selects the cell itself.
  useEffect(() => {
    if (focusToken && !editing) cellRef.current?.focus({ preventScroll: true });
  }, [focusToken, editing, cellRef]);

  if (!editing) {
    return (
      <MarkdownView
        source={source}
        onDoubleClick={() => {
          const s = store.getState();
          s.setEditingMarkdown(cellId, true);
          s.focusCell(cellId);
        }}
      />
    );
  }
  return (
    <CellEditor
      value={source}
      language="markdown"
      focusToken={focusToken}
      ariaLabel="Markdown cell"
      placeholder="Write markdown; Shift+Enter to render"
      onEscape={() => store.getState().setEditingMarkdown(cellId, false)}
      {...handlers}
    />
  );
}
