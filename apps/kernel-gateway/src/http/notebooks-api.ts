// The notebook HTTP API: JSON in, JSON out, every body validated. Outputs are not accepted from
// the browser; the gateway records them from the kernel.
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  validateNotebookId, validateNotebookUpdate,
  type Notebook, type NotebookSummary, type NotebookUpdate,
} from "@cellar/protocol";

export interface NotebookApiStore {
  list(userId: string): Promise<NotebookSummary[]>;
  create(userId: string, title?: string): Promise<Notebook>;
  get(id: string): Promise<Notebook | null>;
  update(id: string, update: NotebookUpdate): Promise<Notebook | null>;
  remove(id: string): Promise<boolean>;
}

export const MAX_BODY_BYTES = 20 * 1024 * 1024;

export class HttpError extends Error {
  constructor(readonly status: number, message: string) { super(message); }
}

export async function handleNotebooksApi(
  req: IncomingMessage, res: ServerResponse, store: NotebookApiStore, userId: string,
  onSaved: (notebookId: string, notebook: Notebook) => void = () => {},
  onDeleted: (notebookId: string) => void = () => {},
  imageExists: (name: string) => boolean = () => true,
): Promise<boolean> {
  const url = new URL(req.url ?? "/", "http://x");
  const parts = url.pathname.split("/").filter(Boolean); // ["api", "notebooks", id?]
  if (parts[0] !== "api" || parts[1] !== "notebooks" || parts.length > 3) return false;
  const method = req.method ?? "GET";

  if (parts.length === 2) {
    if (method === "GET") return sendJson(res, 200, await store.list(userId));
    if (method === "POST") {
      const body = (await readJson(req)) as { title?: unknown } | null;
      const title = typeof body?.title === "string" ? body.title.slice(0, 500) : undefined;
      return sendJson(res, 201, await store.create(userId, title));
    }
    throw new HttpError(405, `${method} is not allowed here`);
  }

  const id = validateNotebookId(parts[2]);
  if (!id.ok) throw new HttpError(400, `Bad notebook id: ${id.error}`);
  if (method === "GET") {
    const nb = await store.get(id.value);
    if (!nb) throw new HttpError(404, "No such notebook");
    return sendJson(res, 200, nb);
  }
  if (method === "PUT") {
    const update = validateNotebookUpdate(await readJson(req));
    if (!update.ok) throw new HttpError(400, `Invalid notebook: ${update.error}`);
    if (update.value.image !== undefined && !imageExists(update.value.image)) throw new HttpError(400, `No image named ${update.value.image}`);
    const ids = update.value.cells?.map((c) => c.id) ?? [];
    if (new Set(ids).size !== ids.length) throw new HttpError(400, "Invalid notebook: duplicate cell ids");
    const nb = await store.update(id.value, update.value);
    if (!nb) throw new HttpError(404, "No such notebook");
    onSaved(nb.id, nb);
    return sendJson(res, 200, nb);
  }
  if (method === "DELETE") {
    if (!(await store.remove(id.value))) throw new HttpError(404, "No such notebook");
    onDeleted(id.value);
    res.writeHead(204).end();
    return true;
  }
  throw new HttpError(405, `${method} is not allowed here`);
}

export function sendJson(res: ServerResponse, status: number, value: unknown): true {
  const body = JSON.stringify(value);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" });
  res.end(body);
  return true;
}

/** The request body as UTF-8 text, refused past MAX_BODY_BYTES. */
export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `Request body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const text = await readBody(req);
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, "Request body is not valid JSON");
  }
}
