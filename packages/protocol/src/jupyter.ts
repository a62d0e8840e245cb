// Jupyter messaging protocol (v5.3) as used end to end: browser, gateway, worker and kernel bridge
// all speak these shapes, so nothing else in the codebase defines a message. What each message
// type carries is in message-contents.ts.
import type { ContentOf } from "./message-contents";

const randomUUID = () => globalThis.crypto.randomUUID();

export const PROTOCOL_VERSION = "5.3";

export type Channel = "shell" | "iopub" | "stdin" | "control";

export interface MessageHeader {
  msg_id: string;
  msg_type: string;
  session: string;
  username: string;
  date: string;
  version: string;
}

/** A message. Its content is typed by its msg_type: narrow a message of any type with
 * `hasMsgType` or one of the guards below before reading its content. */
export interface JupyterMessage<T extends string = string> {
  header: MessageHeader & { msg_type: T };
  parent_header: Partial<MessageHeader>;
  metadata: Record<string, unknown>;
  content: ContentOf<T>;
  channel: Channel;
  buffers?: string[]; // base64: binary buffers survive JSON framing
}

export type StreamMessage = JupyterMessage<"stream">;
export type DisplayDataMessage = JupyterMessage<"display_data" | "update_display_data">;
export type ExecuteResultMessage = JupyterMessage<"execute_result">;
export type ErrorMessage = JupyterMessage<"error">;
export type StatusMessage = JupyterMessage<"status">;
export type ExecuteInputMessage = JupyterMessage<"execute_input">;
export type ExecuteReplyMessage = JupyterMessage<"execute_reply">;
export type ClearOutputMessage = JupyterMessage<"clear_output">;
export type CommMessage = JupyterMessage<"comm_open" | "comm_msg" | "comm_close">;

/** The comm message types: a browser sends them on shell, a kernel publishes them on iopub. */
export const COMM_MSG_TYPES = ["comm_open", "comm_msg", "comm_close"] as const;

/** Whether a kernel answers a message of this type with a reply (`*_request` → `*_reply`): comm
 * messages and stdin's `input_reply` have none, so nothing may wait for one. */
export function expectsReply(msgType: string): boolean {
  return msgType.endsWith("_request");
}

/** Build a message with a fresh id. `parent` links a reply or iopub message to its request. */
export function makeMessage<T extends string>(
  msgType: T,
  content: ContentOf<T>,
  opts: { channel?: Channel; session?: string; username?: string; parent?: JupyterMessage; metadata?: Record<string, unknown> } = {},
): JupyterMessage<T> {
  return {
    header: {
      msg_id: randomUUID(),
      msg_type: msgType,
      session: opts.session ?? "",
      username: opts.username ?? "cellar",
      date: new Date().toISOString(),
      version: PROTOCOL_VERSION,
    },
    parent_header: opts.parent ? opts.parent.header : {},
    metadata: opts.metadata ?? {},
    content,
    channel: opts.channel ?? "shell",
  };
}

export function executeRequest(code: string, opts: { session?: string; cellId?: string } = {}) {
  return makeMessage(
    "execute_request",
    {
      code,
      silent: false,
      store_history: true,
      user_expressions: {},
      allow_stdin: false,
      stop_on_error: true,
    },
    {
      channel: "shell",
      session: opts.session,
      metadata: opts.cellId ? { cellId: opts.cellId } : {},
    },
  );
}

/** Narrows a message to one of `types`, so its content is typed. */
export function hasMsgType<T extends string>(m: JupyterMessage, ...types: T[]): m is JupyterMessage<T> {
  return (types as string[]).includes(m.header.msg_type);
}

export const isStream = (m: JupyterMessage): m is StreamMessage => hasMsgType(m, "stream");
export const isStatus = (m: JupyterMessage): m is StatusMessage => hasMsgType(m, "status");
export const isError = (m: JupyterMessage): m is ErrorMessage => hasMsgType(m, "error");
export const isExecuteResult = (m: JupyterMessage): m is ExecuteResultMessage => hasMsgType(m, "execute_result");
export const isExecuteReply = (m: JupyterMessage): m is ExecuteReplyMessage => hasMsgType(m, "execute_reply");
export const isExecuteInput = (m: JupyterMessage): m is ExecuteInputMessage => hasMsgType(m, "execute_input");
export const isClearOutput = (m: JupyterMessage): m is ClearOutputMessage => hasMsgType(m, "clear_output");
export const isComm = (m: JupyterMessage): m is CommMessage => hasMsgType(m, ...COMM_MSG_TYPES);
export const isDisplayData = (m: JupyterMessage): m is DisplayDataMessage => hasMsgType(m, "display_data", "update_display_data");
