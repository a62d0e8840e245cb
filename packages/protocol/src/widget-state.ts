// The state of a kernel's Jupyter widgets, followed from the comm messages the kernel sends, in
// the form JupyterLab saves in a notebook's metadata (`metadata.widgets`), so other tools show
// the widgets' last state and a reloaded page can draw them before the kernel answers. The
// gateway keeps one per notebook (to save it) and the page one per kernel (to hand a new widget
// frame every model a view may reference).
import type { JupyterMessage } from "./jupyter";

/** The comm target ipywidgets opens each model's comm on. */
export const WIDGET_TARGET = "jupyter.widget";
/** An output that shows a widget: `{model_id, version_major, version_minor}`. */
export const WIDGET_VIEW_MIME = "application/vnd.jupyter.widget-view+json";
/** The key of `metadata.widgets` that holds the saved state. */
export const WIDGET_STATE_MIME = "application/vnd.jupyter.widget-state+json";

export interface WidgetBuffer {
  /** Where the buffer goes in `state` (ipywidgets' buffer_paths entry). */
  path: Array<string | number>;
  encoding: "base64";
  data: string;
}

export interface WidgetModelState {
  model_name: string;
  model_module: string;
  model_module_version: string;
  state: Record<string, unknown>;
  buffers?: WidgetBuffer[];
}

/** ipywidgets' widget-state schema (version 2.0), as `Widget.get_manager_state()` writes it. */
export interface WidgetStateDocument {
  version_major: 2;
  version_minor: 0;
  state: Record<string, WidgetModelState>;
}

interface CommData {
  state?: Record<string, unknown>;
  buffer_paths?: Array<Array<string | number>>;
  method?: string;
}

export class WidgetStateTracker {
  private readonly models = new Map<string, WidgetModelState>();

  /** Takes in a kernel's comm_open, comm_msg or comm_close; true if a widget's state changed.
   * Comms of other targets, and methods that carry no state (custom messages), change nothing. */
  apply(msg: JupyterMessage): boolean {
    const type = msg.header.msg_type;
    const content = msg.content as { comm_id?: unknown; target_name?: unknown; data?: unknown };
    const id = typeof content.comm_id === "string" ? content.comm_id : null;
    if (!id) return false;
    const data = (content.data ?? {}) as CommData;
    if (type === "comm_open") {
      if (content.target_name !== WIDGET_TARGET || !data.state) return false;
      const s = data.state;
      this.models.set(id, {
        model_name: String(s._model_name ?? ""),
        model_module: String(s._model_module ?? ""),
        model_module_version: String(s._model_module_version ?? ""),
        state: {},
      });
      return this.merge(id, data, msg.buffers);
    }
    if (type === "comm_msg") {
      if (!this.models.has(id) || !data.state || (data.method !== "update" && data.method !== "echo_update")) return false;
      return this.merge(id, data, msg.buffers);
    }
    if (type === "comm_close") return this.models.delete(id);
    return false;
  }

  private merge(id: string, data: CommData, buffers: string[] | undefined): boolean {
    const model = this.models.get(id)!;
    const paths = data.buffer_paths ?? [];
    model.state = { ...model.state, ...data.state };
    if (paths.length) {
      const key = (p: Array<string | number>) => JSON.stringify(p);
      const replaced = new Set(paths.map(key));
      const kept = (model.buffers ?? []).filter((b) => !replaced.has(key(b.path)));
      const added = paths.flatMap((path, i) =>
        typeof buffers?.[i] === "string" ? [{ path, encoding: "base64" as const, data: buffers[i] }] : [],
      );
      model.buffers = [...kept, ...added];
    }
    return true;
  }

  has(modelId: string): boolean {
    return this.models.has(modelId);
  }

  get size(): number {
    return this.models.size;
  }

  /** Every model's state now, as a notebook saves it. */
  snapshot(): WidgetStateDocument {
    return { version_major: 2, version_minor: 0, state: Object.fromEntries(structuredClone([...this.models])) };
  }

  /** Starts from a saved document (a reloaded notebook's metadata); entries that are not model
   * states are ignored. */
  load(doc: unknown): void {
    this.models.clear();
    const state = (doc as { state?: unknown } | null)?.state;
    if (!state || typeof state !== "object") return;
    for (const [id, m] of Object.entries(state as Record<string, unknown>)) {
      const model = m as Partial<WidgetModelState> | null;
      if (!model || typeof model.model_name !== "string" || !model.state || typeof model.state !== "object") continue;
      this.models.set(id, structuredClone(model as WidgetModelState));
    }
  }

  /** The kernel is gone (restart, death): its models are. */
  clear(): boolean {
    const had = this.models.size > 0;
    this.models.clear();
    return had;
  }
}

/** `metadata.widgets` holding `doc`, as JupyterLab writes it. */
export function widgetsMetadata(doc: WidgetStateDocument): Record<string, WidgetStateDocument> {
  return { [WIDGET_STATE_MIME]: doc };
}

/** The kernel outputs an Output widget can take. */
const CAPTURABLE = new Set(["stream", "display_data", "execute_result", "error", "clear_output"]);

/**
 * Which Output widget (ipywidgets' OutputModel: interact's result, `with out:`) takes a kernel
 * output. While one captures, its `msg_id` state names the request whose outputs go into the
 * widget instead of its cell, as JupyterLab's OutputModel does with a message hook. The page
 * fills the widget with them; the gateway does not record them as the cell's outputs (a reload
 * would show them twice, once in the widget and once below it).
 */
export class OutputCaptures {
  private readonly models = new Set<string>();
  /** The request msg_id an Output model captures now → that model. */
  private readonly capturing = new Map<string, string>();

  /** Takes in a kernel's comm message (others are ignored). */
  follow(msg: JupyterMessage): void {
    const type = msg.header.msg_type;
    if (type !== "comm_open" && type !== "comm_msg" && type !== "comm_close") return;
    const content = msg.content as { comm_id?: unknown; target_name?: unknown; data?: CommData };
    const id = typeof content.comm_id === "string" ? content.comm_id : null;
    if (!id) return;
    if (type === "comm_close") {
      this.models.delete(id);
      this.release(id);
      return;
    }
    const state = content.data?.state;
    if (!state) return;
    if (type === "comm_open" && content.target_name === WIDGET_TARGET && state._model_name === "OutputModel") this.models.add(id);
    if (!this.models.has(id) || typeof state.msg_id !== "string") return;
    this.release(id);
    if (state.msg_id) this.capturing.set(state.msg_id, id);
  }

  /** The Output models among a saved document's (a reloaded page's, an adopted kernel's). */
  load(doc: WidgetStateDocument): void {
    for (const [id, m] of Object.entries(doc.state)) if (m.model_name === "OutputModel") this.models.add(id);
  }

  /** The Output model that takes `msg`, or null when it belongs to its cell. */
  takerOf(msg: JupyterMessage): string | null {
    if (!CAPTURABLE.has(msg.header.msg_type)) return null;
    const parent = msg.parent_header?.msg_id;
    return (parent && this.capturing.get(parent)) || null;
  }

  clear(): void {
    this.models.clear();
    this.capturing.clear();
  }

  private release(model: string): void {
    for (const [msgId, m] of this.capturing) if (m === model) this.capturing.delete(msgId);
  }
}
