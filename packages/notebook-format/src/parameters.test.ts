import { describe, expect, it } from "vitest";
import type { Cell } from "@cellar/protocol";
import { injectParameters, parameterLiteral, ParameterError } from "./parameters";

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
