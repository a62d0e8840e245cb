"use client";
import { useNotebookContext } from "./notebook-context";
import { gateway } from "../../shared/gateway";
import { DownloadIcon } from "../../shared/icons";

/** Downloads the notebook as .ipynb. The file must hold what is on screen, so pending edits are
 * saved first; the gateway's Content-Disposition names the file after the title. */
export function ExportNotebookButton() {
  const { store, saveNow } = useNotebookContext();
  const exportNotebook = async () => {
    await saveNow().catch(() => {});
    const link = document.createElement("a");
    link.href = gateway.notebooks.exportPath(store.getState().notebookId);
    link.download = "";
    link.click();
  };
  return (
    <button
      type="button"
      className="tool"
      data-testid="export-notebook"
      onMouseDown={(e) => e.preventDefault()}
      onClick={() => void exportNotebook()}
      title="Download this notebook as a Jupyter .ipynb file"
    >
      <DownloadIcon /> Export
    </button>
  );
}
