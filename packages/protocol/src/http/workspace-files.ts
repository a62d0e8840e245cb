// Request and reply shapes of a notebook's workspace-file routes. Paths are checked with the same
// schema the worker uses, so a bad one is refused before any worker is asked.
import { z } from "zod";
import { workspaceItemPathSchema, workspacePathSchema } from "../workspace-files";

/** `?path=` of a listing: missing or "" is the workspace itself. */
export const filesListQuerySchema = z.object({ path: z.string().default("").pipe(workspacePathSchema) });

/** `?path=` naming one file or folder inside the workspace. */
export const filesItemQuerySchema = z.object({ path: z.string().default("").pipe(workspaceItemPathSchema) });

/** An upload: `createOnly=1` refuses to replace an existing file (409). */
export const filesUploadQuerySchema = filesItemQuerySchema.extend({
  createOnly: z
    .string()
    .optional()
    .transform((v) => v === "1"),
});

export const filesRenameBodySchema = z.object({ from: workspaceItemPathSchema, to: workspaceItemPathSchema });

export const workspaceEntryReplySchema = z.object({
  name: z.string(),
  path: z.string(),
  kind: z.enum(["file", "directory", "symlink", "other"]),
  size: z.number(),
  modifiedMs: z.number(),
});

export const filesListingReplySchema = z.object({ path: z.string(), entries: z.array(workspaceEntryReplySchema) });
