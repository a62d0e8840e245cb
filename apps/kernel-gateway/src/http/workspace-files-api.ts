// A notebook's workspace files over HTTP. The files live on the worker that runs (or last ran) the
// notebook's kernel, so every request is relayed to it as a "files:*" socket event and its answer
// is turned back into HTTP.
import type { IncomingMessage, ServerResponse } from "node:http";
import contentDisposition from "content-disposition";
import {
  MAX_WORKSPACE_FILE_BYTES, validateNotebookId, validateWorkspacePath,
  type WorkspaceFileErrorCode, type WorkspaceFilesEvents,
} from "@cellar/protocol";
import { HttpError, readBody, sendJson } from "./notebooks-api";

type FilesEvent = keyof WorkspaceFilesEvents;
type FilesPayload<E extends FilesEvent> = Parameters<WorkspaceFilesEvents[E]>[0];
type FilesResult<E extends FilesEvent> = Parameters<Parameters<WorkspaceFilesEvents[E]>[1]>[0];

/** What the relay needs of a worker's socket: ask one "files:*" question, with a time limit
 * (rejects when it passes). */
export interface FilesWorker {
  ask<E extends FilesEvent>(event: E, payload: FilesPayload<E>, timeoutMs: number): Promise<FilesResult<E>>;
}

export interface WorkspaceFilesDeps {
  notebookExists(notebookId: string): Promise<boolean>;
  /** The worker that holds the notebook's workspace, or undefined when none is connected. */
  workerFor(notebookId: string): FilesWorker | undefined;
  /** How long a worker may take to answer (uploads of the largest files included). */
  timeoutMs?: number;
  /** Upload limit; MAX_WORKSPACE_FILE_BYTES unless a test wants a small one. */
  maxFileBytes?: number;
}

const STATUS: Record<WorkspaceFileErrorCode, number> = {
  invalid_path: 400, not_found: 404, exists: 409, not_a_directory: 400, is_a_directory: 400,
  too_large: 413, outside_workspace: 403, failed: 500,
};

/**
 * GET    /api/notebooks/:id/files?path=            list a folder ("" is the workspace)
 * DELETE /api/notebooks/:id/files?path=            delete a file or a folder with its contents
 * GET    /api/notebooks/:id/files/content?path=    the file's bytes (always as an attachment)
 * PUT    /api/notebooks/:id/files/content?path=[&createOnly=1]  upload or save (raw body)
 * POST   /api/notebooks/:id/files/dirs?path=       create a folder
 * POST   /api/notebooks/:id/files/rename           {"from": …, "to": …}
 * Returns false for any other request.
 */
export async function handleWorkspaceFilesApi(req: IncomingMessage, res: ServerResponse, deps: WorkspaceFilesDeps): Promise<boolean> {
  const url = new URL(req.url ?? "/", "http://x");
  const parts = url.pathname.split("/").filter(Boolean);
  if (parts[0] !== "api" || parts[1] !== "notebooks" || parts[3] !== "files" || parts.length > 5) return false;
  const route = `${req.method ?? "GET"} ${parts[4] ?? ""}`;
  const routes = ["GET ", "DELETE ", "GET content", "PUT content", "POST dirs", "POST rename"];
  if (!routes.includes(route)) {
    if (routes.some((r) => r.endsWith(` ${parts[4] ?? ""}`))) throw new HttpError(405, `${req.method} is not allowed here`);
    return false;
  }

  const id = validateNotebookId(parts[2]);
  if (!id.ok) throw new HttpError(400, `Bad notebook id: ${id.error}`);
  const notebookId = id.value;
  if (!(await deps.notebookExists(notebookId))) throw new HttpError(404, "No such notebook");
  const pathParam = () => {
    const p = validateWorkspacePath(url.searchParams.get("path") ?? "");
    if (!p.ok) throw new HttpError(400, `Bad path: ${p.error}`);
    if (!p.value && route !== "GET ") throw new HttpError(400, "Bad path: it names the workspace itself");
    return p.value;
  };
  // Checked before the worker, so a bad request is told what is wrong even with no worker.
  const filePath = route === "POST rename" ? "" : pathParam();
  const body = route === "PUT content" ? await readBytes(req, deps.maxFileBytes ?? MAX_WORKSPACE_FILE_BYTES) : route === "POST rename" ? await readRename(req) : undefined;

  const worker = deps.workerFor(notebookId);
  if (!worker) {
    throw new HttpError(503, "No worker is connected, so this notebook's files cannot be reached. Start a worker and try again.");
  }
  const timeoutMs = deps.timeoutMs ?? 60_000;
  const ask = async <E extends FilesEvent>(event: E, payload: FilesPayload<E>): Promise<Extract<FilesResult<E>, { ok: true }>> => {
    let result: FilesResult<E>;
    try {
      result = await worker.ask(event, payload, timeoutMs);
    } catch {
      throw new HttpError(504, `The worker did not answer within ${timeoutMs / 1000} s.`);
    }
    if (!result.ok) throw new HttpError(STATUS[result.code] ?? 500, result.error);
    return result as Extract<FilesResult<E>, { ok: true }>;
  };

  switch (route) {
    case "GET ": {
      const { entries } = await ask("files:list", { notebookId, path: filePath });
      return sendJson(res, 200, { path: filePath, entries });
    }
    case "DELETE ":
      await ask("files:delete", { notebookId, path: filePath });
      res.writeHead(204).end();
      return true;
    case "GET content": {
      const { content, entry } = await ask("files:read", { notebookId, path: filePath, maxBytes: MAX_WORKSPACE_FILE_BYTES });
      // Always an attachment, never sniffed: a kernel-written .html must not run in our origin.
      res.writeHead(200, {
        "content-type": "application/octet-stream",
        "content-length": content.byteLength,
        "content-disposition": contentDisposition(entry.name),
        "x-content-type-options": "nosniff",
        "content-security-policy": "sandbox",
        "cache-control": "no-store",
      });
      res.end(Buffer.from(content.buffer, content.byteOffset, content.byteLength));
      return true;
    }
    case "PUT content": {
      const createOnly = url.searchParams.get("createOnly") === "1";
      const { entry } = await ask("files:write", { notebookId, path: filePath, content: body as Buffer, createOnly });
      return sendJson(res, 200, entry);
    }
    case "POST dirs": {
      const { entry } = await ask("files:mkdir", { notebookId, path: filePath });
      return sendJson(res, 201, entry);
    }
    default: {
      const { from, to } = body as { from: string; to: string };
      const { entry } = await ask("files:rename", { notebookId, from, to });
      return sendJson(res, 200, entry);
    }
  }
}

async function readBytes(req: IncomingMessage, limit: number): Promise<Buffer> {
  const tooLarge = () => new HttpError(413, `Files are limited to ${+(limit / 1024 / 1024).toFixed(3)} MiB`);
  if (Number(req.headers["content-length"] ?? 0) > limit) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > limit) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

async function readRename(req: IncomingMessage): Promise<{ from: string; to: string }> {
  let body: { from?: unknown; to?: unknown };
  try {
    body = JSON.parse(await readBody(req)) ?? {};
  } catch {
    throw new HttpError(400, "Request body is not valid JSON");
  }
  const from = validateWorkspacePath(body.from);
  const to = validateWorkspacePath(body.to);
  if (!from.ok || !from.value) throw new HttpError(400, `Bad "from": ${from.ok ? "names the workspace itself" : from.error}`);
  if (!to.ok || !to.value) throw new HttpError(400, `Bad "to": ${to.ok ? "names the workspace itself" : to.error}`);
  return { from: from.value, to: to.value };
}
