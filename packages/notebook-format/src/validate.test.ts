import { describe, expect, it } from "vitest";
import { NotebookFormatError, parseIpynb, validateIpynb } from "./validate";
import { codeCell, notebook45, readFixture, realWorldFixtures } from "./test-notebooks";

const problems = (value: unknown) => {
  const r = validateIpynb(value);
  if (r.ok) throw new Error("expected the notebook to be rejected");
  return r.problems;
};

describe("validateIpynb", () => {
  it.each(realWorldFixtures())("accepts the real-world notebook %s", (name) => {
    expect(validateIpynb(JSON.parse(readFixture(name)))).toMatchObject({ ok: true });
  });

  it("says when the file is not JSON at all", () => {
    expect(() => parseIpynb("{ nope")).toThrow(/not JSON/);
    try {
      parseIpynb("{ nope");
    } catch (e) {
      expect(e).toBeInstanceOf(NotebookFormatError);
      expect((e as NotebookFormatError).problems).toHaveLength(1);
    }
  });

  it("refuses JSON that is not a notebook, and old nbformat versions, by name", () => {
    expect(problems([1, 2])).toEqual(["the file is not a JSON object, so not a notebook"]);
    expect(problems({ cells: [] })[0]).toMatch(/missing field "nbformat"/);
    expect(problems({ nbformat: 3, nbformat_minor: 0, worksheets: [] })[0]).toMatch(/nbformat 3 is not supported.*nbformat 4/);
  });

  it("names the cell and the missing field", () => {
    const nb = notebook45([codeCell("a", "1"), { id: "b", cell_type: "code", metadata: {}, outputs: [], execution_count: null }]);
    expect(problems(nb)).toEqual(['cell 2 (code, id "b"): missing required field "source"']);
  });

  it("names the cell, the output and the field inside an output", () => {
    const nb = notebook45([codeCell("a", "print(1)", [{ output_type: "stream", text: "1\n" }])]);
    expect(problems(nb)).toEqual(['cell 1 (code, id "a"), output 1 (stream): missing required field "name"']);
  });

  it("says which types are allowed when a cell or output type is unknown", () => {
    expect(problems(notebook45([{ id: "x", cell_type: "sql", metadata: {}, source: "" }]))).toEqual([
      'cell 1: "cell_type" must be "code", "markdown" or "raw" (got "sql")',
    ]);
    expect(problems(notebook45([codeCell("a", "", [{ output_type: "banner" }])]))[0]).toMatch(
      /^cell 1 \(code, id "a"\), output 1: "output_type" must be one of "execute_result", .*\(got "banner"\)$/,
    );
  });

  it("reports wrong types with the field's path", () => {
    expect(problems(notebook45([codeCell("a", "", [], { execution_count: "3" })]))).toEqual([
      'cell 1 (code, id "a"): "execution_count" must be integer or null',
    ]);
    expect(problems(notebook45([codeCell("a", ["x", 1])]))).toContain('cell 1 (code, id "a"): "source[1]" must be string');
  });

  it("validates against the notebook's own minor version", () => {
    // Ids arrived in 4.5: a 4.4 notebook may not have them, a 4.5 notebook must.
    const withId = { nbformat: 4, nbformat_minor: 4, metadata: {}, cells: [codeCell("a", "")] };
    expect(problems(withId)).toEqual(['cell 1 (code, id "a"): unknown field "id" (nbformat 4 does not allow it here)']);
    const withoutId = notebook45([{ cell_type: "markdown", metadata: {}, source: "# hi" }]);
    expect(problems(withoutId)).toEqual(['cell 1 (markdown): missing required field "id"']);
  });

  it("reports notebook-level problems and duplicate cell ids", () => {
    expect(problems({ nbformat: 4, nbformat_minor: 5, cells: [] })).toEqual(['notebook: missing required field "metadata"']);
    expect(problems(notebook45([codeCell("same", "1"), codeCell("same", "2")]))).toEqual([
      'cell 2: id "same" is already the id of cell 1 (cell ids must be unique)',
    ]);
  });

  it("puts every problem in the error message", () => {
    const nb = notebook45([{ id: "b", cell_type: "code" }]);
    expect(() => parseIpynb(JSON.stringify(nb))).toThrow(
      /^Not a valid Jupyter notebook \(\.ipynb\): cell 1 \(code, id "b"\): missing required field "metadata"; .*"source"/,
    );
  });
});
