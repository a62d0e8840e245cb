// Which plotly.js bundle a figure needs. The full bundle is 4.8 MB of script that every frame
// compiles again (an opaque-origin frame shares no HTTP or code cache with the others); plotly's
// "basic" partial bundle is 1.2 MB and draws the traces most figures are made of.

/** The trace modules of plotly.js-basic-dist-min (its README: `bar`, `pie` and `scatter`). */
const BASIC_TRACES = new Set(["bar", "pie", "scatter"]);

export type PlotlyBundle = "plotly-basic.min.js" | "plotly.min.js";

/** The smallest bundle that draws every trace of `figure` (a trace without a type is a scatter). */
export function plotlyBundleFor(figure: { data?: unknown }): PlotlyBundle {
  const traces = Array.isArray(figure.data) ? figure.data : [];
  const basic = traces.every((t) => {
    if (!t || typeof t !== "object") return false;
    const { type } = t as { type?: unknown };
    return type === undefined || (typeof type === "string" && BASIC_TRACES.has(type));
  });
  return basic ? "plotly-basic.min.js" : "plotly.min.js";
}
