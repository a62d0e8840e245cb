// Notebooks as files: .ipynb import (validated with nbformat's schema) and export, a
// self-contained HTML export (@cellar/notebook-html), duplicate.
import contentDisposition from "content-disposition";
import { notebookToHtml, PAGE_POLICY } from "@cellar/notebook-html";
import { fromIpynb, NotebookFormatError, parseIpynb, serializeIpynb, toIpynb } from "@cellar/notebook-format";
import type { Notebook, NotebookImport } from "@cellar/protocol";
import type { ApiHandlers } from "./api-handlers";
import { userOf } from "./auth";
import { HttpError } from "./http-errors";
import { notFound } from "./notebooks-api";

export interface NotebookFileStore {
  get(id: string): Promise<Notebook | null>;
  importNotebook(userId: string, notebook: NotebookImport): Promise<Notebook>;
}

/** Where the web app shows a notebook; the CLI prints it after an import. */
export const notebookPagePath = (id: string) => `/notebook/?id=${encodeURIComponent(id)}`;

const MAX_TITLE = 500;

export function notebookFilesApi(
  store: NotebookFileStore,
): ApiHandlers<"importNotebook" | "exportNotebook" | "exportNotebookHtml" | "duplicateNotebook"> {
  const withPage = (nb: Notebook) => ({ ...nb, url: notebookPagePath(nb.id) });
  return {
    importNotebook: async (req, reply) => {
      let doc: NotebookImport;
      try {
        doc = fromIpynb(parseIpynb(String(req.body ?? "")), { title: titleFrom(req.query.title) });
      } catch (error) {
        if (!(error instanceof NotebookFormatError)) throw error;
        // Every problem, each naming its cell and field, so the user can fix the file in one go.
        throw new HttpError(400, error.message, error.problems);
      }
      return reply.code(201).send(withPage(await store.importNotebook(userOf(req).id, doc)));
    },
    exportNotebook: async (req, reply) => {
      const notebook = (await store.get(req.params.id)) ?? notFound();
      return reply
        .header("content-type", "application/x-ipynb+json; charset=utf-8")
        .header("content-disposition", contentDisposition(`${fileNameFor(notebook.title)}.ipynb`))
        .header("cache-control", "no-store")
        .send(Buffer.from(serializeIpynb(toIpynb(notebook))));
    },
    exportNotebookHtml: async (req, reply) => {
      const notebook = (await store.get(req.params.id)) ?? notFound();
      const subtitle =
        notebook.kind === "run" ? `Executed copy of a run, saved ${notebook.createdAt.replace("T", " ").slice(0, 16)} UTC` : undefined;
      return (
        reply
          .header("content-type", "text/html; charset=utf-8")
          .header("content-disposition", contentDisposition(`${fileNameFor(notebook.title)}.html`))
          // The page's own policy, also as a header: opened from the gateway's origin, nothing in it may run.
          .header("content-security-policy", PAGE_POLICY)
          .header("cache-control", "no-store")
          .send(Buffer.from(notebookToHtml(notebook, { subtitle })))
      );
    },
    duplicateNotebook: async (req, reply) => {
      const notebook = (await store.get(req.params.id)) ?? notFound();
      const copy = await store.importNotebook(userOf(req).id, {
        title: `${notebook.title} (copy)`.slice(0, MAX_TITLE),
        metadata: notebook.metadata ?? {},
        nbformatMinor: notebook.nbformatMinor ?? 5,
        cells: notebook.cells,
      });
      return reply.code(201).send(withPage(copy));
    },
  };
}

/** The file's name without ".ipynb", as Jupyter shows it. */
function titleFrom(raw: string | undefined): string {
  const title = (raw ?? "")
    .replace(/\.ipynb$/i, "")
    .trim()
    .slice(0, MAX_TITLE);
  return title || "Imported notebook";
}

/** A title is free text; a file name must not carry path separators or control characters. */
function fileNameFor(title: string): string {
  return title.replace(/[\\/\u0000-\u001f\u007f]+/g, "_").trim() || "notebook";
}
