"use client";
import { useNotebookContext, useNotebookState } from "../hooks/notebook-context";
import { ExportNotebookButton } from "./ExportNotebookButton";
import { PlayIcon, PlusIcon, RestartIcon, RunAllIcon, StopIcon } from "./icons";

export function NotebookToolbar() {
  const { store, commands } = useNotebookContext();
  const status = useNotebookState((s) => s.kernel.status);
  const addCell = (type: "code" | "markdown") => {
    const s = store.getState();
    s.addCell(type, s.activeCellId ? { after: s.activeCellId } : "end");
  };
  // Keep the editor's focus and selection when a toolbar button is clicked.
  const keepFocus = (e: React.MouseEvent) => e.preventDefault();
  return (
    <div className="toolbar" role="toolbar" aria-label="Notebook actions">
      <button className="tool" data-testid="add-code-cell" onMouseDown={keepFocus} onClick={() => addCell("code")} title="Add a code cell below the selected one">
        <PlusIcon /> Code
      </button>
      <button className="tool" data-testid="add-markdown-cell" onMouseDown={keepFocus} onClick={() => addCell("markdown")} title="Add a markdown cell below the selected one">
        <PlusIcon /> Markdown
      </button>
      <span className="toolbar-sep" />
      <button className="tool" data-testid="run-cell" onMouseDown={keepFocus} onClick={() => commands.runActiveCell()} title="Run the selected cell (Ctrl+Enter)">
        <PlayIcon /> Run
      </button>
      <button className="tool" data-testid="run-all" onMouseDown={keepFocus} onClick={() => commands.runAll()} title="Run all cells">
        <RunAllIcon /> Run all
      </button>
      <button className="tool" data-testid="interrupt-kernel" onMouseDown={keepFocus} onClick={() => void commands.interrupt()} title="Interrupt the kernel" disabled={status === "dead" || status === "connecting"}>
        <StopIcon /> Interrupt
      </button>
      <button className="tool" data-testid="restart-kernel" onMouseDown={keepFocus} onClick={() => void commands.restart()} title="Restart the kernel (outputs are kept)">
        <RestartIcon /> Restart
      </button>
      <span className="toolbar-sep" />
      <ExportNotebookButton />
    </div>
  );
}
