import { afterEach, describe, expect, it, vi } from "vitest";
import { act, cleanup, render, screen } from "@testing-library/react";
import type { Output } from "@cellar/protocol";
import { frameMessageFrom, MAX_FRAME_HEIGHT } from "../output-frame/messages";
import { expectedFrameHeight, OutputFrameProvider, WidgetHubProvider } from "./FrameOutput";
import { widgetSendFrom, type FrameWidgetSendMessage, type WidgetFrameHub } from "../output-frame/widget-messages";
import { OutputArea } from "./OutputArea";
import { chooseMimeType, htmlNeedsFrame } from "./mime";

afterEach(cleanup);

const PNG = "iVBORw0KGgo=";
const plotly = { data: [{ type: "bar", x: [1, 2], y: [3, 4] }], layout: {} };
const vegaLite = { mark: "bar", data: { values: [{ a: 1 }] }, encoding: { x: { field: "a" } } };

function display(data: Record<string, unknown>): Output {
  return { output_type: "display_data", data, metadata: {} } as Output;
}

function inApp(...outputs: Output[]) {
  return render(
    <OutputFrameProvider settings={{ src: "/output-frame/frame.html" }}>
      <OutputArea outputs={outputs} />
    </OutputFrameProvider>,
  );
}

describe("chooseMimeType with and without frames", () => {
  it("prefers the interactive type where frames exist", () => {
    const bundle = { "application/vnd.plotly.v1+json": plotly, "image/png": PNG, "text/plain": "Figure" };
    expect(chooseMimeType(bundle, { frames: true })).toBe("application/vnd.plotly.v1+json");
    expect(chooseMimeType({ "application/vnd.vegalite.v5+json": vegaLite, "text/plain": "x" }, { frames: true })).toBe(
      "application/vnd.vegalite.v5+json",
    );
    expect(chooseMimeType({ "application/vnd.vegalite.v4+json": vegaLite, "image/png": PNG }, { frames: true })).toBe(
      "application/vnd.vegalite.v4+json",
    );
    expect(chooseMimeType({ "application/vnd.vega.v5+json": {}, "text/plain": "x" }, { frames: true })).toBe(
      "application/vnd.vega.v5+json",
    );
    expect(chooseMimeType({ "application/javascript": "alert(1)", "text/plain": "x" }, { frames: true })).toBe("application/javascript");
  });

  it("falls back to the static alternative without frames (the HTML export)", () => {
    expect(chooseMimeType({ "application/vnd.plotly.v1+json": plotly, "image/png": PNG, "text/plain": "Figure" })).toBe("image/png");
    expect(chooseMimeType({ "application/vnd.plotly.v1+json": plotly, "text/plain": "Figure" })).toBe("text/plain");
    expect(chooseMimeType({ "application/vnd.vegalite.v5+json": vegaLite, "text/plain": "x" })).toBe("text/plain");
    expect(chooseMimeType({ "application/javascript": "alert(1)" })).toBeNull();
  });

  it("picks a widget view only with frames and a widget hub, else its text/plain", () => {
    const view = { model_id: "m1", version_major: 2, version_minor: 0 };
    expect(chooseMimeType({ "application/vnd.jupyter.widget-view+json": view, "text/plain": "w" }, { frames: true, widgets: true })).toBe(
      "application/vnd.jupyter.widget-view+json",
    );
    expect(chooseMimeType({ "application/vnd.jupyter.widget-view+json": view }, { frames: true })).toBeNull();
    expect(chooseMimeType({ "application/vnd.jupyter.widget-view+json": view, "text/plain": "w" }, { frames: true })).toBe("text/plain");
    expect(chooseMimeType({ "application/vnd.jupyter.widget-view+json": view, "text/plain": "w" }, { widgets: true })).toBe("text/plain");
  });

  it("sends HTML with scripts or iframes to the frame, tables stay in the page", () => {
    expect(htmlNeedsFrame('<div id="b"></div><script type="text/javascript">Bokeh.embed()</script>')).toBe(true);
    expect(htmlNeedsFrame('<iframe srcdoc="&lt;html&gt;" style="width:100%"></iframe>')).toBe(true);
    expect(htmlNeedsFrame("<table><tr><td>script</td></tr></table><style>td{color:red}</style>")).toBe(false);
  });
});

describe("frame outputs in the app", () => {
  it("renders plotly in a sandboxed iframe without allow-same-origin", () => {
    inApp(display({ "application/vnd.plotly.v1+json": plotly, "text/plain": "Figure" }));
    const iframe = screen.getByTestId("output-frame-iframe") as HTMLIFrameElement;
    expect(iframe.getAttribute("sandbox")).toBe("allow-scripts");
    expect(iframe.getAttribute("src")).toBe("/output-frame/frame.html");
    expect(screen.queryByTestId("output-text")).toBeNull();
  });

  it("keeps a pandas table inline (sanitised), sends script HTML to a frame", () => {
    inApp(display({ "text/html": "<table><tr><td>1</td></tr></table>" }), display({ "text/html": "<b>x</b><script>1</script>" }));
    expect(screen.getByTestId("output-html").querySelector("td")?.textContent).toBe("1");
    expect(screen.getAllByTestId("output-frame")).toHaveLength(1);
    expect(screen.getByTestId("output-frame").getAttribute("data-mime")).toBe("text/html");
  });

  it("without frames shows the PNG, and script HTML sanitised", () => {
    const { container } = render(
      <OutputArea
        outputs={[
          display({ "application/vnd.plotly.v1+json": plotly, "image/png": PNG }),
          display({ "text/html": "<b>x</b><script>1</script>" }),
        ]}
      />,
    );
    expect(screen.getByTestId("output-image")).toBeTruthy();
    expect(screen.getByTestId("output-html").querySelector("b")?.textContent).toBe("x");
    expect(container.querySelector("script, iframe")).toBeNull();
  });

  it("sends the output when its frame is ready and sizes the iframe to heights only its frame reports", () => {
    inApp(display({ "application/vnd.plotly.v1+json": plotly, "text/plain": "Figure" }));
    const iframe = screen.getByTestId("output-frame-iframe") as HTMLIFrameElement;
    const frameWindow = iframe.contentWindow!;
    const posted = vi.spyOn(frameWindow, "postMessage").mockImplementation(() => {});
    const other = document.createElement("iframe");
    document.body.appendChild(other);
    const post = (data: unknown, source: Window | null) =>
      act(() => {
        window.dispatchEvent(new MessageEvent("message", { data, source }));
      });

    post({ type: "cellar-output:ready" }, other.contentWindow);
    expect(posted).not.toHaveBeenCalled();
    post({ type: "cellar-output:ready" }, frameWindow);
    expect(posted).toHaveBeenCalledWith(
      { type: "cellar-output:render", mime: "application/vnd.plotly.v1+json", data: plotly, metadata: {} },
      "*",
    );

    post({ type: "cellar-output:height", height: 420 }, frameWindow);
    expect(iframe.style.height).toBe("420px");
    // Another window (another output's frame, the page itself) cannot resize this one.
    post({ type: "cellar-output:height", height: 9 }, other.contentWindow);
    post({ type: "cellar-output:height", height: 9 }, window);
    expect(iframe.style.height).toBe("420px");
    other.remove();
  });

  it("holds the height a figure says it will take until its frame reports the real one, then marks it drawn", () => {
    expect(expectedFrameHeight("application/vnd.plotly.v1+json", { data: [], layout: { height: 300 } })).toBe(300);
    expect(expectedFrameHeight("application/vnd.plotly.v1+json", JSON.stringify({ data: [] }))).toBe(450);
    expect(expectedFrameHeight("application/vnd.vegalite.v5+json", { mark: "bar", height: 200 })).toBe(250);
    expect(expectedFrameHeight("application/javascript", "1")).toBe(150);
    inApp(display({ "application/vnd.plotly.v1+json": { data: [], layout: { height: 320 } }, "text/plain": "Figure" }));
    const iframe = screen.getByTestId("output-frame-iframe") as HTMLIFrameElement;
    expect(iframe.style.height).toBe("320px");
    expect(iframe.dataset.drawn).toBeUndefined();
    const win = iframe.contentWindow!;
    vi.spyOn(win, "postMessage").mockImplementation(() => {});
    for (const data of [{ type: "cellar-output:ready" }, { type: "cellar-output:height", height: 330 }])
      act(() => {
        window.dispatchEvent(new MessageEvent("message", { data, source: win }));
      });
    expect(iframe.style.height).toBe("330px");
    expect(iframe.dataset.drawn).toBe("true");
  });

  it("loads frames two at a time: the third waits until one of them has drawn", () => {
    const figure = () => display({ "application/vnd.plotly.v1+json": plotly, "text/plain": "Figure" });
    inApp(figure(), figure(), figure());
    expect(screen.getAllByTestId("output-frame")).toHaveLength(3);
    const iframes = screen.getAllByTestId("output-frame-iframe") as HTMLIFrameElement[];
    expect(iframes).toHaveLength(2);
    const first = iframes[0]!.contentWindow!;
    vi.spyOn(first, "postMessage").mockImplementation(() => {});
    const post = (data: unknown) =>
      act(() => {
        window.dispatchEvent(new MessageEvent("message", { data, source: first }));
      });
    // A height before the output was sent (the empty page) is not "drawn".
    post({ type: "cellar-output:height", height: 0 });
    expect(screen.getAllByTestId("output-frame-iframe")).toHaveLength(2);
    post({ type: "cellar-output:ready" });
    post({ type: "cellar-output:height", height: 300 });
    expect(screen.getAllByTestId("output-frame-iframe")).toHaveLength(3);
  });
});

describe("frameMessageFrom", () => {
  const frame = () => {
    const iframe = document.createElement("iframe");
    document.body.appendChild(iframe);
    return iframe;
  };

  it("takes only messages from the frame's own window", () => {
    const mine = frame();
    const theirs = frame();
    const height = { type: "cellar-output:height", height: 300 };
    expect(frameMessageFrom({ source: mine.contentWindow, data: height }, mine)).toEqual(height);
    expect(frameMessageFrom({ source: theirs.contentWindow, data: height }, mine)).toBeNull();
    expect(frameMessageFrom({ source: window, data: height }, mine)).toBeNull();
    expect(frameMessageFrom({ source: null, data: height }, mine)).toBeNull();
    expect(frameMessageFrom({ source: mine.contentWindow, data: height }, null)).toBeNull();
    // A frame not in the document has no window: nothing matches it, not even a null source.
    const detached = document.createElement("iframe");
    expect(frameMessageFrom({ source: null, data: height }, detached)).toBeNull();
  });

  it("takes only well-formed messages, heights clamped", () => {
    const mine = frame();
    const from = (data: unknown) => frameMessageFrom({ source: mine.contentWindow, data }, mine);
    expect(from({ type: "cellar-output:ready", extra: 1 })).toEqual({ type: "cellar-output:ready" });
    expect(from({ type: "cellar-output:height", height: "300" })).toBeNull();
    expect(from({ type: "cellar-output:height", height: Number.NaN })).toBeNull();
    expect(from({ type: "cellar-output:height", height: 1e9 })).toEqual({ type: "cellar-output:height", height: MAX_FRAME_HEIGHT });
    expect(from({ type: "cellar-output:height", height: -5 })).toEqual({ type: "cellar-output:height", height: 0 });
    expect(from({ type: "cellar-output:render", mime: "text/html", data: "" })).toBeNull();
    expect(from("cellar-output:ready")).toBeNull();
    expect(from(null)).toBeNull();
  });
});

describe("widget frames", () => {
  const view = { model_id: "m1", version_major: 2, version_minor: 0 };
  function withHub(...outputs: Output[]) {
    const received: FrameWidgetSendMessage[] = [];
    let detached = 0;
    const hub: WidgetFrameHub = {
      attach: vi.fn((post) => {
        post({ type: "cellar-widget:state", state: { version_major: 2, version_minor: 0, state: {} } });
        return { receive: (m: FrameWidgetSendMessage) => void received.push(m), detach: () => void detached++ };
      }),
    };
    const result = render(
      <OutputFrameProvider settings={{ src: "/output-frame/frame.html" }}>
        <WidgetHubProvider hub={hub}>
          <OutputArea outputs={outputs} />
        </WidgetHubProvider>
      </OutputFrameProvider>,
    );
    return { hub, received, detached: () => detached, ...result };
  }
  const post = (data: unknown, source: Window | null) =>
    act(() => {
      window.dispatchEvent(new MessageEvent("message", { data, source }));
    });
  const update: FrameWidgetSendMessage = {
    type: "cellar-widget:send",
    ref: "r1",
    kind: "comm_msg",
    commId: "m1",
    data: { method: "update", state: { value: 3 } },
    metadata: {},
    buffers: [],
  };

  it("attaches a widget view's frame to the hub: the state goes in before the view, its sends go to the hub", () => {
    const t = withHub(display({ "application/vnd.jupyter.widget-view+json": view, "text/plain": "IntSlider(value=0)" }));
    const iframe = screen.getByTestId("output-frame-iframe") as HTMLIFrameElement;
    expect(screen.getByTestId("output-frame").getAttribute("data-mime")).toBe("application/vnd.jupyter.widget-view+json");
    const frameWindow = iframe.contentWindow!;
    const sent = vi.spyOn(frameWindow, "postMessage").mockImplementation(() => {});
    post({ type: "cellar-output:ready" }, frameWindow);
    expect(t.hub.attach).toHaveBeenCalledTimes(1);
    expect(sent.mock.calls.map((c) => (c[0] as { type: string }).type)).toEqual(["cellar-widget:state", "cellar-output:render"]);
    expect(sent.mock.calls[1]![0]).toMatchObject({ mime: "application/vnd.jupyter.widget-view+json", data: view });

    post(update, frameWindow);
    expect(t.received).toEqual([update]);
    // Another window's "send" is not this frame's.
    const other = document.createElement("iframe");
    document.body.appendChild(other);
    post({ ...update, ref: "r2" }, other.contentWindow);
    post({ ...update, ref: "r3" }, window);
    expect(t.received.map((m) => m.ref)).toEqual(["r1"]);
    other.remove();
    t.unmount();
    expect(t.detached()).toBe(1);
  });

  it("gives no comm access to frames of other outputs", () => {
    const t = withHub(display({ "application/javascript": "1", "text/plain": "x" }));
    const frameWindow = (screen.getByTestId("output-frame-iframe") as HTMLIFrameElement).contentWindow!;
    vi.spyOn(frameWindow, "postMessage").mockImplementation(() => {});
    post({ type: "cellar-output:ready" }, frameWindow);
    post(update, frameWindow);
    expect(t.hub.attach).not.toHaveBeenCalled();
    expect(t.received).toEqual([]);
  });

  it("reads a frame's send only in its shape", () => {
    expect(widgetSendFrom(update)).toEqual(update);
    expect(widgetSendFrom({ ...update, kind: "execute_request" })).toBeNull();
    expect(widgetSendFrom({ ...update, commId: 5 })).toBeNull();
    expect(widgetSendFrom({ ...update, data: "x" })).toBeNull();
    expect(widgetSendFrom({ ...update, buffers: ["AAA="] })).toBeNull();
    expect(widgetSendFrom({ ...update, type: "cellar-output:ready" })).toBeNull();
  });
});
