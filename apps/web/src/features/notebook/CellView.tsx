"use client";
import { memo, useDeferredValue, useEffect, useRef } from "react";
import { CellEditor, MarkdownView, OutputArea, type RunMode } from "@cellar/ui";
import { useNotebookContext, useNotebookState } from "./notebook-context";
import { useThrottledValue } from "./use-throttled-value";
import { isCellSelected } from "./cell-selection";
import { CellActions } from "./CellActions";
import { CellGutter, type DragHandleProps } from "./CellGutter";
import { InputPrompt } from "../kernel/InputPrompt";
import { useCellCollab } from "../collab/cell-collab";
import { useMay } from "./page-roles";
import { CellQueuedLine } from "../devices/CellDevice";

/** The newest focus request a cell has carried out, per notebook store. */
const handledFocus = new WeakMap<object, number>();

export interface CellViewProps {
  cellId: string;
  index: number;
  count: number;
  dragHandle?: DragHandleProps;
}

/** One cell. Selected cells carry JupyterLab's blue bar; the active one is where keys act. A
 * click outside the editor selects the cell in command mode (Shift+click extends). */
export const CellView = memo(function CellView({ cellId, index, count, dragHandle }: CellViewProps) {
  const { store } = useNotebookContext();
  const cell = useNotebookState((s) => s.cells.find((c) => c.id === cellId));
  const active = useNotebookState((s) => s.activeCellId === cellId);
  const selected = useNotebookState((s) => isCellSelected(s, cellId));
  const mayEdit = useMay("edit");
  const focus = useNotebookState((s) => (s.focusRequest?.cellId === cellId ? s.focusRequest : null));
  const ref = useRef<HTMLDivElement>(null);
  // The cell list mounts and unmounts cells as the page scrolls: a request this cell already
  // carried out must not pull focus and scroll back to it when it is mounted again.
  const fresh = focus !== null && focus.token > (handledFocus.get(store) ?? 0);

  useEffect(() => {
    if (!focus || !fresh) return;
    handledFocus.set(store, focus.token);
    // Optional call: not every DOM (jsdom) has scrollIntoView.
    ref.current?.scrollIntoView?.({ block: "nearest" });
    if (focus.target === "cell") ref.current?.focus({ preventScroll: true });
  }, [focus, fresh, store]);

  if (!cell) return null;
  const editorToken = fresh && focus?.target === "editor" ? focus.token : 0;
  const onMouseDown = (e: React.MouseEvent) => {
    const target = e.target as HTMLElement;
    // The editor takes focus itself (edit mode); buttons do their own thing.
    if (target.closest(".cm-editor, button, a, input, select, summary")) return store.getState().setActiveCell(cellId);
    store.getState().selectCell(cellId, e.shiftKey);
    // Focus goes to the cell (command mode), not to whatever text was clicked.
    if (!target.closest(".cellar-outputs")) e.preventDefault();
  };
  return (
    <div
      ref={ref}
      className={`cell cell-${cell.cell_type}${active ? " cell-active" : ""}${selected ? " cell-selected" : ""}`}
      data-testid="cell"
      data-cell-type={cell.cell_type}
      data-cell-id={cell.id}
      data-selected={selected ? "true" : "false"}
      data-active={active ? "true" : "false"}
      tabIndex={-1}
      onMouseDown={onMouseDown}
    >
      <CellGutter cellId={cellId} isCode={cell.cell_type === "code"} dragHandle={dragHandle} />
      <div className="cell-body">
        {cell.cell_type === "code" ? (
          <CodeCellBody cellId={cellId} source={cell.source} focusToken={editorToken} />
        ) : cell.cell_type === "raw" ? (
          <RawCellBody cellId={cellId} source={cell.source} focusToken={editorToken} />
        ) : (
          <MarkdownCellBody cellId={cellId} source={cell.source} focusToken={editorToken} />
        )}
      </div>
      {mayEdit && <CellActions cellId={cellId} index={index} count={count} isCode={cell.cell_type === "code"} />}
    </div>
  );
});

function useEditorHandlers(cellId: string) {
  const { store, commands, shared } = useNotebookContext();
  // Bound to the shared document, the editor writes the cell's text there itself and the store
  // follows the document; without one (tests) the store takes each change.
  const collab = useCellCollab(shared, cellId);
  const searchPattern = useNotebookState((s) => s.search.pattern);
  const currentMatch = useNotebookState((s) => (s.search.current?.cellId === cellId ? s.search.current : null));
  const readOnly = !useMay("edit");
  return {
    readOnly,
    onChange: collab ? () => {} : (value: string) => store.getState().setSource(cellId, value),
    collab,
    onRun: (mode: RunMode) => commands.runCell(cellId, mode),
    onFocus: () => {
      const s = store.getState();
      s.setActiveCell(cellId);
      s.setMode("edit");
    },
    onBlur: () => store.getState().setMode("command"),
    searchPattern,
    currentMatch,
  };
}

function CodeCellBody({ cellId, source, focusToken }: { cellId: string; source: string; focusToken: number }) {
  const { store, kernel } = useNotebookContext();
  const handlers = useEditorHandlers(cellId);
  // A cell printing fast would re-render its outputs every frame. Throttled, and deferred so that
  // the render yields to keystrokes, it no longer makes typing in any editor wait.
  const outputs = useDeferredValue(
    useThrottledValue(
      useNotebookState((s) => s.outputs[cellId]?.outputs),
      OUTPUT_RENDER_MS,
      nothingShown,
    ),
  );
  const streaming = useNotebookState((s) => Boolean(s.started[cellId]));
  const inputPrompt = useNotebookState((s) => s.inputPrompts[cellId]);
  const lastRunBy = useNotebookState((s) => s.lastRunBy[cellId]?.name);
  // Completion and inspection ask the kernel: offered only to a role the gateway lets ask.
  const mayAssist = useMay("assist");
  return (
    <>
      <CellEditor
        value={source}
        language="python"
        focusToken={focusToken}
        ariaLabel="Code cell"
        onEscape={() => store.getState().commandModeAt(cellId)}
        assist={mayAssist ? kernel?.assist : undefined}
        {...handlers}
      />
      <CellQueuedLine cellId={cellId} />
      <OutputArea outputs={outputs ?? NO_OUTPUTS} streaming={streaming} />
      {inputPrompt && kernel && <InputPrompt prompt={inputPrompt} onAnswer={(value) => kernel.answerInput(cellId, value)} />}
      {lastRunBy && (
        <div className="cell-last-run" data-testid="last-run-by">
          Last run by {lastRunBy}
        </div>
      )}
    </>
  );
}

const NO_OUTPUTS: never[] = [];
/** At most this often a cell's outputs are re-rendered while they stream. */
const OUTPUT_RENDER_MS = 100;
// Re-running a cell clears its outputs at once; its first output, a few ms later, would then wait
// out the rest of the interval (~85 ms for `1+1`, where the stack takes 15). Drawing the first
// output into an empty cell is cheap, so it goes at once.
const nothingShown = (shown: readonly unknown[] | undefined) => !shown || shown.length === 0;

/** A raw cell (nbformat's `raw`): plain text kept exactly as written, never run or rendered. */
function RawCellBody({ cellId, source, focusToken }: { cellId: string; source: string; focusToken: number }) {
  const { store } = useNotebookContext();
  const handlers = useEditorHandlers(cellId);
  return (
    <CellEditor
      value={source}
      language="raw"
      focusToken={focusToken}
      ariaLabel="Raw cell"
      placeholder="Raw text, kept as written"
      onEscape={() => store.getState().commandModeAt(cellId)}
      {...handlers}
    />
  );
}

function MarkdownCellBody({ cellId, source, focusToken }: { cellId: string; source: string; focusToken: number }) {
  const { store } = useNotebookContext();
  const handlers = useEditorHandlers(cellId);
  const editing = useNotebookState((s) => Boolean(s.editingMarkdown[cellId]) && !handlers.readOnly);

  if (!editing) {
    return (
      <MarkdownView
        source={source}
        onDoubleClick={() => {
          if (handlers.readOnly) return;
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
      onEscape={() => {
        // Esc renders the markdown and leaves the editor, as Jupyter does.
        const s = store.getState();
        s.setEditingMarkdown(cellId, false);
        s.commandModeAt(cellId);
      }}
      {...handlers}
    />
  );
}
