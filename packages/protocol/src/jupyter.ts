// Jupyter messaging protocol (v5.3) as used end to end: browser, gateway, worker and kernel bridge
// all speak these shapes, so nothing else in the codebase defines a message.
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

export interface JupyterMessage<T extends string = string, C = any> {
  header: MessageHeader & { msg_type: T };
  parent_header: Partial<MessageHeader>;
  metadata: Record<string, unknown>;
  content: C;
  channel: Channel;
  buffers?: string[]; // base64: binary buffers survive JSON framing
}

export interface ExecuteRequestContent {
  code: string;
  silent: boolean;
  store_history: boolean;
  user_expressions: Record<string, unknown>;
  allow_stdin: boolean;
  stop_on_error: boolean;
}

export type MimeBundle = Record<string, unknown>;

export interface StreamContent { name: "stdout" | "stderr"; text: string }
export interface DisplayDataContent { data: MimeBundle; metadata: Record<string, unknown>; transient?: { display_id?: string } }
export interface ExecuteResultContent extends DisplayDataContent { execution_count: number }
export interface ErrorContent { ename: string; evalue: string; traceback: string[] }
export interface StatusContent { execution_state: "starting" | "idle" | "busy" }
export interface ExecuteInputContent { code: string; execution_count: number }
export interface ExecuteReplyContent {
  status: "ok" | "error" | "aborted";
  execution_count: number;
  ename?: string; evalue?: string; traceback?: string[];
}
export interface ClearOutputContent { wait: boolean }

export type StreamMessage = JupyterMessage<"stream", StreamContent>;
export type DisplayDataMessage = JupyterMessage<"display_data" | "update_display_data", DisplayDataContent>;
export type ExecuteResultMessage = JupyterMessage<"execute_result", ExecuteResultContent>;
export type ErrorMessage = JupyterMessage<"error", ErrorContent>;
export type StatusMessage = JupyterMessage<"status", StatusContent>;
export type ExecuteInputMessage = JupyterMessage<"execute_input", ExecuteInputContent>;
export type ExecuteReplyMessage = JupyterMessage<"execute_reply", ExecuteReplyContent>;
export type ClearOutputMessage = JupyterMessage<"clear_output", ClearOutputContent>;

/** Build a message with a fresh id. `parent` links a reply or iopub message to its request. */
export function makeMessage<T extends string, C>(
  msgType: T,
  content: C,
  opts: { channel?: Channel; session?: string; username?: string; parent?: JupyterMessage; metadata?: Record<string, unknown> } = {},
): JupyterMessage<T, C> {
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
  const content: ExecuteRequestContent = {
    code, silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: true,
  };
  return makeMessage("execute_request", content, {
    channel: "shell", session: opts.session, metadata: opts.cellId ? { cellId: opts.cellId } : {},
  });
}

export const isStream = (m: JupyterMessage): m is StreamMessage => m.header.msg_type === "stream";
export const isStatus = (m: JupyterMessage): m is StatusMessage => m.header.msg_type === "status";
export const isError = (m: JupyterMessage): m is ErrorMessage => m.header.msg_type === "error";
export const isExecuteResult = (m: JupyterMessage): m is ExecuteResultMessage => m.header.msg_type === "execute_result";
export const isExecuteReply = (m: JupyterMessage): m is ExecuteReplyMessage => m.header.msg_type === "execute_reply";
export const isExecuteInput = (m: JupyterMessage): m is ExecuteInputMessage => m.header.msg_type === "execute_input";
export const isClearOutput = (m: JupyterMessage): m is ClearOutputMessage => m.header.msg_type === "clear_output";
export const isDisplayData = (m: JupyterMessage): m is DisplayDataMessage =>
  m.header.msg_type === "display_data" || m.header.msg_type === "update_display_data";
