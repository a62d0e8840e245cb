import { WIDGET_STATE_MIME, WIDGET_VIEW_MIME, widgetsMetadata } from "@cellar/protocol";
import { describe, expect, it } from "vitest";
import { fromIpynb, serializeIpynb, toIpynb } from "./convert";
import { parseIpynb, validateIpynb } from "./validate";
import { normalizeIpynb } from "./normalize";
import { codeCell, notebook45, readFixture, realWorldFixtures } from "./test-notebooks";

let n = 0;
const ids = () => `generated-${++n}`;

describe("import → export", () => {
  it.each(realWorldFixtures())("keeps %s: cells, outputs, metadata, ids and nbformat_minor", (name) => {
    const text = readFixture(name);
    const original = parseIpynb(text);
    const exported = toIpynb(fromIpynb(original, { title: name, newCellId: ids }));
    expect(validateIpynb(exported)).toMatchObject({ ok: true });
    expect(normalizeIpynb(exported)).toEqual(normalizeIpynb(original));
    expect(exported.nbformat_minor).toBe(original.nbformat_minor);
  });

  it.each(realWorldFixtures())("writes JSON the way Jupyter does, so %s comes back byte for byte", (name) => {
    const text = readFixture(name);
    expect(serializeIpynb(toIpynb(fromIpynb(parseIpynb(text), { title: "x" })))).toBe(text);
  });

  it("keeps attachments, raw cells and tags; joins multiline text for Cellar and splits it again", () => {
    const nb = notebook45(
      [
        {
          id: "m",
          cell_type: "markdown",
          metadata: { tags: ["intro"] },
          source: ["# Title\n", "![a](attachment:a.png)"],
          attachments: { "a.png": { "image/png": "iVBORw0K" } },
        },
        { id: "r", cell_type: "raw", metadata: { format: "text/x-rst" }, source: ".. note::\n" },
        codeCell(
          "c",
          ["print(1)\n", "x"],
          [
            { output_type: "stream", name: "stdout", text: ["1\n", "2\n"] },
            {
              output_type: "execute_result",
              execution_count: 4,
              metadata: {},
              data: { "text/plain": ["a\n", "b"], "application/json": { k: [1, 2] } },
            },
          ],
          { execution_count: 4 },
        ),
      ],
      { metadata: { kernelspec: { name: "python3", display_name: "Python 3" } } },
    );
    const imported = fromIpynb(parseIpynb(nb), { title: "t" });
    expect(imported.cells.map((c) => c.cell_type)).toEqual(["markdown", "raw", "code"]);
    expect(imported.cells[0]!.source).toBe("# Title\n![a](attachment:a.png)");
    expect(imported.cells[0]!.attachments).toEqual({ "a.png": { "image/png": "iVBORw0K" } });
    expect(imported.cells[2]!.outputs[0]).toEqual({ output_type: "stream", name: "stdout", text: "1\n2\n" });
    expect(imported.cells[2]!.outputs[1]).toMatchObject({ data: { "text/plain": "a\nb", "application/json": { k: [1, 2] } } });
    expect(imported.metadata).toEqual({ kernelspec: { name: "python3", display_name: "Python 3" } });
    const exported = toIpynb(imported);
    expect(normalizeIpynb(exported)).toEqual(normalizeIpynb(nb as never));
    expect(exported.cells[0]!.source).toEqual(["# Title\n", "![a](attachment:a.png)"]);
  });

  it("gives cells of notebooks older than 4.5 ids inside Cellar and leaves them out on export", () => {
    const nb = { nbformat: 4, nbformat_minor: 2, metadata: {}, cells: [{ cell_type: "markdown", metadata: {}, source: "hi" }] };
    const imported = fromIpynb(parseIpynb(nb), { title: "old", newCellId: () => "fresh-id" });
    expect(imported.cells[0]!.id).toBe("fresh-id");
    expect(imported.nbformatMinor).toBe(2);
    const exported = toIpynb(imported);
    expect(exported.cells[0]).not.toHaveProperty("id");
    expect(validateIpynb(exported)).toMatchObject({ ok: true });
  });

  it("exports notebooks made in Cellar as valid nbformat 4.5, without Cellar's display ids", () => {
    const exported = toIpynb({
      cells: [
        {
          id: "c1",
          cell_type: "code",
          source: "display(x)",
          execution_count: 1,
          metadata: {},
          outputs: [{ output_type: "display_data", data: { "text/plain": "x" }, metadata: {}, display_id: "d1" }],
        },
      ],
    });
    expect(exported.nbformat_minor).toBe(5);
    expect(exported.cells[0]).toMatchObject({ outputs: [{ output_type: "display_data", data: { "text/plain": ["x"] }, metadata: {} }] });
    expect(JSON.stringify(exported)).not.toContain("display_id");
    expect(validateIpynb(exported)).toMatchObject({ ok: true });
  });

  it("exports a widget's view and the widgets' saved state (metadata.widgets) as valid nbformat, and imports them back", () => {
    const view = { model_id: "m1", version_major: 2, version_minor: 0 };
    const model = {
      model_name: "IntSliderModel",
      model_module: "@jupyter-widgets/controls",
      model_module_version: "2.0.0",
      state: { value: 9 },
    };
    const widgets = widgetsMetadata({ version_major: 2, version_minor: 0, state: { m1: model } });
    const exported = toIpynb({
      metadata: { widgets },
      cells: [
        {
          id: "c1",
          cell_type: "code",
          source: "display(s)",
          execution_count: 1,
          metadata: {},
          outputs: [{ output_type: "display_data", data: { "text/plain": "IntSlider(value=9)", [WIDGET_VIEW_MIME]: view }, metadata: {} }],
        },
      ],
    });
    expect(validateIpynb(exported)).toMatchObject({ ok: true });
    expect(exported.metadata.widgets).toEqual({ [WIDGET_STATE_MIME]: { version_major: 2, version_minor: 0, state: { m1: model } } });
    const back = fromIpynb(parseIpynb(serializeIpynb(exported)), { title: "w" });
    expect(back.metadata.widgets).toEqual(widgets);
    expect(back.cells[0]!.outputs[0]).toMatchObject({ data: { [WIDGET_VIEW_MIME]: view } });
  });
});
