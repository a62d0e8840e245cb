// Terminals: a shell on a pty inside a kernel's sandbox, owned by the kernel bridge. Terminal
// traffic has its own frames and events, apart from Jupyter messages, so nothing that records
// cell outputs ever sees it.
import { z } from "zod";
import type { Ack } from "./events";
import { check, notebookIdSchema, type Result } from "./validate";

/** Largest keystroke batch or paste accepted in one input event. */
export const TERMINAL_INPUT_MAX = 64 * 1024;

/** What reaches a terminal's shell (gateway -> worker -> bridge). `data` is text typed or pasted. */
export type TerminalRequest =
  | { type: "open"; id: string; cols: number; rows: number }
  | { type: "input"; id: string; data: string }
  | { type: "resize"; id: string; cols: number; rows: number }
  | { type: "close"; id: string };

/** What a terminal reports (bridge -> worker -> gateway -> browser). `data` is the pty's bytes,
 * base64, since a read may end inside a UTF-8 sequence. */
export type TerminalEvent = { type: "output"; id: string; data: string } | { type: "exit"; id: string; reason: string };

/** Worker <-> bridge: terminal frames share the bridge's frame stream with Jupyter messages and
 * are told apart by this channel. */
export const TERMINAL_CHANNEL = "terminal";
export type TerminalFrame<T extends TerminalRequest | TerminalEvent> = T & { channel: typeof TERMINAL_CHANNEL };

const terminalId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "not a terminal id");
const size = { cols: z.number().int().min(2).max(1000), rows: z.number().int().min(1).max(1000) };

export const terminalRequestSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("open"), id: terminalId, ...size }),
  z.object({ type: z.literal("input"), id: terminalId, data: z.string().max(TERMINAL_INPUT_MAX) }),
  z.object({ type: z.literal("resize"), id: terminalId, ...size }),
  z.object({ type: z.literal("close"), id: terminalId }),
]);

export const terminalEventSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("output"), id: terminalId, data: z.string().max(4 * 1024 * 1024) }),
  z.object({ type: z.literal("exit"), id: terminalId, reason: z.string().max(1000) }),
]);

/** Browser -> gateway payloads. */
export interface TerminalOpenRequest {
  notebookId: string;
  cols: number;
  rows: number;
}
export interface TerminalInputRequest {
  notebookId: string;
  terminalId: string;
  data: string;
}
export interface TerminalResizeRequest {
  notebookId: string;
  terminalId: string;
  cols: number;
  rows: number;
}
export interface TerminalCloseRequest {
  notebookId: string;
  terminalId: string;
}

export interface TerminalBrowserEvents {
  /** Starts the notebook's kernel if needed and opens a shell in its sandbox. */
  "terminal:open": (p: TerminalOpenRequest, ack: Ack<{ terminalId: string }>) => void;
  "terminal:input": (p: TerminalInputRequest) => void;
  "terminal:resize": (p: TerminalResizeRequest) => void;
  "terminal:close": (p: TerminalCloseRequest) => void;
}

export interface TerminalGatewayEvents {
  /** Sent only to the browser connection that opened the terminal. */
  "terminal:event": (p: { notebookId: string; event: TerminalEvent }) => void;
}

/** Gateway <-> worker: the bridge's frames, addressed to a kernel session. */
export interface TerminalToWorker {
  "session:terminal": (p: { sessionId: string; request: TerminalRequest }) => void;
}
export interface TerminalFromWorker {
  "session:terminal": (p: { sessionId: string; event: TerminalEvent }) => void;
}

const browserSchemas = {
  open: z.object({ notebookId: notebookIdSchema, ...size }),
  input: z.object({ notebookId: notebookIdSchema, terminalId, data: z.string().max(TERMINAL_INPUT_MAX) }),
  resize: z.object({ notebookId: notebookIdSchema, terminalId, ...size }),
  close: z.object({ notebookId: notebookIdSchema, terminalId }),
};

export function validateTerminalOpen(value: unknown): Result<TerminalOpenRequest> {
  return check<TerminalOpenRequest>(browserSchemas.open, value);
}
export function validateTerminalInput(value: unknown): Result<TerminalInputRequest> {
  return check<TerminalInputRequest>(browserSchemas.input, value);
}
export function validateTerminalResize(value: unknown): Result<TerminalResizeRequest> {
  return check<TerminalResizeRequest>(browserSchemas.resize, value);
}
export function validateTerminalClose(value: unknown): Result<TerminalCloseRequest> {
  return check<TerminalCloseRequest>(browserSchemas.close, value);
}

export function validateTerminalRequest(value: unknown): Result<TerminalRequest> {
  return check<TerminalRequest>(terminalRequestSchema, value);
}

export function validateTerminalEvent(value: unknown): Result<TerminalEvent> {
  return check<TerminalEvent>(terminalEventSchema, value);
}
