// Request and reply shapes of the notebook routes (list, create, read, save, delete, import,
// export, duplicate) and of the small gateway-wide ones (images, workers).
import { z } from "zod";
import { workerResourcesSchema } from "../devices";
import type { NotebookUpdate, Output } from "../notebook";
import { notebookIdSchema } from "../validate";
import { notebookRoleSchema } from "./shares";

export const notebookParamsSchema = z.object({ id: notebookIdSchema });

export const createNotebookBodySchema = z
  .looseObject({ title: z.unknown().optional() })
  .nullish()
  // A title that is not a string is ignored, as it always was; a long one is cut to 500 characters.
  .transform((b) => ({ title: typeof b?.title === "string" ? b.title.slice(0, 500) : undefined }));

const cellUpdateSchema = z.object({
  id: z.string().min(1).max(64),
  cell_type: z.enum(["code", "markdown", "raw"]),
  source: z.string().max(5_000_000),
  metadata: z.record(z.string(), z.unknown()).optional(),
});

/** An image's name, as a notebook or a schedule names it (images/<name>.json). */
export const IMAGE_NAME_PATTERN = /^[a-z][a-z0-9-]{0,39}$/;
export const imageNameSchema = z.string().regex(IMAGE_NAME_PATTERN, "not an image name");

/** What the browser saves: structure and sources, never outputs (see NotebookUpdate). */
export const notebookUpdateBodySchema = z.object({
  title: z.string().max(500).optional(),
  image: imageNameSchema.optional(),
  cells: z
    .array(cellUpdateSchema)
    .max(20_000)
    .refine((cells) => new Set(cells.map((c) => c.id)).size === cells.length, "duplicate cell ids")
    .optional(),
}) satisfies z.ZodType<NotebookUpdate>;

// Replies list every field (the serializer drops what a schema does not name). Outputs and
// metadata are nbformat's, passed through as stored: an output is not checked, but typed as the
// Output it is, so a reply read off this schema is a Notebook.
const cellReplySchema = z.object({
  id: z.string(),
  cell_type: z.enum(["code", "markdown", "raw"]),
  source: z.string(),
  outputs: z.array(z.unknown().describe("an nbformat 4 output") as z.ZodType<Output>),
  execution_count: z.number().nullable(),
  metadata: z.record(z.string(), z.unknown()),
  attachments: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
  lastRunBy: z.object({ id: z.string(), name: z.string() }).optional(),
});

export const notebookSummaryReplySchema = z.object({
  id: z.string(),
  title: z.string(),
  updatedAt: z.string(),
  lastRunAt: z.string().nullable(),
});

/** A notebook in the caller's list: their own (role "owner") and those shared with them. */
export const notebookListEntryReplySchema = notebookSummaryReplySchema.extend({
  role: notebookRoleSchema,
  ownerName: z.string(),
});

export const notebookReplySchema = notebookSummaryReplySchema.extend({
  userId: z.string(),
  image: z.string().optional(),
  createdAt: z.string(),
  cells: z.array(cellReplySchema),
  metadata: z.record(z.string(), z.unknown()).optional(),
  nbformatMinor: z.number().optional(),
  kind: z.enum(["notebook", "run"]).optional(),
  executedFromId: z.string().nullable().optional(),
});

/** A notebook as opened: with the caller's role on it (what the page may offer). */
export const openedNotebookReplySchema = notebookReplySchema.extend({ role: notebookRoleSchema });

/** An imported or duplicated notebook, with the web app page that shows it. */
export const importedNotebookReplySchema = notebookReplySchema.extend({ url: z.string() });

/** `title` is the file's name; ".ipynb" is dropped. */
export const importNotebookQuerySchema = z.object({ title: z.string().optional() });

export const imageReplySchema = z.object({
  name: z.string(),
  description: z.string(),
  /** The image's id (the hash of its manifest), its parent's name for a layer, what it adds
   * (Debian packages, or pip's `name==version`s) and the bytes its layer added to the store. */
  imageId: z.string().optional(),
  parent: z.string().optional(),
  packages: z.array(z.string()).optional(),
  layerBytes: z.number().optional(),
});

/** `cellar image build FILE`: the spec file's JSON, its requirements file's text and its lock, if any. */
export const buildImageBodySchema = z.object({
  spec: z.record(z.string(), z.unknown()),
  requirements: z.string().max(1_000_000).optional(),
  lock: z.string().max(10_000_000).optional(),
});

/** The built image, the lock to keep beside the spec, and what the build printed. */
export const builtImageReplySchema = z.object({
  image: imageReplySchema,
  lock: z.string().nullable(),
  log: z.array(z.string()),
});

export const imageParamsSchema = z.object({ name: imageNameSchema });

/** The lines this gateway's last build of an image printed (kept in memory, the last few hundred):
 * at startup each image's is the catalog's check or build; `dropped` lines were cut off the top. */
export const imageBuildLogReplySchema = z.object({
  name: z.string(),
  status: z.enum(["building", "built", "failed"]),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  lines: z.array(z.string()),
  dropped: z.number(),
});

/** "Save this notebook's packages as a named image": a spec `{from, pip}` with the notebook's lock. */
export const saveNotebookImageBodySchema = z.object({
  name: imageNameSchema,
  description: z.string().max(200).optional(),
});

/** A connected worker as the Machines panel shows it. */
export const workerReplySchema = z.object({
  id: z.string(),
  resources: workerResourcesSchema,
  /** Its kernels (counted: which notebooks they are is not shown, since that needs each one's access check). */
  sessions: z.number(),
  /** workerClassOf(resources): "CPU", "H100", "2 × H100". */
  workerClass: z.string(),
  /** Indices of its GPUs no kernel holds. */
  freeGpus: z.array(z.number()),
  /** Stopping: it takes no new kernels. */
  draining: z.boolean(),
  /** Connected to the replica that answered (false: to another replica of the cluster). */
  local: z.boolean(),
});

export const dropCacheReplySchema = z.object({
  id: z.string(),
  ok: z.boolean(),
  droppedBytes: z.number().optional(),
  error: z.string().optional(),
});

export const okReplySchema = z.object({ ok: z.literal(true) });
