// Notebooks as .ipynb files: import (validated with nbformat's schema), export, duplicate.
import type { IncomingMessage, ServerResponse } from "node:http";
import contentDisposition from "content-disposition";
import { fromIpynb, NotebookFormatError, parseIpynb, serializeIpynb, toIpynb } from "@cellar/notebook-format";
import { validateNotebookId, type Notebook, type NotebookImport } from "@cellar/protocol";
import { HttpError, readBody, sendJson } from "./notebooks-api";

export interface NotebookFileStore {
  get(id: string): Promise<Notebook | null>;
  importNotebook(userId: string, notebook: NotebookImport): Promise<Notebook>;
}

/** Where the web app shows a notebook; the CLI prints it after an import. */
export const notebookPagePath = (id: string) => `/notebook/?id=${encodeURIComponent(id)}`;

const MAX_TITLE = 500;

/** POST /api/notebooks/import[?title=…], GET /api/notebooks/:id/export,
 * POST /api/notebooks/:id/duplicate. Returns false for any other request. */
export async function handleNotebookFilesApi(
  req: IncomingMessage, res: ServerResponse, store: NotebookFileStore, userId: string,
): Promise<boolean> {
  const url = new URL(req.url ?? "/", "http://x");
  const parts = url.pathname.split("/").filter(Boolean);
  if (parts[0] !== "api" || parts[1] !== "notebooks") return false;
  const method = req.method ?? "GET";

  if (parts.length === 3 && parts[2] === "import") {
    if (method !== "POST") throw new HttpError(405, `${method} is not allowed here`);
    const title = titleFrom(url.searchParams.get("title"));
    let doc: NotebookImport;
    try {
      doc = fromIpynb(parseIpynb(await readBody(req)), { title });
    } catch (error) {
      if (!(error instanceof NotebookFormatError)) throw error;
      // Every problem, each naming its cell and field, so the user can fix the file in one go.
      return sendJson(res, 400, { error: error.message, problems: error.problems });
    }
    const notebook = await store.importNotebook(userId, doc);
    return sendJson(res, 201, { ...notebook, url: notebookPagePath(notebook.id) });
  }

  if (parts.length !== 4 || (parts[3] !== "export" && parts[3] !== "duplicate")) return false;
  const id = validateNotebookId(parts[2]);
  if (!id.ok) throw new HttpError(400, `Bad notebook id: ${id.error}`);
  const action = parts[3];
  const expected = action === "export" ? "GET" : "POST";
  if (method !== expected) throw new HttpError(405, `${method} is not allowed here`);
  const notebook = await store.get(id.value);
  if (!notebook) throw new HttpError(404, "No such notebook");

  if (action === "export") {
    const body = serializeIpynb(toIpynb(notebook));
    res.writeHead(200, {
      "content-type": "application/x-ipynb+json; charset=utf-8",
      "content-disposition": contentDisposition(`${fileNameFor(notebook.title)}.ipynb`),
      "cache-control": "no-store",
    });
    res.end(body);
    return true;
  }

  const copy = await store.importNotebook(userId, {
    title: `${notebook.title} (copy)`.slice(0, MAX_TITLE),
    metadata: notebook.metadata ?? {},
    nbformatMinor: notebook.nbformatMinor ?? 5,
    cells: notebook.cells,
  });
  return sendJson(res, 201, { ...copy, url: notebookPagePath(copy.id) });
}

/** The file's name without ".ipynb", as Jupyter shows it. */
function titleFrom(raw: string | null): string {
  const title = (raw ?? "").replace(/\.ipynb$/i, "").trim().slice(0, MAX_TITLE);
  return title || "Imported notebook";
}

/** A title is free text; a file name must not carry path separators or control characters. */
function fileNameFor(title: string): string {
  return title.replace(/[\\/\u0000-\u001f\u007f]+/g, "_").trim() || "notebook";
}
