// The widget runtime of the output frame (bundled by build-frame.mjs into widgets.js, with
// widgets.css; loaded only by a frame that shows a widget view). An ipywidgets ManagerBase whose
// comms are proxies: what a model sends is posted to the page, which relays it to the kernel (if
// the user may run and the comm is a widget's); what the kernel sends comes from the page. Model
// and view classes come only from the modules bundled here (@jupyter-widgets/base, controls,
// output): the frame's CSP lets it fetch nothing, so custom widgets from a CDN cannot load.
import "@jupyter-widgets/controls/css/widgets.css";
import * as base from "@jupyter-widgets/base";
import { ManagerBase } from "@jupyter-widgets/base-manager";
import * as controls from "@jupyter-widgets/controls";
import * as output from "@jupyter-widgets/output";
import { Widget as LuminoWidget } from "@lumino/widgets";
import type { FrameCommMessage, FrameWidgetSendMessage, PageToFrameWidgetMessage } from "./widget-messages";

type Callbacks = base.ICallbacks;
type Post = (message: FrameWidgetSendMessage) => void;

let sends = 0;
function nextRef(): string {
  sends += 1;
  return `frame-${sends}-${Math.random().toString(36).slice(2, 10)}`;
}

function arrayBuffers(buffers: ArrayBuffer[] | ArrayBufferView[] | undefined): ArrayBuffer[] {
  return (buffers ?? []).map((b) =>
    b instanceof ArrayBuffer ? b : (b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer),
  );
}

/** A model's comm, standing in for the kernel's: sends go to the page, the page's messages come
 * in through `deliver`. */
class ProxyComm implements base.IClassicComm {
  private onMsg: ((msg: unknown) => void) | null = null;
  private onClose: ((msg: unknown) => void) | null = null;

  constructor(
    readonly comm_id: string,
    readonly target_name: string,
    private readonly runtime: WidgetRuntime,
  ) {}

  open(data: unknown, callbacks?: Callbacks, metadata?: Record<string, unknown>, buffers?: ArrayBuffer[] | ArrayBufferView[]): string {
    return this.runtime.send("comm_open", this, data, callbacks, metadata, buffers);
  }

  send(data: unknown, callbacks?: Callbacks, metadata?: Record<string, unknown>, buffers?: ArrayBuffer[] | ArrayBufferView[]): string {
    return this.runtime.send("comm_msg", this, data, callbacks, metadata, buffers);
  }

  close(data?: unknown, callbacks?: Callbacks, metadata?: Record<string, unknown>, buffers?: ArrayBuffer[] | ArrayBufferView[]): string {
    return this.runtime.send("comm_close", this, data ?? {}, callbacks, metadata, buffers);
  }

  on_msg(callback: (msg: unknown) => void): void {
    this.onMsg = callback;
  }

  on_close(callback: (msg: unknown) => void): void {
    this.onClose = callback;
  }

  deliver(msg: unknown, type: FrameCommMessage["msg_type"]): void {
    if (type === "comm_close") this.onClose?.(msg);
    else this.onMsg?.(msg);
  }
}

/** The Output widget's view: the model's `outputs` (nbformat outputs, which the page fills from
 * the kernel messages the Output captured) drawn as text, HTML or images. It is in the frame, so
 * HTML may be written as it is. */
class OutputView extends output.OutputView {
  override render(): void {
    super.render();
    this.el.classList.add("jupyter-widgets-output-area");
    this.listenTo(this.model, "change:outputs", () => this.draw());
    this.draw();
  }

  private draw(): void {
    const outputs = (this.model.get("outputs") as Array<Record<string, unknown>> | undefined) ?? [];
    this.el.replaceChildren(...outputs.map(drawOutput));
  }
}

function joined(value: unknown): string {
  return Array.isArray(value) ? value.join("") : typeof value === "string" ? value : "";
}

function stripAnsi(text: string): string {
  return text.replace(/\u001b\[[0-9;]*m/g, "");
}

function drawOutput(out: Record<string, unknown>): HTMLElement {
  const type = out.output_type;
  if (type === "stream") {
    const pre = document.createElement("pre");
    pre.className = `widget-output-stream ${out.name === "stderr" ? "stderr" : ""}`;
    pre.textContent = joined(out.text);
    return pre;
  }
  if (type === "error") {
    const pre = document.createElement("pre");
    pre.className = "error";
    pre.textContent = stripAnsi((out.traceback as string[] | undefined)?.join("\n") ?? `${out.ename}: ${out.evalue}`);
    return pre;
  }
  const data = (out.data ?? {}) as Record<string, unknown>;
  const div = document.createElement("div");
  if (typeof data["image/png"] === "string") {
    const img = document.createElement("img");
    img.src = `data:image/png;base64,${data["image/png"]}`;
    div.appendChild(img);
  } else if (data["text/html"] !== undefined) div.innerHTML = joined(data["text/html"]);
  else {
    const pre = document.createElement("pre");
    pre.textContent = joined(data["text/plain"]);
    div.appendChild(pre);
  }
  return div;
}

const MODULES: Record<string, Record<string, unknown>> = {
  "@jupyter-widgets/base": base as unknown as Record<string, unknown>,
  "@jupyter-widgets/controls": controls as unknown as Record<string, unknown>,
  "@jupyter-widgets/output": { ...(output as unknown as Record<string, unknown>), OutputView },
};

export class WidgetRuntime extends ManagerBase {
  private readonly comms = new Map<string, ProxyComm>();
  private readonly pending = new Map<string, Callbacks | undefined>();
  /** Messages are handled in order, each after the one before has settled (a comm_open builds
   * its model asynchronously; its updates must wait for it). */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly post: Post) {
    super();
  }

  protected async loadClass(
    className: string,
    moduleName: string,
    _moduleVersion: string,
  ): Promise<typeof base.WidgetModel | typeof base.WidgetView> {
    const found = MODULES[moduleName]?.[className];
    if (!found) throw new Error(`${moduleName}'s ${className} is not available here (only ipywidgets' own widgets are)`);
    return found as typeof base.WidgetModel;
  }

  protected async _create_comm(targetName: string, modelId?: string): Promise<base.IClassicComm> {
    return this.commFor(modelId ?? base.uuid(), targetName);
  }

  protected async _get_comm_info(): Promise<Record<string, never>> {
    // The page has the kernel's comms and hands every model over in `state`.
    return {};
  }

  private commFor(id: string, targetName: string): ProxyComm {
    let comm = this.comms.get(id);
    if (!comm) {
      comm = new ProxyComm(id, targetName, this);
      this.comms.set(id, comm);
    }
    return comm;
  }

  send(
    kind: FrameWidgetSendMessage["kind"],
    comm: ProxyComm,
    data: unknown,
    callbacks: Callbacks | undefined,
    metadata: Record<string, unknown> | undefined,
    buffers: ArrayBuffer[] | ArrayBufferView[] | undefined,
  ): string {
    const ref = nextRef();
    this.pending.set(ref, callbacks);
    this.post({
      type: "cellar-widget:send",
      ref,
      kind,
      commId: comm.comm_id,
      targetName: comm.target_name,
      data: (data ?? {}) as Record<string, unknown>,
      metadata: metadata ?? {},
      buffers: arrayBuffers(buffers),
    });
    return ref;
  }

  /** One of the page's messages. */
  handle(message: PageToFrameWidgetMessage): Promise<unknown> {
    this.chain = this.chain.then(() => this.handleNow(message)).catch((error: unknown) => console.error("widget message failed", error));
    return this.chain;
  }

  private async handleNow(message: PageToFrameWidgetMessage): Promise<void> {
    if (message.type === "cellar-widget:idle") {
      const callbacks = this.pending.get(message.ref);
      this.pending.delete(message.ref);
      const status = { header: { msg_type: "status" }, parent_header: { msg_id: message.ref }, content: { execution_state: "idle" } };
      (callbacks?.iopub?.status as ((msg: unknown) => void) | undefined)?.(status);
      return;
    }
    if (message.type === "cellar-widget:state") {
      await this.loadState(message.state.state);
      return;
    }
    const { msg_type, content, metadata, buffers, parent } = message.msg;
    const wire = {
      header: { msg_type, msg_id: base.uuid() },
      parent_header: { msg_id: parent },
      metadata,
      content,
      buffers: buffers.map((b) => new DataView(b)),
      channel: "iopub",
    };
    if (msg_type === "comm_open") {
      if (this.has_model(content.comm_id)) return;
      const comm = this.commFor(content.comm_id, content.target_name ?? this.comm_target_name);
      await this.handle_comm_open(comm, wire as never);
      return;
    }
    const comm = this.comms.get(content.comm_id);
    comm?.deliver(wire, msg_type);
    if (msg_type === "comm_close") this.comms.delete(content.comm_id);
  }

  /** Every model of the page's state, each with its proxy comm (updates from the kernel reach
   * it; the page decides whether its sends go anywhere). Registered in one pass before any is
   * built, so references between models resolve whatever the order. */
  private async loadState(
    models: Record<
      string,
      {
        model_name: string;
        model_module: string;
        model_module_version: string;
        state: Record<string, unknown>;
        buffers?: Array<{ path: Array<string | number>; data: string }>;
      }
    >,
  ): Promise<void> {
    const made: Promise<unknown>[] = [];
    for (const [id, model] of Object.entries(models)) {
      if (this.has_model(id)) continue;
      const state = structuredClone(model.state);
      if (model.buffers?.length)
        base.put_buffers(
          state as never,
          model.buffers.map((b) => b.path),
          model.buffers.map((b) => new DataView(base64ToBuffer(b.data))),
        );
      made.push(
        this.new_model(
          {
            model_id: id,
            model_name: model.model_name,
            model_module: model.model_module,
            model_module_version: model.model_module_version,
            comm: this.commFor(id, this.comm_target_name),
          },
          state,
        ).catch((error: unknown) => console.error(`widget model ${id} failed`, error)),
      );
    }
    await Promise.all(made);
  }

  /** Draws the view of `modelId` into `element`. */
  async render(modelId: string, element: HTMLElement): Promise<void> {
    await this.chain;
    if (!this.has_model(modelId)) {
      element.textContent = "This widget's state is not available (its kernel has stopped, or it was never saved).";
      return;
    }
    const model = await this.get_model(modelId);
    const view = await this.create_view(model);
    LuminoWidget.attach(view.luminoWidget, element);
  }
}

function base64ToBuffer(text: string): ArrayBuffer {
  const bytes = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  return bytes.buffer;
}

/** What widgets.js gives frame.js. */
export interface CellarWidgets {
  start(post: Post): WidgetRuntime;
}

(window as unknown as { cellarWidgets: CellarWidgets }).cellarWidgets = { start: (post) => new WidgetRuntime(post) };
