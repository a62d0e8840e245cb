// The gateway's notebook HTTP API. Same origin, relative URLs, the session cookie does the auth.
import type { Notebook, NotebookSummary, NotebookUpdate } from "@cellar/protocol";
import { markAuthRequired } from "./auth-store";

export class ApiError extends Error {
  /** What the gateway found wrong, one line each (an invalid .ipynb: which cell, which field). */
  problems: string[] = [];
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = "ApiError";
  }
}

/**
 * A request to the gateway, same origin with the session cookie: the response when it is OK, else
 * an ApiError with the gateway's message (and problems). A 401 marks the session as needing the token.
 */
export async function send(method: string, path: string, init: RequestInit = {}): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(path, { method, credentials: "same-origin", ...init });
  } catch {
    throw new ApiError(0, "Cannot reach the Cellar gateway.");
  }
  if (res.status === 401) markAuthRequired();
  if (!res.ok) {
    const text = await res.text().catch(() => "");
    let message = text || res.statusText;
    let problems: string[] = [];
    try {
      const parsed = JSON.parse(text) as { error?: string; problems?: string[] };
      message = parsed.error ?? message;
      problems = parsed.problems ?? [];
    } catch {
      /* not JSON: keep the text */
    }
    const error = new ApiError(res.status, message);
    error.problems = problems;
    throw error;
  }
  return res;
}

async function request<T>(method: string, path: string, body?: unknown, init: RequestInit = {}): Promise<T> {
  const res = await send(method, path, {
    headers: body === undefined ? undefined : { "content-type": "application/json" },
    // A string is sent as is: an .ipynb file's text.
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    ...init,
  });
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

const notebookPath = (id: string) => `/api/notebooks/${encodeURIComponent(id)}`;

export const api = {
  listImages: () => request<Array<{ name: string; description: string }>>("GET", "/api/images"),
  listNotebooks: () => request<NotebookSummary[]>("GET", "/api/notebooks"),
  createNotebook: (title?: string) => request<Notebook>("POST", "/api/notebooks", title === undefined ? {} : { title }),
  getNotebook: (id: string) => request<Notebook>("GET", notebookPath(id)),
  updateNotebook: (id: string, update: NotebookUpdate, init?: RequestInit) => request<Notebook>("PUT", notebookPath(id), update, init),
  deleteNotebook: (id: string) => request<void>("DELETE", notebookPath(id)),
  renameNotebook: (id: string, title: string) => request<Notebook>("PUT", notebookPath(id), { title }),
  duplicateNotebook: (id: string) => request<Notebook>("POST", `${notebookPath(id)}/duplicate`),
  /** `fileName` becomes the title, without ".ipynb". */
  importNotebook: (ipynbText: string, fileName: string) =>
    request<Notebook & { url: string }>("POST", `/api/notebooks/import?title=${encodeURIComponent(fileName)}`, ipynbText),
  exportUrl: (id: string) => `${notebookPath(id)}/export`,
};

export const isNotFound = (e: unknown) => e instanceof ApiError && e.status === 404;
export const isUnauthorized = (e: unknown) => e instanceof ApiError && e.status === 401;
