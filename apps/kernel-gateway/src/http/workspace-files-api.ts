// A notebook's workspace files over HTTP. The files live on the worker that runs (or last ran) the
// notebook's kernel, so every request is relayed to it as a "files:*" socket event and its answer
// is turned back into HTTP. Paths were checked by the route table's schemas before any of this.
import contentDisposition from "content-disposition";
import { MAX_WORKSPACE_FILE_BYTES, type WorkspaceFileErrorCode, type WorkspaceFilesEvents } from "@cellar/protocol";
import type { WorkerNamespace } from "../sockets/socket-server";
import { workerRoom } from "../sockets/rooms";
import type { WorkerSocket } from "../workers/worker-pool";
import type { ApiHandlers } from "./api-handlers";
import { HttpError } from "./http-errors";

type FilesEvent = keyof WorkspaceFilesEvents;
type FilesPayload<E extends FilesEvent> = Parameters<WorkspaceFilesEvents[E]>[0];
type FilesResult<E extends FilesEvent> = Parameters<Parameters<WorkspaceFilesEvents[E]>[1]>[0];

/** What the relay needs of a worker's socket: ask one "files:*" question, with a time limit
 * (rejects when it passes). */
export interface FilesWorker {
  ask<E extends FilesEvent>(event: E, payload: FilesPayload<E>, timeoutMs: number): Promise<FilesResult<E>>;
}

/** A worker's socket as a FilesWorker. */
export function socketFilesWorker(socket: WorkerSocket): FilesWorker {
  return {
    // socket.io's typed emitWithAck cannot follow a generic event name; the event map is the same one.
    ask: (event, payload, timeoutMs) =>
      (socket.timeout(timeoutMs).emitWithAck as (e: FilesEvent, p: unknown) => Promise<never>)(event, payload),
  };
}

/** A worker connected to any gateway replica, through its room (the Redis adapter carries the
 * question and its answer). */
export function roomFilesWorker(workers: WorkerNamespace, workerId: string): FilesWorker {
  return {
    ask: async (event, payload, timeoutMs) => {
      const answers = await (
        workers.to(workerRoom(workerId)).timeout(timeoutMs).emitWithAck as (e: FilesEvent, p: unknown) => Promise<never[]>
      )(event, payload);
      if (!answers.length) throw new Error(`worker ${workerId} is not connected`);
      return answers[0];
    },
  };
}

export interface WorkspaceFilesDeps {
  notebookExists(notebookId: string): Promise<boolean>;
  /** The worker that holds the notebook's workspace, or undefined when none is connected. */
  workerFor(notebookId: string): FilesWorker | undefined | Promise<FilesWorker | undefined>;
  /** How long a worker may take to answer (uploads of the largest files included). */
  timeoutMs?: number;
  /** Upload limit; MAX_WORKSPACE_FILE_BYTES unless a test wants a small one. */
  maxFileBytes?: number;
}

const STATUS: Record<WorkspaceFileErrorCode, number> = {
  invalid_path: 400,
  not_found: 404,
  exists: 409,
  not_a_directory: 400,
  is_a_directory: 400,
  too_large: 413,
  outside_workspace: 403,
  failed: 500,
};

type FilesRoute = "listFiles" | "deleteFile" | "downloadFile" | "uploadFile" | "createFolder" | "renameFile";

export function workspaceFilesApi(deps: WorkspaceFilesDeps | undefined): ApiHandlers<FilesRoute> {
  const timeoutMs = deps?.timeoutMs ?? 60_000;
  /** Asks the worker holding the notebook's workspace; its refusal becomes the matching status. */
  const ask = async <E extends FilesEvent>(event: E, payload: FilesPayload<E>): Promise<Extract<FilesResult<E>, { ok: true }>> => {
    if (!deps) throw new HttpError(404, "Not found");
    if (!(await deps.notebookExists(payload.notebookId))) throw new HttpError(404, "No such notebook");
    const worker = await deps.workerFor(payload.notebookId);
    if (!worker) {
      throw new HttpError(503, "No worker is connected, so this notebook's files cannot be reached. Start a worker and try again.");
    }
    let result: FilesResult<E>;
    try {
      result = await worker.ask(event, payload, timeoutMs);
    } catch {
      throw new HttpError(504, `The worker did not answer within ${timeoutMs / 1000} s.`);
    }
    if (!result.ok) throw new HttpError(STATUS[result.code] ?? 500, result.error);
    return result as Extract<FilesResult<E>, { ok: true }>;
  };

  return {
    listFiles: async (req) => {
      const path = req.query.path;
      const { entries } = await ask("files:list", { notebookId: req.params.id, path });
      return { path, entries };
    },
    deleteFile: async (req, reply) => {
      await ask("files:delete", { notebookId: req.params.id, path: req.query.path });
      return reply.code(204).send(null);
    },
    downloadFile: async (req, reply) => {
      const { content, entry } = await ask("files:read", {
        notebookId: req.params.id,
        path: req.query.path,
        maxBytes: MAX_WORKSPACE_FILE_BYTES,
      });
      // Always an attachment, never sniffed: a kernel-written .html must not run in our origin.
      return reply
        .header("content-type", "application/octet-stream")
        .header("content-disposition", contentDisposition(entry.name))
        .header("x-content-type-options", "nosniff")
        .header("content-security-policy", "sandbox")
        .header("cache-control", "no-store")
        .send(Buffer.from(content.buffer, content.byteOffset, content.byteLength));
    },
    uploadFile: async (req) => {
      const content = (req.body as Buffer | undefined) ?? Buffer.alloc(0);
      const { entry } = await ask("files:write", {
        notebookId: req.params.id,
        path: req.query.path,
        content,
        createOnly: req.query.createOnly,
      });
      return entry;
    },
    createFolder: async (req, reply) => {
      const { entry } = await ask("files:mkdir", { notebookId: req.params.id, path: req.query.path });
      return reply.code(201).send(entry);
    },
    renameFile: async (req) => {
      const { entry } = await ask("files:rename", { notebookId: req.params.id, from: req.body.from, to: req.body.to });
      return entry;
    },
  };
}

/** The 413 answer of an upload over the limit. */
export const uploadTooLarge = (limit: number) => `Files are limited to ${+(limit / 1024 / 1024).toFixed(3)} MiB`;
