// Builds the output frame's static files into dist/output-frame/, which the gateway serves at
// /output-frame/ (apps/kernel-gateway, CELLAR_OUTPUT_FRAME_DIR): the page, its script, and the
// charting libraries and the widget runtime it loads on demand. Classic scripts, not modules: a module script from an
// opaque-origin document is a CORS request, a classic one is not.
import { copyFile, mkdir } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(here, "dist/output-frame");
const require = createRequire(import.meta.url);
await mkdir(out, { recursive: true });

const common = { bundle: true, format: "iife", minify: true, target: "es2020", legalComments: "none", logLevel: "warning" };
await build({ ...common, entryPoints: [path.join(here, "src/output-frame/frame.ts")], outfile: path.join(out, "frame.js") });
await build({ ...common, entryPoints: [path.join(here, "src/output-frame/vega-entry.ts")], outfile: path.join(out, "vega.js") });
// The widget runtime and its CSS (widgets.js, widgets.css), loaded only by frames showing a widget.
await build({
  ...common,
  entryPoints: [path.join(here, "src/output-frame/widget-runtime.ts")],
  outfile: path.join(out, "widgets.js"),
  alias: { "sanitize-html": path.join(here, "src/output-frame/sanitize-html-shim.ts") },
  loader: { ".svg": "dataurl", ".png": "dataurl", ".woff": "dataurl", ".woff2": "dataurl", ".ttf": "dataurl", ".eot": "dataurl" },
});
await copyFile(path.join(here, "src/output-frame/frame.html"), path.join(out, "frame.html"));
// plotly's bundles are already one minified file each: the full one, and the basic one (bar, pie,
// scatter) that most figures need (src/output-frame/plotly-bundle.ts chooses).
await copyFile(require.resolve("plotly.js-dist-min/plotly.min.js"), path.join(out, "plotly.min.js"));
await copyFile(require.resolve("plotly.js-basic-dist-min/plotly-basic.min.js"), path.join(out, "plotly-basic.min.js"));
