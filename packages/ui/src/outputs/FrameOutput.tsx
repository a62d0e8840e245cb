/** @jsxRuntime automatic */
// (The pragma: the gateway renders these under tsx, which applies no tsconfig of this package.)
import { createContext, useCallback, useContext, useEffect, useLayoutEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { frameMessageFrom, type FrameRenderMessage } from "../output-frame/messages";
import { widgetSendFrom, type WidgetFrameHub, type WidgetFrameLink } from "../output-frame/widget-messages";
import { frameLoads } from "./frame-loads";
import { WIDGET_VIEW } from "./mime";

/** Where output frames come from. Given (the browser app): outputs that run code are shown in
 * sandboxed frames of `src`. Not given (the HTML export, tests): they fall back to their static
 * alternative, chosen by chooseMimeType without the frame types. */
export interface OutputFrameSettings {
  /** The frame page's URL (the gateway's `/output-frame/frame.html`). */
  src: string;
}

const OutputFrameContext = createContext<OutputFrameSettings | null>(null);

export function OutputFrameProvider({ settings, children }: { settings: OutputFrameSettings; children: ReactNode }) {
  return <OutputFrameContext.Provider value={settings}>{children}</OutputFrameContext.Provider>;
}

export function useOutputFrames(): OutputFrameSettings | null {
  return useContext(OutputFrameContext);
}

const WidgetHubContext = createContext<WidgetFrameHub | null>(null);

/** Gives the outputs below a widget hub (the web app: the open notebook kernel's): widget views
 * render in output frames attached to it. Without one they show their text/plain repr. */
export function WidgetHubProvider({ hub, children }: { hub: WidgetFrameHub | null; children: ReactNode }) {
  return <WidgetHubContext.Provider value={hub}>{children}</WidgetHubContext.Provider>;
}

export function useWidgetHub(): WidgetFrameHub | null {
  return useContext(WidgetHubContext);
}

/** A frame is made once its output comes within this distance of the viewport. */
const NEAR_VIEWPORT = "600px 0px";
/** The box held before the frame reports its height, where the output does not say its own. */
const PLACEHOLDER_PX = 150;
/** plotly.js's default figure height. */
const PLOTLY_DEFAULT_PX = 450;

/**
 * The height the output will most likely take, held until its frame reports the real one. A
 * plotly figure says it (layout.height, else plotly's default), as a vega spec may: holding that
 * box keeps the cells below where they will stay, and keeps the virtual list from mounting, at
 * open, the extra rows (and their editors) that 150 px boxes would have let into the viewport.
 */
export function expectedFrameHeight(mime: string, data: unknown): number {
  let spec: unknown = data;
  if (typeof data === "string") {
    try {
      spec = JSON.parse(data);
    } catch {
      return PLACEHOLDER_PX;
    }
  }
  const obj = spec && typeof spec === "object" ? (spec as { layout?: { height?: unknown }; height?: unknown }) : null;
  if (mime === "application/vnd.plotly.v1+json") {
    const h = obj?.layout?.height;
    return typeof h === "number" && h > 0 ? h : PLOTLY_DEFAULT_PX;
  }
  if (mime.startsWith("application/vnd.vegalite.") || mime.startsWith("application/vnd.vega.")) {
    // The plot area's height; axes and title take about 50 px more.
    return typeof obj?.height === "number" && obj.height > 0 ? obj.height + 50 : PLACEHOLDER_PX;
  }
  return PLACEHOLDER_PX;
}

export interface FrameOutputProps {
  mime: string;
  data: unknown;
  metadata: unknown;
}

/**
 * An output that runs code, in an iframe with `sandbox="allow-scripts"` and no
 * allow-same-origin: its document has an opaque origin, so its scripts cannot read this page,
 * its storage or cookies, or call the API as the user. The page posts the output in once the frame
 * says it is ready, and takes back only its height, only from that frame's own window.
 */
export function FrameOutput({ mime, data, metadata }: FrameOutputProps) {
  const settings = useOutputFrames();
  // Only a frame showing a widget view is attached to the hub: other outputs' frames get no comm.
  const hub = useWidgetHub();
  const widgetHub = mime === WIDGET_VIEW ? hub : null;
  const link = useRef<WidgetFrameLink | null>(null);
  const holder = useRef<HTMLDivElement>(null);
  const frame = useRef<HTMLIFrameElement>(null);
  const ready = useRef(false);
  const near = useNearViewport(holder);
  const [height, setHeight] = useState<number | null>(null);
  const placeholder = useMemo(() => expectedFrameHeight(mime, data), [mime, data]);
  // Near the viewport, the frame waits its turn to load (frame-loads.ts); its first height is
  // "drawn", which lets the next one in.
  const [turn, setTurn] = useState(false);
  const [drawn, setDrawn] = useState(false);
  const loaded = useRef<(() => void) | null>(null);
  useEffect(() => {
    if (!near) return;
    const done = frameLoads.request(() => setTurn(true));
    loaded.current = done;
    return done;
  }, [near]);

  const send = useCallback(() => {
    const message: FrameRenderMessage = { type: "cellar-output:render", mime, data, metadata };
    // "*": the frame's origin is opaque and has no name; the message goes to that one window.
    frame.current?.contentWindow?.postMessage(message, "*");
  }, [mime, data, metadata]);
  const sendRef = useRef(send);
  sendRef.current = send;

  // A layout effect: the listener is there in the same commit as the iframe. A passive effect
  // could run after the frame's "ready" had come and gone (a busy page: the frame loads in a
  // process of its own), and that frame stayed blank.
  useLayoutEffect(() => {
    if (!turn) return;
    const attachHub = () => {
      if (!widgetHub) return;
      // A reloaded frame starts afresh: the state of every model, then the view.
      link.current?.detach();
      const target = frame.current?.contentWindow;
      link.current = widgetHub.attach((m) => target?.postMessage(m, "*"));
    };
    const onMessage = (event: MessageEvent) => {
      const message = frameMessageFrom(event, frame.current);
      if (!message) {
        // A widget's send, from this frame's own window, to the hub (which decides).
        if (link.current && event.source === frame.current?.contentWindow) {
          const send = widgetSendFrom(event.data);
          if (send) link.current.receive(send);
        }
        return;
      }
      if (message.type === "cellar-output:ready") {
        ready.current = true;
        attachHub();
        sendRef.current();
      } else {
        setHeight(message.height);
        if (ready.current) {
          setDrawn(true);
          loaded.current?.();
        }
      }
    };
    window.addEventListener("message", onMessage);
    // The hub came after the frame was ready (the kernel connected later): attach it now.
    if (ready.current && widgetHub) {
      attachHub();
      sendRef.current();
    }
    return () => {
      window.removeEventListener("message", onMessage);
      link.current?.detach();
      link.current = null;
    };
  }, [turn, widgetHub]);

  // An update_display_data: the frame that is there shows the new value.
  useEffect(() => {
    if (ready.current) send();
  }, [send]);

  if (!settings) return null;
  return (
    <div ref={holder} className="cellar-output-frame" data-testid="output-frame" data-mime={mime}>
      {turn ? (
        <iframe
          ref={frame}
          src={settings.src}
          sandbox="allow-scripts"
          title={`Output (${mime})`}
          data-testid="output-frame-iframe"
          // The iframe's own height is the row's: the virtual list's ResizeObserver sees it change.
          style={{ height: height ?? placeholder }}
          // Set once the frame has drawn the output and reported its height.
          data-drawn={drawn ? "true" : undefined}
        />
      ) : (
        <div style={{ height: placeholder }} />
      )}
    </div>
  );
}

/** True once the element has come near the viewport (and from then on: a frame once made is kept,
 * so scrolling back does not run the output again). Without IntersectionObserver: at once. */
function useNearViewport(ref: React.RefObject<HTMLElement | null>): boolean {
  const [near, setNear] = useState(() => typeof IntersectionObserver === "undefined");
  useEffect(() => {
    const el = ref.current;
    if (near || !el) return;
    const observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((e) => e.isIntersecting)) setNear(true);
      },
      { rootMargin: NEAR_VIEWPORT },
    );
    observer.observe(el);
    return () => observer.disconnect();
  }, [near, ref]);
  return near;
}
