// The script of the output frame's page (frame.html), bundled by build-frame.mjs into
// dist/output-frame/frame.js. It runs in a document with an opaque origin: it can reach nothing
// of the page that framed it but postMessage. It shows what the parent sends and reports its
// height; plotly and vega are loaded only when an output needs them.
import { renderMessageFrom, type FrameRenderMessage, type FrameToPageMessage } from "./messages";
import { plotlyBundleFor, type PlotlyBundle } from "./plotly-bundle";
import { widgetMessageFrom, type FrameWidgetSendMessage, type PageToFrameWidgetMessage } from "./widget-messages";
import type { CellarWidgets, WidgetRuntime } from "./widget-runtime";

type PlotlyGlobal = { newPlot(el: HTMLElement, data: unknown, layout?: unknown, config?: unknown): Promise<unknown> };
type VegaEmbed = (el: HTMLElement, spec: unknown, options?: Record<string, unknown>) => Promise<unknown>;
declare global {
  interface Window {
    Plotly?: PlotlyGlobal;
    vegaEmbed?: VegaEmbed;
    cellarWidgets?: CellarWidgets;
  }
}

/** @cellar/protocol's WIDGET_VIEW_MIME (not imported: the frame's script bundles nothing of it). */
const WIDGET_VIEW_MIME = "application/vnd.jupyter.widget-view+json";

const root = document.getElementById("root") as HTMLDivElement;

function post(message: FrameToPageMessage | FrameWidgetSendMessage): void {
  // The parent's origin cannot be named from an opaque origin; only the parent listens anyway.
  window.parent.postMessage(message, "*");
}

let lastHeight = -1;
function reportHeight(): void {
  const height = Math.ceil(root.getBoundingClientRect().height);
  if (height === lastHeight) return;
  lastHeight = height;
  post({ type: "cellar-output:height", height });
}

const scripts = new Map<string, Promise<void>>();
/** A library file beside frame.html, once per frame. */
function loadScript(name: string): Promise<void> {
  let loading = scripts.get(name);
  if (!loading) {
    loading = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = new URL(name, document.baseURI).href;
      script.onload = () => resolve();
      script.onerror = () => reject(new Error(`loading ${name} failed`));
      document.head.appendChild(script);
    });
    scripts.set(name, loading);
  }
  return loading;
}

/** The full bundle draws what the basic one does: once it is here (a figure that needed it, or
 * an update to one that does), it serves every later figure of this frame. */
let plotlyLoaded: PlotlyBundle | null = null;
async function loadPlotly(bundle: PlotlyBundle): Promise<void> {
  if (plotlyLoaded === "plotly.min.js" || plotlyLoaded === bundle) return;
  await loadScript(bundle);
  plotlyLoaded = bundle;
}

function loadStyle(name: string): void {
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = new URL(name, document.baseURI).href;
  document.head.appendChild(link);
}

// The widget runtime (widgets.js, widgets.css) is loaded by the first widget message or view; the
// hub's messages that come before it are kept, in order, and handed over once it runs.
let widgets: Promise<WidgetRuntime> | null = null;
function widgetRuntime(): Promise<WidgetRuntime> {
  widgets ??= loadScript("widgets.js").then(() => {
    loadStyle("widgets.css");
    return window.cellarWidgets!.start(post);
  });
  return widgets;
}
let widgetQueue: Promise<unknown> = Promise.resolve();
function onWidgetMessage(message: PageToFrameWidgetMessage): void {
  widgetQueue = widgetQueue.then(() => widgetRuntime().then((runtime) => runtime.handle(message))).catch(showError);
}

function spec(data: unknown): unknown {
  return typeof data === "string" ? JSON.parse(data) : data;
}

function text(data: unknown): string {
  if (typeof data === "string") return data;
  if (Array.isArray(data)) return data.join("");
  return "";
}

/** HTML written in so that its scripts run, in document order, each external one loaded before
 * the next runs (bokeh's output loads BokehJS, then calls it), as Jupyter's own append does. */
async function writeHtml(target: HTMLElement, html: string): Promise<void> {
  target.innerHTML = html; // scripts parsed this way are inert; they are replaced below
  for (const inert of Array.from(target.querySelectorAll("script"))) {
    const live = document.createElement("script");
    for (const attr of Array.from(inert.attributes)) live.setAttribute(attr.name, attr.value);
    live.text = inert.text;
    const loaded = live.src ? new Promise<void>((resolve) => (live.onload = live.onerror = () => resolve())) : null;
    inert.replaceWith(live);
    if (loaded) await loaded;
  }
}

async function render(message: FrameRenderMessage): Promise<void> {
  root.replaceChildren();
  const element = document.createElement("div");
  element.className = "output";
  root.appendChild(element);
  const { mime, data } = message;
  if (mime === "application/vnd.plotly.v1+json") {
    const figure = spec(data) as { data?: unknown; layout?: unknown; config?: unknown };
    await loadPlotly(plotlyBundleFor(figure));
    await window.Plotly!.newPlot(element, figure.data ?? [], figure.layout ?? {}, { responsive: true, ...(figure.config as object) });
  } else if (mime.startsWith("application/vnd.vegalite.") || mime.startsWith("application/vnd.vega.")) {
    await loadScript("vega.js");
    const mode = mime.startsWith("application/vnd.vegalite.") ? "vega-lite" : "vega";
    // No actions menu: its "open in editor" and downloads are blocked by the sandbox anyway.
    await window.vegaEmbed!(element, spec(data), { mode, actions: false });
  } else if (mime === WIDGET_VIEW_MIME) {
    const runtime = await widgetRuntime();
    await widgetQueue; // the state the hub sent before this render
    const view = spec(data) as { model_id?: unknown };
    if (typeof view.model_id !== "string") throw new Error("the widget view names no model");
    await runtime.render(view.model_id, element);
  } else if (mime === "application/javascript") {
    // As classic Jupyter runs it: a function body with `element`, the output's own div.
    new Function("element", text(data))(element);
  } else if (mime === "text/html") {
    await writeHtml(element, text(data));
  } else {
    element.textContent = `Cannot show ${mime} here.`;
  }
}

function showError(error: unknown): void {
  const note = document.createElement("pre");
  note.className = "error";
  note.textContent = `This output failed to render: ${error instanceof Error ? error.message : String(error)}`;
  root.appendChild(note);
}

let queue: Promise<void> = Promise.resolve();
window.addEventListener("message", (event) => {
  if (event.source !== window.parent) return;
  const widgetMessage = widgetMessageFrom(event.data);
  if (widgetMessage) return onWidgetMessage(widgetMessage);
  const message = renderMessageFrom(event.data);
  if (!message) return;
  queue = queue.then(() => render(message).catch(showError)).then(reportHeight);
});

// Later growth (a plot that lays itself out, an image that loads, a script adding rows) is
// reported too; the parent sizes the iframe to it.
new ResizeObserver(reportHeight).observe(root);
post({ type: "cellar-output:ready" });
