import { describe, expect, it } from "vitest";
import { plotlyBundleFor } from "./plotly-bundle";

describe("plotlyBundleFor", () => {
  it("takes the basic bundle for bar, pie and scatter figures (an untyped trace is a scatter)", () => {
    expect(plotlyBundleFor({ data: [{ type: "bar" }, { type: "scatter", mode: "lines" }] })).toBe("plotly-basic.min.js");
    expect(plotlyBundleFor({ data: [{ x: [1], y: [2] }, { type: "pie" }] })).toBe("plotly-basic.min.js");
    expect(plotlyBundleFor({ data: [] })).toBe("plotly-basic.min.js");
  });

  it("takes the full bundle as soon as one trace is another kind, or the data is not a list of traces", () => {
    expect(plotlyBundleFor({ data: [{ type: "bar" }, { type: "heatmap" }] })).toBe("plotly.min.js");
    expect(plotlyBundleFor({ data: [{ type: "histogram" }] })).toBe("plotly.min.js");
    expect(plotlyBundleFor({ data: [{ type: "scatter3d" }] })).toBe("plotly.min.js");
    expect(plotlyBundleFor({ data: [null] })).toBe("plotly.min.js");
    expect(plotlyBundleFor({ data: [{ type: 7 }] })).toBe("plotly.min.js");
  });
});
