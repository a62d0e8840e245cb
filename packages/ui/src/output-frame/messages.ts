// The messages between the page and an output frame (postMessage, both ways). The frame's
// document has an opaque origin (sandbox="allow-scripts" without allow-same-origin), so its
// messages arrive with origin "null": what identifies a frame is the window it posts from, never
// the origin or anything in the message.

/** Page → frame: show this output (replacing what is shown). */
export interface FrameRenderMessage {
  type: "cellar-output:render";
  mime: string;
  /** The bundle's value for `mime`: a string (HTML, JavaScript) or a JSON spec. */
  data: unknown;
  metadata: unknown;
}

/** Frame → page: the frame's script is listening (sent once, at load). */
export interface FrameReadyMessage {
  type: "cellar-output:ready";
}

/** Frame → page: the content's height in CSS pixels (at load, then on every change). */
export interface FrameHeightMessage {
  type: "cellar-output:height";
  height: number;
}

export type FrameToPageMessage = FrameReadyMessage | FrameHeightMessage;

/** A frame cannot make its row taller than this (a runaway script growing forever). */
export const MAX_FRAME_HEIGHT = 10_000;

/**
 * The message if `event` came from `frame`'s own window and is one a frame may send, else null.
 * Any window can post to the page (another frame, another output's frame, a tab that opened
 * us), and everything an output frame says is the kernel's word: only its height is taken, as a
 * number clamped to [0, MAX_FRAME_HEIGHT].
 */
export function frameMessageFrom(
  event: Pick<MessageEvent, "source" | "data">,
  frame: HTMLIFrameElement | null | undefined,
): FrameToPageMessage | null {
  const own = frame?.contentWindow;
  if (!own || event.source !== own) return null;
  const data = event.data as { type?: unknown; height?: unknown } | null;
  if (typeof data !== "object" || data === null) return null;
  if (data.type === "cellar-output:ready") return { type: "cellar-output:ready" };
  if (data.type === "cellar-output:height" && typeof data.height === "number" && Number.isFinite(data.height))
    return { type: "cellar-output:height", height: Math.min(Math.max(Math.ceil(data.height), 0), MAX_FRAME_HEIGHT) };
  return null;
}

/** What the frame accepts from its parent (the frame checks the source is `window.parent`). */
export function renderMessageFrom(data: unknown): FrameRenderMessage | null {
  const m = data as Partial<FrameRenderMessage> | null;
  if (typeof m !== "object" || m === null || m.type !== "cellar-output:render" || typeof m.mime !== "string") return null;
  return { type: m.type, mime: m.mime, data: m.data, metadata: m.metadata ?? {} };
}
