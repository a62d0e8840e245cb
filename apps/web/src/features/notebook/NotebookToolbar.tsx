"use client";
import { useNotebookContext, useNotebookState } from "./notebook-context";
import { useMay } from "./page-roles";
import { CellTypeSelect } from "./CellTypeSelect";
import { ExportNotebookButton } from "./ExportNotebookButton";
import { ImagePicker } from "./ImagePicker";
import { NotebookDevicePicker } from "../devices/NotebookDevicePicker";
import { EraserIcon, PlayIcon, PlusIcon, RestartIcon, RunAllIcon, SearchIcon, StopIcon } from "../../shared/icons";

export function NotebookToolbar() {
  const { store, commands } = useNotebookContext();
  const status = useNotebookState((s) => s.kernel.status);
  const mode = useNotebookState((s) => s.mode);
  const addCell = (type: "code" | "markdown") => {
    const s = store.getState();
    s.addCell(type, s.activeCellId ? { after: s.activeCellId } : "end");
  };
  const restartAndRunAll = () =>
    store.getState().ask({
      title: "Restart the kernel and run all cells?",
      message: "All variables are lost; every cell then runs again from the top.",
      confirmLabel: "Restart and run all",
      onConfirm: () => void commands.restartAndRunAll(),
    });
  const noKernel = status === "dead" || status === "connecting";
  const mayEdit = useMay("edit");
  const mayRun = useMay("run");
  const mayInterrupt = useMay("interrupt");
  const mayRestart = useMay("restart");
  const mayClear = useMay("clearOutputs");
  const mayChangeImage = useMay("changeImage");
  return (
    <div className="toolbar" role="toolbar" aria-label="Notebook actions">
      {mayEdit && (
        <>
          <Tool id="add-code-cell" title="Add a code cell below the selected one (B)" onClick={() => addCell("code")}>
            <PlusIcon /> Code
          </Tool>
          <Tool id="add-markdown-cell" title="Add a markdown cell below the selected one" onClick={() => addCell("markdown")}>
            <PlusIcon /> Markdown
          </Tool>
          <span className="toolbar-sep" />
        </>
      )}
      {mayRun && (
        <>
          <Tool id="run-cell" title="Run the selected cells (Ctrl+Enter)" onClick={() => commands.runActiveCell()}>
            <PlayIcon /> Run
          </Tool>
          <Tool id="run-all" title="Run all cells" onClick={() => commands.runAll()}>
            <RunAllIcon /> Run all
          </Tool>
          <Tool id="run-above" title="Run the cells above the selected one" onClick={() => commands.runAbove()}>
            Above
          </Tool>
          <Tool id="run-below" title="Run the selected cell and all below it" onClick={() => commands.runBelow()}>
            Below
          </Tool>
          <span className="toolbar-sep" />
        </>
      )}
      {mayInterrupt && (
        <Tool id="interrupt-kernel" title="Interrupt the kernel (I, I)" onClick={() => void commands.interrupt()} disabled={noKernel}>
          <StopIcon /> Interrupt
        </Tool>
      )}
      {mayRestart && (
        <Tool id="restart-kernel" title="Restart the kernel (outputs are kept)" onClick={() => void commands.restart()}>
          <RestartIcon /> Restart
        </Tool>
      )}
      {mayRestart && mayRun && (
        <Tool id="restart-run-all" title="Restart the kernel, then run all cells" onClick={restartAndRunAll}>
          <RestartIcon /> Restart &amp; run all
        </Tool>
      )}
      {(mayInterrupt || mayRestart) && <span className="toolbar-sep" />}
      {mayClear && (
        <>
          <Tool id="clear-outputs" title="Clear the outputs of the selected cells" onClick={() => commands.clearOutputs()}>
            <EraserIcon /> Clear
          </Tool>
          <Tool id="clear-all-outputs" title="Clear the outputs of all cells" onClick={() => commands.clearAllOutputs()}>
            <EraserIcon /> Clear all
          </Tool>
          <span className="toolbar-sep" />
        </>
      )}
      {mayEdit && (
        <>
          <CellTypeSelect />
          <span className="toolbar-sep" />
        </>
      )}
      <Tool id="find-open" title="Find and replace in all cells (Ctrl+F)" onClick={() => store.getState().setFindOpen(true)}>
        <SearchIcon /> Find
      </Tool>
      <span className="toolbar-sep" />
      <ExportNotebookButton />
      <ExportNotebookButton format="html" />
      <span className="toolbar-spacer" />
      <NotebookDevicePicker />
      {mayChangeImage ? (
        <ImagePicker />
      ) : (
        <span className="notebook-access" data-testid="notebook-access" title="What the owner shared with you">
          {mayRun ? "Can run" : "View only"}
        </span>
      )}
      <span
        className={`notebook-mode notebook-mode-${mode}`}
        data-testid="notebook-mode"
        data-mode={mode}
        title="Esc: command mode · Enter: edit mode"
      >
        {mode === "edit" ? "Edit" : "Command"}
      </span>
    </div>
  );
}

// Keep the editor's focus and selection when a toolbar button is clicked.
const keepFocus = (e: React.MouseEvent) => e.preventDefault();

function Tool({
  id,
  title,
  onClick,
  disabled,
  children,
}: {
  id: string;
  title: string;
  onClick: () => void;
  disabled?: boolean;
  children: React.ReactNode;
}) {
  return (
    <button type="button" className="tool" data-testid={id} onMouseDown={keepFocus} onClick={onClick} title={title} disabled={disabled}>
      {children}
    </button>
  );
}
