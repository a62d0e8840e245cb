// The messages between the page's widget hub and a frame that shows a widget view
// (postMessage, both ways), beside the frame's render/height messages (messages.ts). Only a
// frame rendering `application/vnd.jupyter.widget-view+json` is attached to the hub; what it
// posts is checked by the hub (which comms, which user), never trusted for its own sake.
import type { WidgetStateDocument } from "@cellar/protocol";

/** A kernel comm message as a frame gets it: the wire message's parts a widget model reads,
 * buffers as ArrayBuffers (decoded from the wire's base64 by the page). */
export interface FrameCommMessage {
  msg_type: "comm_open" | "comm_msg" | "comm_close";
  content: { comm_id: string; target_name?: string; data: Record<string, unknown> };
  metadata: Record<string, unknown>;
  buffers: ArrayBuffer[];
  /** The msg_id of the message that caused it: the frame's own `ref` when it was one of this
   * frame's sends (ipywidgets 8 matches its echo_update to what it sent), else the kernel's. */
  parent: string;
}

/** Page → frame: every model the hub knows, before the frame renders a view (HBox children,
 * interact's Output, layouts and styles are other models the view refers to). */
export interface FrameWidgetStateMessage {
  type: "cellar-widget:state";
  state: WidgetStateDocument;
}

/** Page → frame: a kernel comm message of a widget comm (an open, an update, a close). */
export interface FrameWidgetCommMessage {
  type: "cellar-widget:comm";
  msg: FrameCommMessage;
}

/** Page → frame: the kernel is idle after the frame's send `ref` (or it failed): ipywidgets
 * holds back a model's next update until then. */
export interface FrameWidgetIdleMessage {
  type: "cellar-widget:idle";
  ref: string;
}

export type PageToFrameWidgetMessage = FrameWidgetStateMessage | FrameWidgetCommMessage | FrameWidgetIdleMessage;

/** Frame → page: a widget model's comm wants to send (a slider moved: comm_msg update). */
export interface FrameWidgetSendMessage {
  type: "cellar-widget:send";
  /** The frame's id for this send, echoed in `idle` and as `parent` of what it causes. */
  ref: string;
  kind: "comm_open" | "comm_msg" | "comm_close";
  commId: string;
  targetName?: string;
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
  buffers: ArrayBuffer[];
}

const KINDS = new Set(["comm_open", "comm_msg", "comm_close"]);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A frame's send in its shape, or null. Shape only: which comms a frame may use, and who may
 * send at all, is the hub's decision. */
export function widgetSendFrom(data: unknown): FrameWidgetSendMessage | null {
  if (!isRecord(data) || data.type !== "cellar-widget:send") return null;
  const { ref, kind, commId, targetName, metadata, buffers } = data;
  if (typeof ref !== "string" || ref.length > 200 || typeof kind !== "string" || !KINDS.has(kind)) return null;
  if (typeof commId !== "string" || !commId || commId.length > 200) return null;
  if (targetName !== undefined && typeof targetName !== "string") return null;
  if (!isRecord(data.data) || (metadata !== undefined && !isRecord(metadata))) return null;
  if (buffers !== undefined && (!Array.isArray(buffers) || !buffers.every((b) => b instanceof ArrayBuffer))) return null;
  return {
    type: "cellar-widget:send",
    ref,
    kind: kind as FrameWidgetSendMessage["kind"],
    commId,
    ...(targetName !== undefined ? { targetName } : {}),
    data: data.data,
    metadata: (metadata as Record<string, unknown> | undefined) ?? {},
    buffers: (buffers as ArrayBuffer[] | undefined) ?? [],
  };
}

/** What the frame takes from its parent of the hub's messages (the frame checks the source). */
export function widgetMessageFrom(data: unknown): PageToFrameWidgetMessage | null {
  if (!isRecord(data)) return null;
  if (data.type === "cellar-widget:state" && isRecord(data.state)) return data as unknown as FrameWidgetStateMessage;
  if (data.type === "cellar-widget:comm" && isRecord(data.msg)) return data as unknown as FrameWidgetCommMessage;
  if (data.type === "cellar-widget:idle" && typeof data.ref === "string") return data as unknown as FrameWidgetIdleMessage;
  return null;
}

/** One frame's link to the page's widget hub, made when a widget frame is ready. */
export interface WidgetFrameLink {
  /** A message the frame posted (already known to come from its window). */
  receive(message: FrameWidgetSendMessage): void;
  /** The frame is gone: nothing more is posted to it. */
  detach(): void;
}

/**
 * The page side of widget frames (the web app's hub, one per open notebook's kernel). `attach`
 * posts the current state of every model to the new frame at once (before its render message),
 * then every later widget comm message of the kernel, until `detach`.
 */
export interface WidgetFrameHub {
  attach(post: (message: PageToFrameWidgetMessage) => void): WidgetFrameLink;
}
