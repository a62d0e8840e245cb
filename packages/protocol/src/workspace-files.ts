// A notebook's workspace (its kernel's working directory, kept by the worker) as the browser sees
// it through the gateway: paths, entries, and the gateway -> worker requests that reach it.
// Paths are checked here so that every side refuses the same things; the worker still resolves
// each path inside the workspace on disk, since a symlink made by the kernel can point anywhere.
import { z } from "zod";
import { check, notebookIdSchema, type Result } from "./validate";

/** Upload, save and download limit of one file. socket.io carries it in one message. */
export const MAX_WORKSPACE_FILE_BYTES = 50 * 1024 * 1024;

export type WorkspaceEntryKind = "file" | "directory" | "symlink" | "other";

export interface WorkspaceEntry {
  name: string;
  /** Relative to the workspace root, "/"-separated, never starting with "/". */
  path: string;
  kind: WorkspaceEntryKind;
  size: number;
  modifiedMs: number;
}

/** Why a file request failed; the gateway maps each to an HTTP status. */
export type WorkspaceFileErrorCode =
  | "invalid_path"
  | "not_found"
  | "exists"
  | "not_a_directory"
  | "is_a_directory"
  | "too_large"
  | "outside_workspace"
  | "failed";

export type FilesAck<T = object> = (result: ({ ok: true } & T) | { ok: false; error: string; code: WorkspaceFileErrorCode }) => void;

const MAX_PATH_CHARS = 1024;

/**
 * A workspace-relative path, normalised to "a/b/c" ("" is the workspace itself). Refused: absolute
 * paths, "..", backslashes, control characters, over-long names. "." and empty segments drop out.
 */
export const workspacePathSchema = z
  .string()
  .max(MAX_PATH_CHARS, "path is too long")
  // eslint-disable-next-line no-control-regex
  .refine((p) => !/[\u0000-\u001f\u007f]/.test(p), "path contains control characters")
  .refine((p) => !p.includes("\\"), "path contains a backslash")
  .refine((p) => !p.startsWith("/"), "path must be relative to the workspace")
  .transform((p, ctx) => {
    const segments = p.split("/").filter((s) => s !== "" && s !== ".");
    if (segments.includes("..")) {
      ctx.addIssue({ code: "custom", message: "path may not contain '..'" });
      return z.NEVER;
    }
    if (segments.some((s) => new TextEncoder().encode(s).length > 255)) {
      ctx.addIssue({ code: "custom", message: "a name in the path is over 255 bytes" });
      return z.NEVER;
    }
    return segments.join("/");
  });

/** A path that names something inside the workspace, not the workspace itself. */
export const workspaceItemPathSchema = workspacePathSchema.refine((p) => p !== "", "path names the workspace itself");

const bytes = z.custom<Uint8Array>((v) => v instanceof Uint8Array, "content must be bytes");

export const filesListSchema = z.object({ notebookId: notebookIdSchema, path: workspacePathSchema });
export const filesReadSchema = z.object({
  notebookId: notebookIdSchema,
  path: workspaceItemPathSchema,
  maxBytes: z.number().int().positive().max(MAX_WORKSPACE_FILE_BYTES),
});
export const filesWriteSchema = z.object({
  notebookId: notebookIdSchema,
  path: workspaceItemPathSchema,
  content: bytes,
  /** Refuse to replace an existing file (an upload that would overwrite asks first). */
  createOnly: z.boolean().optional(),
});
export const filesItemSchema = z.object({ notebookId: notebookIdSchema, path: workspaceItemPathSchema });
export const filesRenameSchema = z.object({
  notebookId: notebookIdSchema,
  from: workspaceItemPathSchema,
  to: workspaceItemPathSchema,
});

export type FilesListRequest = z.output<typeof filesListSchema>;
export type FilesReadRequest = z.output<typeof filesReadSchema>;
export type FilesWriteRequest = z.output<typeof filesWriteSchema>;
export type FilesItemRequest = z.output<typeof filesItemSchema>;
export type FilesRenameRequest = z.output<typeof filesRenameSchema>;

/** gateway -> worker events on the /worker namespace (merged into GatewayToWorker). */
export interface WorkspaceFilesEvents {
  "files:list": (p: FilesListRequest, ack: FilesAck<{ entries: WorkspaceEntry[] }>) => void;
  "files:read": (p: FilesReadRequest, ack: FilesAck<{ content: Uint8Array; entry: WorkspaceEntry }>) => void;
  "files:write": (p: FilesWriteRequest, ack: FilesAck<{ entry: WorkspaceEntry }>) => void;
  "files:mkdir": (p: FilesItemRequest, ack: FilesAck<{ entry: WorkspaceEntry }>) => void;
  "files:delete": (p: FilesItemRequest, ack: FilesAck) => void;
  "files:rename": (p: FilesRenameRequest, ack: FilesAck<{ entry: WorkspaceEntry }>) => void;
}

export function validateWorkspacePath(value: unknown): Result<string> {
  const r = workspacePathSchema.safeParse(value);
  return r.success ? { ok: true, value: r.data } : { ok: false, error: r.error.issues[0]?.message ?? "invalid path" };
}

/** Checks a request with one of the schemas above; the error names the field and the rule. */
export function validateFilesRequest<T>(schema: z.ZodType<T>, value: unknown): Result<T> {
  return check(schema, value, "request");
}
