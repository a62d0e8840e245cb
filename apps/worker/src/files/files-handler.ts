// Serves the gateway's workspace file requests ("files:*" events). Every payload is validated with
// the protocol's schemas; every failure is answered with a code and a reason, never thrown.
import path from "node:path";
import {
  filesItemSchema,
  filesListSchema,
  filesReadSchema,
  filesRenameSchema,
  filesWriteSchema,
  validateFilesRequest,
  type FilesAck,
  type WorkspaceFilesEvents,
} from "@cellar/protocol";
import { SANDBOX_GID, SANDBOX_UID } from "../sandbox/bundle";
import { WorkspaceFileError, WorkspaceFiles, type WorkspaceOwner } from "./workspace-files";

/** The part of a socket this needs: something that takes "files:*" handlers. */
export interface FilesSocket {
  on<E extends keyof WorkspaceFilesEvents>(event: E, handler: WorkspaceFilesEvents[E]): unknown;
}

export interface FilesHandlerOptions {
  /** Where notebooks' workspaces live: `<workspacesDir>/<notebookId>` (mounted at /workspace). */
  workspacesDir: string;
  /** Who new files belong to; by default the sandbox user when the worker runs as root. */
  owner?: WorkspaceOwner;
}

export function serveWorkspaceFiles(socket: FilesSocket, opts: FilesHandlerOptions): void {
  const owner = opts.owner ?? (process.getuid?.() === 0 ? { uid: SANDBOX_UID, gid: SANDBOX_GID } : undefined);
  const workspace = (notebookId: string) => new WorkspaceFiles(path.join(opts.workspacesDir, notebookId), owner);

  socket.on("files:list", (p, ack) =>
    answer(ack, async () => {
      const r = check(validateFilesRequest(filesListSchema, p));
      return { entries: await workspace(r.notebookId).list(r.path) };
    }),
  );
  socket.on("files:read", (p, ack) =>
    answer(ack, async () => {
      const r = check(validateFilesRequest(filesReadSchema, p));
      return workspace(r.notebookId).read(r.path, r.maxBytes);
    }),
  );
  socket.on("files:write", (p, ack) =>
    answer(ack, async () => {
      const r = check(validateFilesRequest(filesWriteSchema, p));
      return { entry: await workspace(r.notebookId).write(r.path, r.content, { createOnly: r.createOnly }) };
    }),
  );
  socket.on("files:mkdir", (p, ack) =>
    answer(ack, async () => {
      const r = check(validateFilesRequest(filesItemSchema, p));
      return { entry: await workspace(r.notebookId).mkdir(r.path) };
    }),
  );
  socket.on("files:delete", (p, ack) =>
    answer(ack, async () => {
      const r = check(validateFilesRequest(filesItemSchema, p));
      await workspace(r.notebookId).remove(r.path);
      return {};
    }),
  );
  socket.on("files:rename", (p, ack) =>
    answer(ack, async () => {
      const r = check(validateFilesRequest(filesRenameSchema, p));
      return { entry: await workspace(r.notebookId).rename(r.from, r.to) };
    }),
  );
}

function check<T>(r: { ok: true; value: T } | { ok: false; error: string }): T {
  if (!r.ok) throw new WorkspaceFileError("invalid_path", r.error);
  return r.value;
}

async function answer<T extends object>(ack: FilesAck<T>, work: () => Promise<T>): Promise<void> {
  if (typeof ack !== "function") return;
  try {
    ack({ ok: true, ...(await work()) });
  } catch (err) {
    if (err instanceof WorkspaceFileError) return void ack({ ok: false, code: err.code, error: err.message });
    console.error("worker: workspace file request failed:", err);
    ack({ ok: false, code: "failed", error: (err as Error).message });
  }
}
