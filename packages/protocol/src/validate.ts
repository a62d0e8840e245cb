// Runtime checks for everything that crosses a trust boundary (browser, worker, sandbox).
// A payload that fails is rejected with a reason; it never crashes the receiver.
import { z } from "zod";
import type { JupyterMessage } from "./jupyter";
import { isKnownMsgType, MESSAGE_CONTENT_SCHEMAS } from "./message-contents";
import type { ClearOutputsRequest, SessionStatusEvent, StreamPosition, WorkerSessionReport } from "./events";
import { WORKER_STATUSES, type WorkerStatus } from "./kernel-states";
import { kernelMessageRoles } from "./event-roles";

const header = z.object({
  msg_id: z.string().min(1),
  msg_type: z.string().min(1),
  session: z.string(),
  username: z.string(),
  date: z.string(),
  version: z.string(),
});

/** The envelope, and the content as its msg_type requires when Cellar knows that type. */
export const jupyterMessageSchema = z
  .object({
    header,
    parent_header: z.union([header.partial(), z.object({}).passthrough()]),
    metadata: z.record(z.string(), z.unknown()),
    content: z.record(z.string(), z.unknown()),
    channel: z.enum(["shell", "iopub", "stdin", "control"]),
    buffers: z.array(z.string()).optional(),
  })
  .superRefine((m, ctx) => {
    const type = m.header.msg_type;
    if (!isKnownMsgType(type)) return;
    const r = MESSAGE_CONTENT_SCHEMAS[type].safeParse(m.content);
    if (r.success) return;
    for (const issue of r.error.issues)
      ctx.addIssue({ code: "custom", message: `${issue.message} (in a ${type})`, path: ["content", ...issue.path] });
  });

/** Messages a browser may send to a kernel (the role each needs is checked by the gateway). */
export const BROWSER_MSG_TYPES: ReadonlySet<string> = new Set(Object.keys(kernelMessageRoles));

export type Result<T> = { ok: true; value: T } | { ok: false; error: string };

/** Checks `value` with `schema`; the error names the field and the rule (`what` when the value
 * as a whole is wrong). Typing the schema as a ZodType<T> makes the compiler hold each schema to
 * the type it validates, so the two cannot drift. */
export function check<T>(schema: z.ZodType<T>, value: unknown, what = "message"): Result<T> {
  const r = schema.safeParse(value);
  if (r.success) return { ok: true, value: r.data };
  const issue = r.error.issues[0];
  return { ok: false, error: `${issue?.path.join(".") || what}: ${issue?.message ?? "invalid"}` };
}

export function validateJupyterMessage(value: unknown): Result<JupyterMessage> {
  return check<JupyterMessage>(jupyterMessageSchema, value);
}

export function validateBrowserMessage(value: unknown): Result<JupyterMessage> {
  const r = validateJupyterMessage(value);
  if (!r.ok) return r;
  if (!BROWSER_MSG_TYPES.has(r.value.header.msg_type)) {
    return { ok: false, error: `msg_type ${r.value.header.msg_type} may not be sent by a browser` };
  }
  return r;
}

export const notebookIdSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/);

export function validateNotebookId(value: unknown): Result<string> {
  return check<string>(notebookIdSchema, value);
}

const streamPositionSchema = z.object({ stream: z.string().min(1).max(300), seq: z.number().int().min(0) });

/** A reconnecting page's resume point (notebook:open's `resume`); absent or malformed is none. */
export function validateStreamPosition(value: unknown): StreamPosition | undefined {
  const r = streamPositionSchema.safeParse(value);
  return r.success ? r.data : undefined;
}

const messageMetaSchema = z.object({
  seq: z.number().int().min(1),
  epoch: z.string().min(1).max(64),
  cellId: z.string().min(1).max(64).optional(),
});

export type MessageMeta = { seq: number; epoch: string; cellId?: string };

/** session:message's sequence number, epoch and cell, checked apart from the message itself. */
export function validateMessageMeta(value: unknown): Result<MessageMeta> {
  return check<MessageMeta>(messageMetaSchema, value);
}

const clearOutputsSchema = z.object({
  notebookId: notebookIdSchema,
  cellIds: z.array(z.string().min(1).max(64)).min(1).max(20_000),
});

export function validateClearOutputs(value: unknown): Result<ClearOutputsRequest> {
  return check<ClearOutputsRequest>(clearOutputsSchema, value);
}

const sessionStatusSchema = z
  .object({
    sessionId: z.string().min(1).max(128),
    status: z.enum(WORKER_STATUSES as [WorkerStatus, ...WorkerStatus[]]),
    reason: z.string().max(10_000).optional(),
    suspended: z.object({ checkpoint: z.string().regex(/^[0-9a-f]{64}$/, "not a content hash") }).optional(),
  })
  .refine((p) => (p.status === "suspended") === (p.suspended !== undefined), {
    message: "a suspended status needs its checkpoint, and only it",
  });

export function validateSessionStatus(value: unknown): Result<SessionStatusEvent> {
  return check<SessionStatusEvent>(sessionStatusSchema, value);
}

const sessionReportsSchema = z
  .array(
    z
      .object({
        sessionId: z.string().min(1).max(128),
        notebookId: z.string().min(1).max(128),
        status: z.enum(WORKER_STATUSES as [WorkerStatus, ...WorkerStatus[]]),
        suspended: z.object({ checkpoint: z.string().regex(/^[0-9a-f]{64}$/, "not a content hash") }).optional(),
        acked: z.object({ epoch: z.string().min(1).max(128), seq: z.number().int().nonnegative() }).optional(),
      })
      .refine((p) => (p.status === "suspended") === (p.suspended !== undefined), {
        message: "a suspended status needs its checkpoint, and only it",
      }),
  )
  .max(10_000);

/** The kernels a connecting worker says it still has (WorkerAuth.sessions); absent is none. */
export function validateSessionReports(value: unknown): Result<WorkerSessionReport[]> {
  return check<WorkerSessionReport[]>(sessionReportsSchema, value ?? []);
}
