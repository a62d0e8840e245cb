// The page's side of the widgets of one open notebook's kernel. Widget views are drawn in
// sandboxed output frames (never in the page: a widget's HTML and labels are the kernel's); the
// hub is what connects them to the kernel. It keeps the state of every model (a
// WidgetStateTracker fed by the kernel's jupyter.widget comms, loaded from the notebook's saved
// `metadata.widgets` on a reloaded page), hands it to each new widget frame, relays each of the
// kernel's widget comm messages to every widget frame, and sends a frame's comm messages to the
// kernel only when they are widget comm messages and the user may run. It also fills Output
// widgets (interact's) from the kernel messages they capture, as JupyterLab's OutputModel does.
import { decodeBuffers, parentIdOf, type CommTargetCallback, type KernelComm, type KernelFuture } from "@cellar/kernel-client";
import {
  kernelMessageRoles,
  OutputCaptures,
  roleAtLeast,
  WIDGET_STATE_MIME,
  WIDGET_TARGET,
  WidgetStateTracker,
  type JupyterMessage,
  type KernelStatus,
  type NotebookRole,
} from "@cellar/protocol";
import type { FrameCommMessage, FrameWidgetSendMessage, PageToFrameWidgetMessage, WidgetFrameHub, WidgetFrameLink } from "@cellar/ui";

/** ipywidgets 8's comm for reading every model's state back from the kernel (a reloaded page). */
export const WIDGET_CONTROL_TARGET = "jupyter.widget.control";
/** The widget protocol version the page says it speaks when it replays a model's open. */
const PROTOCOL_VERSION = "2.1.0";
/** How long after a send's idle its echo may still arrive and be matched to the frame. */
const ECHO_GRACE_MS = 10_000;

/** What the hub needs of the kernel link (GatewayKernel has it). */
export interface WidgetKernel {
  registerCommTarget(targetName: string, callback: CommTargetCallback): void;
  removeCommTarget(targetName: string, callback: CommTargetCallback): void;
  createComm(targetName: string, commId?: string): KernelComm;
  hasComm(commId: string): boolean;
  requestCommInfo(content: { target_name?: string }): Promise<JupyterMessage>;
}

interface Frame {
  post: (message: PageToFrameWidgetMessage) => void;
  /** The kernel msg_id of each of this frame's sends → the frame's ref for it. */
  refs: Map<string, string>;
}

type Output = Record<string, unknown>;

export class WidgetHub implements WidgetFrameHub {
  private readonly tracker = new WidgetStateTracker();
  private readonly frames = new Set<Frame>();
  /** The kernel's widget comms this page can send on, by comm (= model) id. */
  private readonly comms = new Map<string, KernelComm>();
  /** Which Output widget takes which kernel outputs (the gateway follows the same rule). */
  private readonly captures = new OutputCaptures();
  private readonly outputs = new Map<string, { list: Output[]; clearOnNext: boolean }>();
  private kernel: WidgetKernel | null = null;
  private readonly onOpen: CommTargetCallback = (comm, msg) => {
    this.wire(comm);
    this.fromKernel(msg);
  };

  constructor(
    /** The user's role now: comm messages go to the kernel only for a runner or above. */
    private readonly role: () => NotebookRole | null,
  ) {}

  /** Starts following `kernel`'s widget comms. */
  connect(kernel: WidgetKernel): void {
    this.kernel = kernel;
    kernel.registerCommTarget(WIDGET_TARGET, this.onOpen);
  }

  dispose(): void {
    this.kernel?.removeCommTarget(WIDGET_TARGET, this.onOpen);
    this.kernel = null;
    this.frames.clear();
  }

  /** The notebook's saved widget state (`metadata.widgets`), for a page that has no live model
   * yet: what frames draw until the kernel answers. */
  load(widgetsMetadata: unknown): void {
    if (this.tracker.size > 0 || !widgetsMetadata || typeof widgetsMetadata !== "object") return;
    const doc = (widgetsMetadata as Record<string, unknown>)[WIDGET_STATE_MIME];
    this.tracker.load(doc);
    this.captures.load(this.tracker.snapshot());
  }

  /** Whether any model is known (live or saved). */
  get hasModels(): boolean {
    return this.tracker.size > 0;
  }

  /** The kernel's status: a restarted or dead kernel has no widgets any more. */
  kernelStatus(status: KernelStatus): void {
    if (status !== "restarting" && status !== "dead") return;
    this.tracker.clear();
    this.comms.clear(); // GatewayKernel has disposed them
    this.captures.clear();
    this.outputs.clear();
  }

  /** The page has (re)opened the notebook and the kernel runs: models this page has only from
   * the saved state (a reload) or that it may have missed are read back from the kernel. */
  async refresh(): Promise<void> {
    const kernel = this.kernel;
    // A viewer may not ask the kernel (comm_info is a runner's): its page keeps the saved state
    // and hears the kernel's later updates all the same.
    if (!kernel || !roleAtLeast(this.role(), kernelMessageRoles.comm_info_request)) return;
    try {
      const reply = await kernel.requestCommInfo({ target_name: WIDGET_TARGET });
      const comms = ((reply.content as { comms?: Record<string, unknown> }).comms ?? {}) as Record<string, unknown>;
      for (const id of Object.keys(comms)) this.attachTo(id);
      if (Object.keys(comms).length) await this.requestStates(kernel);
    } catch (error) {
      console.warn("reading the widgets back from the kernel failed", error);
    }
  }

  /** ipywidgets 8's control comm: `request_states` → one `update_states` with every model. */
  private async requestStates(kernel: WidgetKernel): Promise<void> {
    const control = kernel.createComm(WIDGET_CONTROL_TARGET);
    const answered = new Promise<void>((resolve) => {
      control.onMsg = (msg) => {
        this.takeStates(msg);
        resolve();
      };
      setTimeout(resolve, 10_000);
    });
    await control.open({}).done;
    await control.send({ method: "request_states" }).done;
    await answered;
    control.close();
  }

  private takeStates(msg: JupyterMessage): void {
    const data = (msg.content as { data?: Record<string, unknown> }).data ?? {};
    if (data.method !== "update_states") return;
    const states = (data.states ?? {}) as Record<
      string,
      { model_name: string; model_module: string; model_module_version: string; state: Record<string, unknown> }
    >;
    const paths = (data.buffer_paths ?? []) as Array<Array<string | number>>;
    for (const [id, model] of Object.entries(states)) {
      const mine = paths.flatMap((p, i) => (p[0] === id && p[1] === "state" ? [{ path: p.slice(2), buffer: msg.buffers?.[i] }] : []));
      const state = {
        ...model.state,
        _model_name: model.model_name,
        _model_module: model.model_module,
        _model_module_version: model.model_module_version,
      };
      const content = this.tracker.has(id)
        ? { comm_id: id, data: { method: "update", state, buffer_paths: mine.map((m) => m.path) } }
        : { comm_id: id, target_name: WIDGET_TARGET, data: { state, buffer_paths: mine.map((m) => m.path) } };
      this.fromKernel(
        synthetic(
          this.tracker.has(id) ? "comm_msg" : "comm_open",
          content,
          mine.map((m) => m.buffer ?? ""),
        ),
      );
    }
  }

  // --- frames ---

  attach(post: (message: PageToFrameWidgetMessage) => void): WidgetFrameLink {
    const frame: Frame = { post, refs: new Map() };
    this.frames.add(frame);
    post({ type: "cellar-widget:state", state: this.tracker.snapshot() });
    return {
      receive: (message) => this.fromFrame(frame, message),
      detach: () => this.frames.delete(frame),
    };
  }

  /** A frame's comm message: to the kernel only if it is a widget's and the user may run. */
  private fromFrame(frame: Frame, message: FrameWidgetSendMessage): void {
    if (!this.frames.has(frame)) return;
    const future = this.accepted(message);
    if (!future) {
      // Refused: the model must not wait for an idle that will never come.
      frame.post({ type: "cellar-widget:idle", ref: message.ref });
      return;
    }
    frame.refs.set(future.msgId, message.ref);
    const idle = () => {
      frame.post({ type: "cellar-widget:idle", ref: message.ref });
      setTimeout(() => frame.refs.delete(future.msgId), ECHO_GRACE_MS);
    };
    future.done.then(idle, idle);
  }

  /** The kernel future of a frame's message that may go, else null (and nothing is sent). */
  private accepted(message: FrameWidgetSendMessage): KernelFuture<null> | null {
    if (!this.kernel || !roleAtLeast(this.role(), kernelMessageRoles[message.kind])) return null;
    const { kind, commId, data, metadata, buffers } = message;
    try {
      if (kind === "comm_open") {
        if (message.targetName !== WIDGET_TARGET || this.tracker.has(commId) || this.kernel.hasComm(commId)) return null;
        const comm = this.kernel.createComm(WIDGET_TARGET, commId);
        this.wire(comm);
        return comm.open(data, metadata, buffers);
      }
      const comm = this.comms.get(commId) ?? (this.tracker.has(commId) ? this.attachTo(commId) : undefined);
      if (!comm) return null;
      return kind === "comm_msg" ? comm.send(data, metadata, buffers) : comm.close(data, metadata, buffers);
    } catch {
      return null; // a comm closed meanwhile
    }
  }

  // --- the kernel ---

  /** A comm the kernel has for a model this page knows only from saved state. */
  private attachTo(id: string): KernelComm | undefined {
    const had = this.comms.get(id);
    if (had || !this.kernel) return had;
    if (this.kernel.hasComm(id)) return undefined;
    const comm = this.kernel.createComm(WIDGET_TARGET, id);
    this.wire(comm);
    return comm;
  }

  private wire(comm: KernelComm): void {
    this.comms.set(comm.commId, comm);
    comm.onMsg = (msg) => this.fromKernel(msg);
    comm.onClose = (msg) => {
      this.comms.delete(comm.commId);
      if (msg) this.fromKernel(msg);
    };
  }

  /** A kernel widget comm message (or one the hub made in its stead): into the state, then to
   * every frame. */
  private fromKernel(msg: JupyterMessage): void {
    this.tracker.apply(msg);
    const content = msg.content as FrameCommMessage["content"];
    const buffers = decodeBuffers(msg).map((v) => v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength) as ArrayBuffer);
    const parent = parentIdOf(msg) ?? "";
    for (const frame of this.frames) {
      const forFrame: FrameCommMessage = {
        msg_type: msg.header.msg_type as FrameCommMessage["msg_type"],
        content,
        metadata: (msg.metadata ?? {}) as Record<string, unknown>,
        buffers,
        parent: frame.refs.get(parent) ?? parent,
      };
      frame.post({ type: "cellar-widget:comm", msg: forFrame });
    }
  }

  // --- Output widgets ---

  /**
   * Every kernel message of the notebook, before it goes to a cell. Follows which msg_id each
   * Output widget captures (its `msg_id` state, set while `with out:` runs) and takes the
   * outputs parented to it: they fill that Output's `outputs` (frames draw them, the kernel is
   * told, as JupyterLab does) and are not shown in the cell. True if it took the message.
   */
  capture(msg: JupyterMessage): boolean {
    const type = msg.header?.msg_type;
    this.captures.follow(msg);
    const model = this.captures.takerOf(msg);
    if (!model) return false;
    const entry = this.outputs.get(model) ?? { list: this.savedOutputs(model), clearOnNext: false };
    this.outputs.set(model, entry);
    const content = msg.content as Record<string, unknown>;
    if (type === "clear_output") {
      if (content.wait) entry.clearOnNext = true;
      else entry.list = [];
    } else {
      if (entry.clearOnNext) entry.list = [];
      entry.clearOnNext = false;
      entry.list = appendOutput(entry.list, type, content);
    }
    if (type !== "clear_output" || !content.wait) this.setOutputs(model, entry.list);
    return true;
  }

  private savedOutputs(model: string): Output[] {
    const saved = this.tracker.snapshot().state[model]?.state.outputs;
    return Array.isArray(saved) ? (saved as Output[]) : [];
  }

  private setOutputs(model: string, list: Output[]): void {
    const data = { method: "update", state: { outputs: list }, buffer_paths: [] };
    this.fromKernel(synthetic("comm_msg", { comm_id: model, data }, []));
    if (roleAtLeast(this.role(), kernelMessageRoles.comm_msg)) {
      try {
        this.comms.get(model)?.send(data);
      } catch {
        /* the comm closed meanwhile */
      }
    }
  }
}

/** A comm message the hub makes itself (a model read back, an Output's new outputs). */
function synthetic(msgType: "comm_open" | "comm_msg", content: Record<string, unknown>, buffers: string[]): JupyterMessage {
  return {
    header: {
      msg_id: globalThis.crypto.randomUUID(),
      msg_type: msgType,
      session: "",
      username: "",
      date: new Date().toISOString(),
      version: "5.3",
    },
    parent_header: {},
    metadata: msgType === "comm_open" ? { version: PROTOCOL_VERSION } : {},
    content,
    buffers,
    channel: "iopub",
  } as unknown as JupyterMessage;
}

/** An output message as nbformat stores it, appended (a stream continues the last one). */
export function appendOutput(list: Output[], type: string, content: Record<string, unknown>): Output[] {
  if (type === "stream") {
    const last = list[list.length - 1];
    if (last?.output_type === "stream" && last.name === content.name)
      return [...list.slice(0, -1), { ...last, text: String(last.text ?? "") + String(content.text ?? "") }];
    return [...list, { output_type: "stream", name: content.name, text: String(content.text ?? "") }];
  }
  if (type === "error")
    return [...list, { output_type: "error", ename: content.ename, evalue: content.evalue, traceback: content.traceback ?? [] }];
  const out: Output = { output_type: type, data: content.data ?? {}, metadata: content.metadata ?? {} };
  if (type === "execute_result") out.execution_count = content.execution_count ?? null;
  return [...list, out];
}
