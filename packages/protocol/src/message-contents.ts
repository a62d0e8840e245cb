// The content of each message type Cellar speaks: the Jupyter messages (v5.3) its browser,
// gateway and worker read or write, and the kernel bridge's own `cellar_*` requests. Each is a zod
// schema, and its TypeScript type is inferred from it, so what is checked at a trust boundary and
// what the code may read are one statement. Objects are loose: a kernel may send fields Cellar
// does not read, and they travel on untouched. A reply's normal fields are optional because a
// reply with status "error" (or "aborted") carries ename/evalue/traceback instead.
import { z } from "zod";
import { moveIdSchema, stateExportReportSchema, stateImportReportSchema } from "./devices";

const record = z.record(z.string(), z.unknown());
export const mimeBundleSchema = record;
export type MimeBundle = z.infer<typeof mimeBundleSchema>;

const replyStatus = { status: z.enum(["ok", "error", "aborted"]) };
/** What a reply with status "error" says instead of its normal fields. */
const replyError = { ename: z.string().optional(), evalue: z.string().optional(), traceback: z.array(z.string()).optional() };
const reply = <S extends z.core.$ZodLooseShape>(shape: S) => z.looseObject({ ...replyStatus, ...replyError, ...shape });

const displayData = z.looseObject({
  data: mimeBundleSchema,
  metadata: record,
  transient: z.looseObject({ display_id: z.string().optional() }).optional(),
});

const codeAt = { code: z.string(), cursor_pos: z.number().int() };

export const MESSAGE_CONTENT_SCHEMAS = {
  // shell: requests (the browser and the worker send them) and their replies
  execute_request: z.looseObject({
    code: z.string(),
    silent: z.boolean(),
    store_history: z.boolean(),
    user_expressions: record,
    allow_stdin: z.boolean(),
    stop_on_error: z.boolean(),
  }),
  execute_reply: reply({ execution_count: z.number().int().nullable().optional() }),
  complete_request: z.looseObject(codeAt),
  complete_reply: reply({
    matches: z.array(z.string()).optional(),
    cursor_start: z.number().int().optional(),
    cursor_end: z.number().int().optional(),
    metadata: record.optional(),
  }),
  inspect_request: z.looseObject({ ...codeAt, detail_level: z.union([z.literal(0), z.literal(1)]).optional() }),
  inspect_reply: reply({ found: z.boolean().optional(), data: mimeBundleSchema.optional(), metadata: record.optional() }),
  is_complete_request: z.looseObject({ code: z.string() }),
  is_complete_reply: z.looseObject({ status: z.string(), indent: z.string().optional() }),
  kernel_info_request: record,
  kernel_info_reply: reply({}),
  history_request: record,
  history_reply: reply({}),
  // Comms (https://jupyter-client.readthedocs.io/en/stable/messaging.html#custom-messages): a
  // channel between a frontend object and a kernel object (an ipywidget and its model), opened by
  // either side. Sent on shell by a browser, published on iopub by the kernel; none has a reply.
  // `data` is the comm's own payload (a widget's state), binary parts travel as `buffers`.
  comm_open: z.looseObject({
    comm_id: z.string().min(1),
    target_name: z.string().min(1),
    data: record,
    target_module: z.string().nullable().optional(),
  }),
  comm_msg: z.looseObject({ comm_id: z.string().min(1), data: record }),
  comm_close: z.looseObject({ comm_id: z.string().min(1), data: record }),
  comm_info_request: z.looseObject({ target_name: z.string().optional() }),
  comm_info_reply: reply({ comms: z.record(z.string(), z.looseObject({ target_name: z.string() })).optional() }),
  // control
  interrupt_request: record,
  interrupt_reply: reply({}),
  shutdown_request: z.looseObject({ restart: z.boolean().optional() }),
  shutdown_reply: reply({ restart: z.boolean().optional() }),
  // stdin: input() in a cell
  input_request: z.looseObject({ prompt: z.string(), password: z.boolean().optional() }),
  input_reply: z.looseObject({ value: z.string() }),
  // iopub
  status: z.looseObject({ execution_state: z.enum(["starting", "idle", "busy"]) }),
  stream: z.looseObject({ name: z.enum(["stdout", "stderr"]), text: z.string() }),
  display_data: displayData,
  update_display_data: displayData,
  execute_result: displayData.extend({ execution_count: z.number().int().nullable() }),
  execute_input: z.looseObject({ code: z.string(), execution_count: z.number().int() }),
  error: z.looseObject({ ename: z.string(), evalue: z.string(), traceback: z.array(z.string()) }),
  clear_output: z.looseObject({ wait: z.boolean() }),
  // The kernel bridge's own (apps/worker/kernel-bridge), on the control channel. A snapshot boot
  // runs the image's warm-up and then forgets what it defined:
  cellar_warmup_request: z.looseObject({ code: z.string() }),
  cellar_warmup_reply: z.looseObject({ status: z.enum(["ok", "error"]), evalue: z.string().optional() }),
  // A kernel restored from a warm snapshot takes on its session: new hostname, random state
  // reseeded from `entropy` (hex), dropped to the sandbox user.
  cellar_restore_request: z.looseObject({ hostname: z.string(), entropy: z.string().regex(/^([0-9a-f]{2})*$/) }),
  cellar_restore_reply: z.looseObject({
    status: z.enum(["ok", "error"]),
    uid: z.number().int().optional(),
    hostname: z.string().optional(),
    evalue: z.string().optional(),
  }),
  // Moving a kernel's variables to another kernel (devices.ts): the bridge writes the namespace to
  // /workspace/.cellar/moves/<move_id>, or loads it from there (then deletes it); `gpu`: torch tensors
  // go to CUDA (the new kernel is a GPU kernel). Answered only while no cell runs (else status "error").
  cellar_state_export_request: z.looseObject({ move_id: moveIdSchema }),
  cellar_state_export_reply: z.looseObject({
    status: z.enum(["ok", "error"]),
    report: stateExportReportSchema.optional(),
    evalue: z.string().optional(),
  }),
  cellar_state_import_request: z.looseObject({ move_id: moveIdSchema, gpu: z.boolean() }),
  cellar_state_import_reply: z.looseObject({
    status: z.enum(["ok", "error"]),
    report: stateImportReportSchema.optional(),
    evalue: z.string().optional(),
  }),
  // Before a checkpoint of a kernel that imported a move: the arrays left over mappings of the
  // move's (deleted) files are copied into the kernel's memory, which runsc can checkpoint.
  cellar_state_materialise_request: z.looseObject({}),
  cellar_state_materialise_reply: z.looseObject({
    status: z.enum(["ok", "error"]),
    bytes: z.number().optional(),
    seconds: z.number().optional(),
    evalue: z.string().optional(),
  }),
} satisfies Record<string, z.ZodType<Record<string, unknown>>>;

export type MessageContents = { [T in keyof typeof MESSAGE_CONTENT_SCHEMAS]: z.infer<(typeof MESSAGE_CONTENT_SCHEMAS)[T]> };

/** The message types whose content Cellar knows; any other (a debug_request, say) has an open
 * record as content and is relayed as it is. */
export type KnownMsgType = keyof MessageContents;

export type ContentOf<T extends string> = T extends KnownMsgType ? MessageContents[T] : Record<string, unknown>;

/** The reply to a request type: `complete_request` -> `complete_reply`. */
export type ReplyType<T extends string> = T extends `${infer Name}_request` ? `${Name}_reply` : never;

export function isKnownMsgType(type: string): type is KnownMsgType {
  return Object.hasOwn(MESSAGE_CONTENT_SCHEMAS, type);
}

export type ExecuteRequestContent = MessageContents["execute_request"];
export type ExecuteReplyContent = MessageContents["execute_reply"];
export type StreamContent = MessageContents["stream"];
export type DisplayDataContent = MessageContents["display_data"];
export type ExecuteResultContent = MessageContents["execute_result"];
export type ErrorContent = MessageContents["error"];
export type StatusContent = MessageContents["status"];
export type ExecuteInputContent = MessageContents["execute_input"];
export type ClearOutputContent = MessageContents["clear_output"];
export type CommOpenContent = MessageContents["comm_open"];
export type CommMsgContent = MessageContents["comm_msg"];
export type CommCloseContent = MessageContents["comm_close"];
export type CommInfoReplyContent = MessageContents["comm_info_reply"];
