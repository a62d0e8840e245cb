// The vega bundle (dist/output-frame/vega.js): vega-embed with vega and vega-lite, as a global
// the frame calls once it has loaded this file.
import vegaEmbed from "vega-embed";

(window as unknown as { vegaEmbed: typeof vegaEmbed }).vegaEmbed = vegaEmbed;
