// Issue 17's notebooks for the editor bench (bench/editor.ts): the synthetic notebook of
// e2e/tests/synthetic-notebook.ts whose code cells show a plotly figure (and every third an
// IntSlider, its models in `metadata.widgets` as ipywidgets 8 sends them), and the same notebook
// with each of those outputs replaced by a real PNG of about the size it is drawn at, so the two
// differ only in outputs that run code in frames.
import { deflateSync } from "node:zlib";
import { syntheticIpynb } from "../e2e/tests/synthetic-notebook";

const PLOTLY = "application/vnd.plotly.v1+json";
const WIDGET_VIEW = "application/vnd.jupyter.widget-view+json";
const WIDGET_STATE = "application/vnd.jupyter.widget-state+json";
/** The figure's layout height; the PNG that stands for it is drawn at this height too. */
const FIGURE_PX = { width: 640, height: 300 };
/** About what an IntSlider with its readout takes (ipywidgets' default 300 px wide slider). */
const SLIDER_PX = { width: 360, height: 28 };

export interface InteractiveNotebooks {
  /** Plotly figures and widget views, drawn in output frames. */
  frames: string;
  /** The same cells with static `image/png` outputs where those were. */
  static: string;
  /** How many outputs of each kind the frames notebook holds. */
  plotly_outputs: number;
  widget_outputs: number;
}

type Output = { output_type: string; data?: Record<string, unknown>; metadata?: unknown; execution_count?: number };
type Cell = { id: string; cell_type: string; outputs?: Output[] };

export function interactiveIpynbs(cellCount: number): InteractiveNotebooks {
  const figurePng = barChartPicture(FIGURE_PX.width, FIGURE_PX.height).toString("base64");
  const sliderPng = sliderPicture(SLIDER_PX.width, SLIDER_PX.height).toString("base64");
  const frames = JSON.parse(syntheticIpynb(cellCount)) as { metadata: Record<string, unknown>; cells: Cell[] };
  const still = JSON.parse(syntheticIpynb(cellCount)) as { metadata: Record<string, unknown>; cells: Cell[] };
  const models: Record<string, unknown> = {};
  let plotly = 0;
  let widgets = 0;
  frames.cells.forEach((cell, i) => {
    if (cell.cell_type !== "code") return;
    // The stream stays; the execute_result becomes what `fig.show()` / `display(slider)` show.
    const stream = cell.outputs!.filter((o) => o.output_type === "stream");
    const drawn: Output[] = [
      display({ [PLOTLY]: figure(i), "text/plain": [`Figure({'data': [bar, line], 'layout': {'title': 'cell ${i}'}})`] }),
    ];
    const pictured: Output[] = [display({ "image/png": figurePng, "text/plain": ["<Figure size 640x300 with 1 Axes>"] })];
    plotly++;
    if (i % 3 === 0) {
      const id = modelId(i, 0);
      Object.assign(models, intSliderModels(i));
      drawn.push(display({ [WIDGET_VIEW]: { version_major: 2, version_minor: 0, model_id: id }, "text/plain": [`IntSlider(value=${i})`] }));
      pictured.push(display({ "image/png": sliderPng, "text/plain": [`IntSlider(value=${i})`] }));
      widgets++;
    }
    cell.outputs = [...stream, ...drawn];
    still.cells[i]!.outputs = [...stream, ...pictured];
  });
  frames.metadata.widgets = { [WIDGET_STATE]: { version_major: 2, version_minor: 0, state: models } };
  return { frames: JSON.stringify(frames), static: JSON.stringify(still), plotly_outputs: plotly, widget_outputs: widgets };
}

function display(data: Record<string, unknown>): Output {
  return { output_type: "display_data", data, metadata: {} };
}

/** A small bar + line figure, as plotly.py's `fig.to_plotly_json()` writes one. */
function figure(i: number): unknown {
  const x = ["a", "b", "c", "d", "e", "f"];
  const y = x.map((_, k) => ((i * 7 + k * 13) % 17) + 3);
  return {
    data: [
      { type: "bar", name: "count", x, y },
      { type: "scatter", mode: "lines+markers", name: "trend", x, y: y.map((v, k) => v * 0.8 + k) },
    ],
    layout: { title: { text: `cell ${i}` }, height: FIGURE_PX.height, margin: { l: 40, r: 20, t: 40, b: 30 }, template: {} },
    config: { displaylogo: false },
  };
}

/** 32 hex digits, as ipywidgets' uuid4().hex model ids; `part` 0 the slider, 1 its layout, 2 its style. */
function modelId(cell: number, part: number): string {
  return `${part}b17`.padEnd(16, "0") + cell.toString(16).padStart(16, "0");
}

/**
 * One IntSlider's three models as ipywidgets 8.1 opens them (the comm_open's full state, which
 * the gateway records into `metadata.widgets`): @jupyter-widgets/controls 5.0.x's DOMWidgetModel
 * declares no default `layout` or `style` and unpacks both as "IPY_MODEL_<id>" references, so the
 * LayoutModel (@jupyter-widgets/base 2.0.0) and SliderStyleModel (@jupyter-widgets/controls 2.0.0,
 * viewed by base's StyleView) must be in the same state for the view to draw.
 */
function intSliderModels(i: number): Record<string, unknown> {
  const [slider, layout, style] = [0, 1, 2].map((p) => modelId(i, p));
  const common = (module: string, name: string, viewModule: string, viewName: string) => ({
    _model_module: module,
    _model_module_version: "2.0.0",
    _model_name: name,
    _view_count: null,
    _view_module: viewModule,
    _view_module_version: "2.0.0",
    _view_name: viewName,
  });
  const model = (module: string, name: string, state: Record<string, unknown>) => ({
    model_module: module,
    model_module_version: "2.0.0",
    model_name: name,
    state,
  });
  const layoutKeys = [
    "align_content",
    "align_items",
    "align_self",
    "border_bottom",
    "border_left",
    "border_right",
    "border_top",
    "bottom",
    "display",
    "flex",
    "flex_flow",
    "grid_area",
    "grid_auto_columns",
    "grid_auto_flow",
    "grid_auto_rows",
    "grid_column",
    "grid_gap",
    "grid_row",
    "grid_template_areas",
    "grid_template_columns",
    "grid_template_rows",
    "height",
    "justify_content",
    "justify_items",
    "left",
    "margin",
    "max_height",
    "max_width",
    "min_height",
    "min_width",
    "object_fit",
    "object_position",
    "order",
    "overflow",
    "padding",
    "right",
    "top",
    "visibility",
    "width",
  ];
  return {
    [layout]: model("@jupyter-widgets/base", "LayoutModel", {
      ...common("@jupyter-widgets/base", "LayoutModel", "@jupyter-widgets/base", "LayoutView"),
      ...Object.fromEntries(layoutKeys.map((k) => [k, null])),
    }),
    [style]: model("@jupyter-widgets/controls", "SliderStyleModel", {
      ...common("@jupyter-widgets/controls", "SliderStyleModel", "@jupyter-widgets/base", "StyleView"),
      description_width: "",
      handle_color: null,
    }),
    [slider]: model("@jupyter-widgets/controls", "IntSliderModel", {
      ...common("@jupyter-widgets/controls", "IntSliderModel", "@jupyter-widgets/controls", "IntSliderView"),
      _dom_classes: [],
      behavior: "drag-tap",
      continuous_update: true,
      description: `s${i}`,
      description_allow_html: false,
      disabled: false,
      layout: `IPY_MODEL_${layout}`,
      max: 100,
      min: 0,
      orientation: "horizontal",
      readout: true,
      readout_format: "d",
      step: 1,
      style: `IPY_MODEL_${style}`,
      tabbable: null,
      tooltip: null,
      value: i % 101,
    }),
  };
}

type Rgb = [number, number, number];

/** A bar chart picture: white ground, axes, six bars. */
function barChartPicture(width: number, height: number): Buffer {
  return png(width, height, (x, y): Rgb => {
    if (x === 40 || y === height - 30) return [68, 68, 68];
    const bar = Math.floor((x - 50) / 95);
    const inBar = x >= 50 && (x - 50) % 95 < 70 && bar < 6;
    if (inBar && y > 60 + ((bar * 37) % 150) && y < height - 30) return [99, 110, 250];
    return (y - 40) % 50 === 0 && x > 40 ? [235, 235, 240] : [255, 255, 255];
  });
}

/** A slider picture: a label, a grey track, a handle and a readout. */
function sliderPicture(width: number, height: number): Buffer {
  const mid = height >> 1;
  return png(width, height, (x, y): Rgb => {
    if (x > 110 && x < 130 && Math.abs(y - mid) < 8) return [255, 255, 255];
    if (x >= 100 && x < 300 && Math.abs(y - mid) <= 2) return [189, 189, 189];
    if (x >= 105 && x < 135 && Math.abs(y - mid) < 9) return [66, 165, 245];
    if ((x < 80 || x > 310) && Math.abs(y - mid) < 5 && x % 7 < 4) return [60, 60, 60];
    return [255, 255, 255];
  });
}

/** An 8-bit RGB PNG (one IDAT, no filter) of `pixel(x, y)`. */
function png(width: number, height: number, pixel: (x: number, y: number) => Rgb): Buffer {
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    for (let x = 0; x < width; x++) raw.set(pixel(x, y), row + 1 + x * 3);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8 bits, truecolour, deflate, no filter, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(raw)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Buffer): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
