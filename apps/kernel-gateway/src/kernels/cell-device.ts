// Which device a run asks for, and the messages the gateway adds to a cell's run when it moves
// the kernel for it (where it ran, what stayed behind) or cannot (no such device). Those are
// parented to the cell's execute_request, so they are recorded and shown like the kernel's own.
import {
  CPU,
  deviceMagic,
  deviceRequestSchema,
  makeMessage,
  PLACEMENT_MIME,
  placementText,
  skippedNamesText,
  type DeviceRequest,
  type JupyterMessage,
  type Placement,
  type SkippedName,
} from "@cellar/protocol";

/** Where the device the caller resolved (the cell's metadata, the notebook's default) travels
 * with an execute_request: `metadata.cellar.device`. Set by the gateway, never trusted from a page. */
export function withRequestedDevice(msg: JupyterMessage, device: DeviceRequest | undefined): JupyterMessage {
  const { cellar: _dropped, ...metadata } = msg.metadata as Record<string, unknown>;
  return { ...msg, metadata: device ? { ...metadata, cellar: { device } } : metadata };
}

export type RequestedDevice = { device: DeviceRequest; message: JupyterMessage } | { error: string };

/** The device an execute_request runs on: a `%%gpu`/`%%cpu` first line wins (and is blanked, so
 * line numbers in tracebacks stay right), else what `withRequestedDevice` set, else CPU. */
export function requestedDevice(msg: JupyterMessage): RequestedDevice {
  const content = msg.content as { code?: unknown };
  const code = typeof content.code === "string" ? content.code : "";
  const magic = deviceMagic(code);
  if (magic && "error" in magic) return { error: magic.error };
  if (magic) return { device: magic.device, message: { ...msg, content: { ...msg.content, code: `\n${magic.code}` } } };
  const stored = deviceRequestSchema.safeParse((msg.metadata as { cellar?: { device?: unknown } }).cellar?.device);
  return { device: stored.success ? stored.data : CPU, message: msg };
}

function parented<T extends JupyterMessage>(msg: T, request: JupyterMessage): T {
  msg.parent_header = request.header;
  return msg;
}

/** A line of the gateway's own in a cell's output (a %pip build's progress), as a kernel prints. */
export function streamOutput(request: JupyterMessage, text: string, name: "stdout" | "stderr" = "stdout"): JupyterMessage {
  return parented(makeMessage("stream", { name, text }, { channel: "iopub" }), request);
}

/** The messages of a run that failed before reaching any kernel: the error as the cell's output,
 * then the reply and idle, so every page stops waiting on it. */
export function failedRun(request: JupyterMessage, ename: string, evalue: string): JupyterMessage[] {
  return [
    parented(makeMessage("error", { ename, evalue, traceback: [`${ename}: ${evalue}`] }, { channel: "iopub" }), request),
    parented(
      makeMessage("execute_reply", { status: "error", ename, evalue, traceback: [], execution_count: null }, { channel: "shell" }),
      request,
    ),
    parented(makeMessage("status", { execution_state: "idle" }, { channel: "iopub" }), request),
  ];
}

/** The cell's line saying where it ran (and what moved) with the warning for names left behind:
 * Cellar draws both from the placement; other tools show the text/plain, which has both too. */
export function placementOutputs(request: JupyterMessage, placement: Placement): JupyterMessage[] {
  const text = placementText(placement) + (placement.skipped.length ? `\n${skippedNamesText(placement.skipped, placement.device)}` : "");
  return [
    parented(
      makeMessage(
        "display_data",
        { data: { [PLACEMENT_MIME]: placement, "text/plain": text }, metadata: {}, transient: {} },
        { channel: "iopub" },
      ),
      request,
    ),
  ];
}

/** Names the export skipped plus those the import could not load, each once. */
export function leftBehind(exported: SkippedName[], failed: SkippedName[]): SkippedName[] {
  const seen = new Set(exported.map((s) => s.name));
  return [...exported, ...failed.filter((f) => !seen.has(f.name))];
}
