import { JSDOM } from "jsdom";
import { describe, expect, it } from "vitest";
import type { Cell, Output } from "@cellar/protocol";
import { notebookToHtml, PAGE_POLICY } from "./index";

const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk\n+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==\n";

const code = (source: string, outputs: Output[], execution_count = 1): Cell => ({
  id: `c${Math.random()}`,
  cell_type: "code",
  source,
  outputs,
  execution_count,
  metadata: {},
});
const markdown = (source: string, attachments?: Cell["attachments"]): Cell => ({
  id: `m${Math.random()}`,
  cell_type: "markdown",
  source,
  outputs: [],
  execution_count: null,
  metadata: {},
  attachments,
});

/** The file as a browser would parse it (nothing runs: jsdom does not execute scripts by default). */
function open(cells: Cell[], title = "Report") {
  const html = notebookToHtml({ title, metadata: {}, cells });
  return { html, doc: new JSDOM(html).window.document };
}

describe("notebookToHtml", () => {
  it("a hostile HTML output loses its script and handlers and keeps its content", () => {
    const { html, doc } = open([
      code("show()", [
        {
          output_type: "display_data",
          data: {
            "text/html": '<b id="kept">bold</b><script>steal()</script><img src="x" onerror="steal()"><a href="javascript:steal()">x</a>',
          },
          metadata: {},
        },
      ]),
    ]);
    expect(doc.querySelector('[data-testid="output-html"] #kept')?.textContent).toBe("bold");
    expect(doc.querySelectorAll("script")).toHaveLength(0);
    expect(html).not.toContain("steal()");
  });

  it("outputs that need the app's sandboxed frame show their static alternative, and never their code", () => {
    const figure = { data: [{ type: "bar", x: [1], y: [2] }], layout: { title: "SECRET_SPEC" } };
    const { html, doc } = open([
      code("fig", [
        {
          output_type: "display_data",
          data: { "application/vnd.plotly.v1+json": figure, "image/png": PNG, "text/plain": "Figure()" },
          metadata: {},
        },
        {
          output_type: "display_data",
          data: { "application/vnd.vegalite.v5+json": { mark: "bar" }, "text/plain": "alt.Chart(...)" },
          metadata: {},
        },
        {
          output_type: "display_data",
          data: { "application/javascript": "steal()", "text/plain": "<IPython.core.display.Javascript object>" },
          metadata: {},
        },
        { output_type: "display_data", data: { "application/javascript": "steal()" }, metadata: {} },
      ]),
    ]);
    expect(doc.querySelector('[data-testid="output-image"]')?.getAttribute("src")).toMatch(/^data:image\/png;base64,/);
    const texts = [...doc.querySelectorAll('[data-testid="output-text"]')].map((e) => e.textContent);
    expect(texts).toEqual(["alt.Chart(...)", "<IPython.core.display.Javascript object>"]);
    expect(doc.querySelector(".cellar-output-note")?.textContent).toContain("cannot be shown");
    expect(doc.querySelectorAll("script, iframe")).toHaveLength(0);
    expect(html).not.toContain("steal()");
    expect(html).not.toContain("SECRET_SPEC");
  });

  it("an ANSI stream keeps its colours, and the page carries the colour rules", () => {
    const { html, doc } = open([
      code("print(c)", [{ output_type: "stream", name: "stdout", text: "\u001b[31mred alert\u001b[0m plain\n" }]),
    ]);
    const span = doc.querySelector('[data-testid="output-stream"] .ansi-red-fg');
    expect(span?.textContent).toBe("red alert");
    expect(html).toMatch(/\.ansi-red-fg\s*\{\s*color:/);
    expect(html).not.toContain("\u001b");
  });

  it("an image output is inlined as a data: URI without the base64's line breaks", () => {
    const { doc } = open([
      code("plot()", [{ output_type: "display_data", data: { "image/png": PNG, "text/plain": "<Figure>" }, metadata: {} }]),
    ]);
    const img = doc.querySelector<HTMLImageElement>('[data-testid="output-image"]');
    expect(img?.getAttribute("src")).toBe(`data:image/png;base64,${PNG.replace(/\s+/g, "")}`);
  });

  it("renders markdown, code with its source and a traceback, and escapes the title", () => {
    const { doc } = open(
      [
        markdown("# Results\n\nSome *emphasis* <img src=x onerror=steal()>"),
        code(
          "x = 1 < 2\nraise ValueError('bad')",
          [{ output_type: "error", ename: "ValueError", evalue: "bad", traceback: ["\u001b[0;31mValueError\u001b[0m: bad"] }],
          7,
        ),
      ],
      "Q3 <b>report</b>",
    );
    expect(doc.title).toBe("Q3 <b>report</b>");
    expect(doc.querySelector("h1")?.textContent).toBe("Q3 <b>report</b>");
    expect(doc.querySelector(".nbh-markdown h1")?.textContent).toBe("Results");
    expect(doc.querySelector(".nbh-markdown em")?.textContent).toBe("emphasis");
    expect(doc.querySelector(".nbh-markdown img")?.getAttribute("onerror")).toBeNull();
    expect(doc.querySelector(".nbh-source")?.textContent).toBe("x = 1 < 2\nraise ValueError('bad')");
    expect(doc.querySelector(".nbh-prompt")?.textContent).toBe("");
    expect(doc.querySelectorAll(".nbh-prompt")[1]?.textContent).toBe("In [7]:");
    expect(doc.querySelector('[data-testid="output-error"] .ansi-red-fg')?.textContent).toBe("ValueError");
  });

  it("inlines a markdown cell's attached image", () => {
    const { doc } = open([markdown("![chart](attachment:chart.png)", { "chart.png": { "image/png": PNG } })]);
    expect(doc.querySelector(".nbh-markdown img")?.getAttribute("src")).toBe(`data:image/png;base64,${PNG.replace(/\s+/g, "")}`);
  });

  it("is self-contained: a policy that forbids scripts and fetches, one inline stylesheet, no links out", () => {
    const { doc } = open([code("1", [{ output_type: "execute_result", data: { "text/plain": "1" }, metadata: {}, execution_count: 1 }])]);
    expect(doc.querySelector('meta[http-equiv="Content-Security-Policy"]')?.getAttribute("content")).toBe(PAGE_POLICY);
    expect(PAGE_POLICY).toContain("default-src 'none'");
    expect(doc.querySelectorAll("style")).toHaveLength(1);
    expect(doc.querySelector("style")?.textContent).not.toMatch(/@import|url\(/);
    expect(doc.querySelectorAll("link, script, iframe")).toHaveLength(0);
    expect(doc.querySelector('[data-testid="output-text"]')?.textContent).toBe("1");
  });
});
