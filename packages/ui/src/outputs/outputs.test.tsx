import { afterEach, describe, expect, it } from "vitest";
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { PLACEMENT_MIME, type Output } from "@cellar/protocol";
import { OutputArea } from "./OutputArea";
import { chooseMimeType } from "./mime";

afterEach(cleanup);

const PNG_1PX = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

function show(...outputs: Output[]) {
  return render(<OutputArea outputs={outputs} />);
}

describe("stream output", () => {
  it("renders ANSI colours as spans, never as escape codes", () => {
    show({ output_type: "stream", name: "stdout", text: "\u001b[31mred\u001b[0m plain\n" });
    const pre = screen.getByTestId("output-stream");
    expect(pre.tagName).toBe("PRE");
    expect(pre.textContent).toBe("red plain\n");
    expect(pre.textContent).not.toContain("\u001b");
    const span = pre.querySelector("span");
    expect(span?.textContent).toBe("red");
    expect(span?.className).toContain("ansi-red-fg");
  });

  it("shows text that looks like HTML as text", () => {
    show({ output_type: "stream", name: "stdout", text: "<b>not bold</b>" });
    const pre = screen.getByTestId("output-stream");
    expect(pre.querySelector("b")).toBeNull();
    expect(pre.textContent).toBe("<b>not bold</b>");
  });

  it("renders only the last lines of a huge stream, with a note", () => {
    const text = Array.from({ length: 100_000 }, (_, i) => `line ${i}`).join("\n") + "\n";
    show({ output_type: "stream", name: "stdout", text });
    const pre = screen.getByTestId("output-stream");
    expect(pre.textContent!.split("\n").filter(Boolean)).toHaveLength(5_000);
    expect(pre.textContent).toContain("line 99999");
    expect(pre.textContent).not.toContain("line 94999\n");
    expect(screen.getByTestId("output-tail-note").textContent).toBe("Showing the last 5,000 of 100,000 lines");
  });

  it("while the cell is still running, a stream shows a shorter tail, and the full one once it is done", () => {
    const output: Output = {
      output_type: "stream",
      name: "stdout",
      text: Array.from({ length: 20_000 }, (_, i) => `line ${i}`).join("\n") + "\n",
    };
    const { rerender } = render(<OutputArea outputs={[output]} streaming />);
    const lines = () => screen.getByTestId("output-stream").textContent!.split("\n").filter(Boolean).length;
    expect(lines()).toBe(500);
    expect(screen.getByTestId("output-stream").textContent).toContain("line 19999");
    expect(screen.getByTestId("output-tail-note").textContent).toBe("Showing the last 500 of 20,000 lines");
    rerender(<OutputArea outputs={[output]} />);
    expect(lines()).toBe(5_000);
  });

  it("brings earlier lines back a page at a time, or all at once", () => {
    const text = Array.from({ length: 12_000 }, (_, i) => `line ${i}`).join("\n") + "\n";
    show({ output_type: "stream", name: "stdout", text });
    const lines = () => screen.getByTestId("output-stream").textContent!.split("\n").filter(Boolean).length;
    expect(lines()).toBe(5_000);
    fireEvent.click(screen.getByTestId("output-show-more"));
    expect(lines()).toBe(10_000);
    expect(screen.getByTestId("output-tail-note").textContent).toBe("Showing the last 10,000 of 12,000 lines");
    expect(screen.getByTestId("output-show-more").textContent).toBe("Show 2,000 more");
    fireEvent.click(screen.getByTestId("output-show-all"));
    expect(lines()).toBe(12_000);
    expect(screen.getByTestId("output-stream").textContent).toContain("line 0\n");
    expect(screen.queryByTestId("output-tail-note")).toBeNull();
  });

  it("shows only the last redraw of a progress bar line", () => {
    show({ output_type: "stream", name: "stderr", text: "10%\r50%\r100%\ndone\n" });
    expect(screen.getByTestId("output-stream").textContent).toBe("100%\ndone\n");
  });
});

describe("error output", () => {
  it("renders the traceback with colours, not escape codes", () => {
    show({
      output_type: "error",
      ename: "ZeroDivisionError",
      evalue: "division by zero",
      traceback: ["\u001b[0;31mZeroDivisionError\u001b[0m: division by zero", "----> 1 1/0"],
    });
    const err = screen.getByTestId("output-error");
    expect(err.textContent).toBe("ZeroDivisionError: division by zero\n----> 1 1/0");
    expect(err.querySelector("span.ansi-red-fg")?.textContent).toBe("ZeroDivisionError");
  });
});

describe("rich output", () => {
  it("sanitises HTML: scripts and event handlers are removed, markup stays", () => {
    const { container } = show({
      output_type: "display_data",
      data: {
        "text/html":
          '<table><tr><td>cell</td></tr></table><script>window.pwned=1</script><img src="x" onerror="window.pwned=1"><a href="javascript:alert(1)">x</a>',
        "text/plain": "table",
      },
      metadata: {},
    });
    const html = screen.getByTestId("output-html");
    expect(html.querySelector("td")?.textContent).toBe("cell");
    expect(container.querySelector("script")).toBeNull();
    expect(html.querySelector("img")?.getAttribute("onerror")).toBeNull();
    expect(html.querySelector("a")?.getAttribute("href")).toBeNull();
  });

  it("sanitises SVG", () => {
    show({
      output_type: "display_data",
      data: { "image/svg+xml": '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><circle r="4"/><script>alert(1)</script></svg>' },
      metadata: {},
    });
    const svg = screen.getByTestId("output-svg");
    expect(svg.querySelector("circle")).not.toBeNull();
    expect(svg.querySelector("script")).toBeNull();
    expect(svg.querySelector("svg")?.getAttribute("onload")).toBeNull();
  });

  it("renders PNG as an <img> data URL, even when base64 is wrapped", () => {
    show({
      output_type: "display_data",
      data: { "image/png": PNG_1PX.slice(0, 40) + "\n" + PNG_1PX.slice(40) + "\n", "text/plain": "<Figure size 640x480 with 1 Axes>" },
      metadata: { "image/png": { width: 320 } },
    });
    const img = screen.getByTestId("output-image") as HTMLImageElement;
    expect(img.tagName).toBe("IMG");
    expect(img.getAttribute("src")).toBe(`data:image/png;base64,${PNG_1PX}`);
    expect(img.getAttribute("width")).toBe("320");
    expect(img.getAttribute("alt")).toBe("<Figure size 640x480 with 1 Axes>");
  });

  it("renders markdown output as sanitised HTML", () => {
    show({ output_type: "display_data", data: { "text/markdown": "# Title\n\n**bold** <img src=x onerror=alert(1)>" }, metadata: {} });
    const md = screen.getByTestId("output-markdown");
    expect(md.querySelector("h1")?.textContent).toBe("Title");
    expect(md.querySelector("strong")?.textContent).toBe("bold");
    expect(md.querySelector("img")?.getAttribute("onerror")).toBeNull();
  });

  it("typesets text/latex with KaTeX", () => {
    show({
      output_type: "display_data",
      data: { "text/latex": "$\\displaystyle \\sqrt{x}$", "text/plain": "<IPython.core.display.Math object>" },
      metadata: {},
    });
    const latex = screen.getByTestId("output-latex");
    expect(latex.querySelector(".katex .sqrt")).not.toBeNull();
  });

  it("shows application/json as a tree whose nodes open and close", () => {
    show({
      output_type: "display_data",
      data: { "application/json": { name: "cellar", nested: { deep: [1, 2, 3] } }, "text/plain": "<IPython.core.display.JSON object>" },
      metadata: {},
    });
    const tree = screen.getByTestId("output-json");
    expect(tree.textContent).toContain("name");
    expect(tree.textContent).toContain('"cellar"');
    // Deeper levels start closed: the array inside `nested` is not listed yet.
    expect(tree.textContent).not.toContain("deep");
    fireEvent.click(screen.getByText("nested:"));
    expect(tree.textContent).toContain("deep");
  });

  it("falls back to text/plain with ANSI colours for an execute_result", () => {
    show({ output_type: "execute_result", data: { "text/plain": "\u001b[32m42\u001b[0m" }, metadata: {}, execution_count: 3 });
    const text = screen.getByTestId("output-text");
    expect(text.textContent).toBe("42");
    expect(text.querySelector("span.ansi-green-fg")).not.toBeNull();
  });

  it("never runs javascript outputs; says what could not be shown", () => {
    const { container } = show({ output_type: "display_data", data: { "application/javascript": "alert(1)" }, metadata: {} });
    expect(container.querySelector("script")).toBeNull();
    expect(screen.getByTestId("cell-output").textContent).toContain("cannot be shown");
  });

  it("shows the gateway's truncation note as a notice, not as plain output", () => {
    show(
      { output_type: "stream", name: "stdout", text: "a\n" },
      {
        output_type: "display_data",
        data: { "text/plain": "Output truncated: this cell produced more than 2,000,000 characters of output." },
        metadata: { cellar_truncated: true },
      },
    );
    const notice = screen.getByTestId("output-truncated");
    expect(notice.getAttribute("role")).toBe("status");
    expect(notice.textContent).toContain("Output truncated");
    expect(screen.queryByTestId("output-text")).toBeNull();
  });
});

describe("chooseMimeType", () => {
  it("prefers the richest safe type", () => {
    expect(chooseMimeType({ "text/plain": "x", "image/png": "AAAA" })).toBe("image/png");
    expect(chooseMimeType({ "text/plain": "x", "text/html": "<b>x</b>" })).toBe("text/html");
    expect(chooseMimeType({ "text/plain": "x", "text/markdown": "*x*" })).toBe("text/markdown");
    expect(chooseMimeType({ "text/plain": "x", "application/javascript": "alert(1)" })).toBe("text/plain");
    expect(chooseMimeType({ "application/vnd.jupyter.widget-view+json": {} })).toBeNull();
  });
});

describe("placement output (where a cell ran)", () => {
  const placement = {
    device: "H100",
    workerId: "gpu-1",
    workerClass: "H100",
    isolation: "gvisor-nvproxy",
    moved: { from: "w1", names: 14, bytes: 2.1e9, seconds: 1.8 },
    skipped: [] as Array<{ name: string; type: string; reason: string }>,
  };
  const placementOutput = (p: object): Output => ({
    output_type: "display_data",
    data: { [PLACEMENT_MIME]: p, "text/plain": "ran somewhere" },
    metadata: {},
  });

  it("is one line under the cell's other outputs, wherever it came in", () => {
    show(placementOutput(placement), { output_type: "stream", name: "stdout", text: "hello\n" });
    const line = screen.getByTestId("cell-placement");
    expect(line.textContent).toBe("ran on H100 · worker gpu-1 · gVisor + nvproxy · moved 14 names, 2.1 GB in 1.8 s");
    const area = screen.getByTestId("cell-output");
    const stream = screen.getByTestId("output-stream");
    expect(stream.compareDocumentPosition(line) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
    expect(area.textContent).not.toContain("ran somewhere");
    expect(screen.queryByTestId("cell-placement-skipped")).toBeNull();
  });

  it("lists the names that could not move with their type and reason, as a warning", () => {
    show(
      placementOutput({
        ...placement,
        skipped: [
          { name: "sock", type: "socket", reason: "cannot pickle 'socket' object" },
          { name: "gen", type: "generator", reason: "cannot pickle 'generator' object" },
        ],
      }),
    );
    const warning = screen.getByTestId("cell-placement-skipped");
    expect(warning.getAttribute("role")).toBe("alert");
    expect(warning.textContent).toContain("2 names could not move to H100");
    const names = screen.getAllByTestId("cell-placement-skipped-name");
    expect(names.map((n) => n.textContent)).toEqual([
      "sock (socket): cannot pickle 'socket' object",
      "gen (generator): cannot pickle 'generator' object",
    ]);
  });

  it("one that does not read shows its text", () => {
    show(placementOutput({ device: 3 }));
    expect(screen.getByTestId("cell-placement").textContent).toBe("ran somewhere");
  });
});
