"use client";
import { useNotebookContext } from "./notebook-context";
import { gateway } from "../../shared/gateway";
import { DownloadIcon } from "../../shared/icons";

export type ExportFormat = "ipynb" | "html";

const FORMATS = {
  ipynb: {
    testId: "export-notebook",
    label: "Export",
    title: "Download this notebook as a Jupyter .ipynb file",
    path: gateway.notebooks.exportPath,
  },
  html: {
    testId: "export-notebook-html",
    label: "HTML",
    title: "Download this notebook as one HTML file (outputs included, no scripts) to read or send anywhere",
    path: gateway.notebooks.exportHtmlPath,
  },
} as const;

/** Downloads the notebook as .ipynb or as a self-contained HTML page. The file must hold what is
 * on screen, so pending edits are saved first; the gateway's Content-Disposition names the file
 * after the title. */
export function ExportNotebookButton({ format = "ipynb" }: { format?: ExportFormat }) {
  const { store, saveNow } = useNotebookContext();
  const { testId, label, title, path } = FORMATS[format];
  const exportNotebook = async () => {
    await saveNow().catch(() => {});
    const link = document.createElement("a");
    link.href = path(store.getState().notebookId);
    link.download = "";
    link.click();
  };
  return (
    <button
      type="button"
      className="tool"
      data-testid={testId}
      onMouseDown={(e) => e.preventDefault()}
      onClick={() => void exportNotebook()}
      title={title}
    >
      <DownloadIcon /> {label}
    </button>
  );
}
