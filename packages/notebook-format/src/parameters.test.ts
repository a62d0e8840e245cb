import { describe, expect, it } from "vitest";
import type { Cell } from "@cellar/protocol";
import { injectParameters, parameterLiteral, parameterLiterals, ParameterError, pythonLiteral } from "./parameters";

const cell = (id: string, source: string, tags?: string[]): Cell => ({
  id,
  cell_type: "code",
  source,
  outputs: [],
  execution_count: null,
  metadata: tags ? { tags } : {},
});

describe("parameterLiteral (papermill -p)", () => {
  it("reads booleans, None, ints and floats as Python values and anything else as a string", () => {
    expect(["True", "False", "None"].map(parameterLiteral)).toEqual(["True", "False", "None"]);
    expect(parameterLiteral("42")).toBe("42");
    expect(parameterLiteral("-7")).toBe("-7");
    expect(parameterLiteral("007")).toBe("7");
    expect(parameterLiteral("2.50")).toBe("2.50");
    expect(parameterLiteral("1e-3")).toBe("1e-3");
    expect(parameterLiteral("true")).toBe('"true"');
    expect(parameterLiteral("data/input.csv")).toBe('"data/input.csv"');
    expect(parameterLiteral('say "hi"\n')).toBe('"say \\"hi\\"\\n"');
  });
});

describe("injectParameters", () => {
  const cells = [cell("a", "import numpy"), cell("p", "n = 1", ["parameters"]), cell("b", "print(n)")];

  it("adds a tagged cell right after the cell tagged parameters", () => {
    const out = injectParameters(cells, { n: "5", label: '"x"' }, () => "new");
    expect(out.map((c) => c.id)).toEqual(["a", "p", "new", "b"]);
    expect(out[2]!.source).toBe('# Parameters\nn = 5\nlabel = "x"\n');
    expect(out[2]!.metadata).toEqual({ tags: ["injected-parameters"] });
  });

  it("puts the cell first when no cell is tagged parameters, and replaces an earlier injected cell", () => {
    expect(injectParameters([cell("b", "print(n)")], { n: "1" }, () => "new").map((c) => c.id)).toEqual(["new", "b"]);
    const once = injectParameters(cells, { n: "5" }, () => "first");
    const twice = injectParameters(once, { n: "6" }, () => "second");
    expect(twice.map((c) => c.id)).toEqual(["a", "p", "second", "b"]);
  });

  it("refuses names that are not Python identifiers", () => {
    expect(() => injectParameters(cells, { "bad name": "1" })).toThrow(ParameterError);
  });
});

describe("pythonLiteral (a schedule's JSON parameters)", () => {
  it("writes JSON scalars as Python's, keeping floats floats and NaN and the infinities spelt out", () => {
    expect([null, true, false].map((v) => pythonLiteral(v))).toEqual(["None", "True", "False"]);
    expect(pythonLiteral(42)).toBe("42");
    expect(pythonLiteral(-7)).toBe("-7");
    expect(pythonLiteral(0.5)).toBe("0.5");
    expect(pythonLiteral(1e-7)).toBe("1e-7");
    // Beyond 2**53 a float: the shortest text that reads back as the same double.
    expect(pythonLiteral(2 ** 60)).toBe("1152921504606847000.0");
    expect(pythonLiteral(1e21)).toBe("1e+21");
    expect(pythonLiteral(-0)).toBe("-0.0");
    expect(pythonLiteral(Number.NaN)).toBe("float('nan')");
    expect(pythonLiteral(Number.POSITIVE_INFINITY)).toBe("float('inf')");
    expect(pythonLiteral(Number.NEGATIVE_INFINITY)).toBe("-float('inf')");
  });

  it("escapes strings so quotes, backslashes, newlines and non-ASCII survive", () => {
    expect(pythonLiteral('say "hi"\\ \n')).toBe(String.raw`"say \"hi\"\\ \n"`);
    expect(pythonLiteral("ünïcode ✓")).toBe('"ünïcode ✓"');
    expect(pythonLiteral("''' \u0000")).toBe(String.raw`"''' \u0000"`);
  });

  it("nests lists and dicts", () => {
    expect(pythonLiteral([1, "a", [null, { k: false }]])).toBe('[1, "a", [None, {"k": False}]]');
    expect(pythonLiteral({ "a b": 1.5, n: [] })).toBe('{"a b": 1.5, "n": []}');
  });

  it("refuses what is not JSON, naming where it is", () => {
    expect(() => parameterLiterals({ when: new Date() })).toThrow("parameter when is not a JSON value (object)");
    expect(() => parameterLiterals({ xs: [1, undefined] })).toThrow("parameter xs[1] is not a JSON value (undefined)");
    expect(() => pythonLiteral(10n)).toThrow(ParameterError);
  });

  it("makes the injected cell of a schedule's parameters", () => {
    const out = injectParameters([cell("b", "print(n)")], parameterLiterals({ n: 3, label: "x", on: true }), () => "new");
    expect(out[0]!.source).toBe('# Parameters\nn = 3\nlabel = "x"\non = True\n');
  });

  it("refuses Python keywords as names", () => {
    expect(() => injectParameters([], { class: "1" })).toThrow('parameter name "class" is a Python keyword');
    expect(() => injectParameters([], { "1x": "1" })).toThrow(ParameterError);
  });
});
