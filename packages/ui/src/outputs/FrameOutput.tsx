/** @jsxRuntime automatic */
// (The pragma: the gateway renders these under tsx, which applies no tsconfig of this package.)
import { createContext, useCallback, useContext, useEffect, useRef, useState, type ReactNode } from "react";
import { frameMessageFrom, type FrameRenderMessage } from "../output-frame/messages";
import { widgetSendFrom, type WidgetFrameHub, type WidgetFrameLink } from "../output-frame/widget-messages";
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
/** The box held before the frame reports its height (a plotly figure's default is 450 px). */
const PLACEHOLDER_PX = 150;

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

  const send = useCallback(() => {
    const message: FrameRenderMessage = { type: "cellar-output:render", mime, data, metadata };
    // "*": the frame's origin is opaque and has no name; the message goes to that one window.
    frame.current?.contentWindow?.postMessage(message, "*");
  }, [mime, data, metadata]);
  const sendRef = useRef(send);
  sendRef.current = send;

  useEffect(() => {
    if (!near) return;
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
        if (widgetHub) {
          // A reloaded frame starts afresh: the state of every model, then the view.
          link.current?.detach();
          const target = frame.current?.contentWindow;
          link.current = widgetHub.attach((m) => target?.postMessage(m, "*"));
        }
        sendRef.current();
      } else setHeight(message.height);
    };
    window.addEventListener("message", onMessage);
    return () => {
      window.removeEventListener("message", onMessage);
      link.current?.detach();
      link.current = null;
    };
  }, [near, widgetHub]);

  // An update_display_data: the frame that is there shows the new value.
  useEffect(() => {
    if (ready.current) send();
  }, [send]);

  if (!settings) return null;
  return (
    <div ref={holder} className="cellar-output-frame" data-testid="output-frame" data-mime={mime}>
      {near ? (
        <iframe
          ref={frame}
          src={settings.src}
          sandbox="allow-scripts"
          title={`Output (${mime})`}
          data-testid="output-frame-iframe"
          // The iframe's own height is the row's: the virtual list's ResizeObserver sees it change.
          style={{ height: height ?? PLACEHOLDER_PX }}
        />
      ) : (
        <div style={{ height: PLACEHOLDER_PX }} />
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
