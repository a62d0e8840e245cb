import type { Cell } from "@cellar/protocol";
import { describe, expect, it } from "vitest";
import { outputsDiff } from "./run-diff";

const code = (id: string, text: string, tags?: string[]): Cell => ({
  id,
  cell_type: "code",
  source: `print(${JSON.stringify(text)})`,
  outputs: text ? [{ output_type: "stream", name: "stdout", text }] : [],
  execution_count: 1,
  metadata: tags ? { tags } : {},
});

describe("outputsDiff", () => {
  it("matches cells by id, and each run's injected-parameters cell with the other's", () => {
    const before = [code("inj-1", "", ["injected-parameters"]), code("a", "1\n"), code("b", "same\n"), code("gone", "x\n")];
    const after = [code("inj-2", "", ["injected-parameters"]), code("a", "2\n"), code("b", "same\n"), code("new", "y\n")];
    const diff = outputsDiff(before, after);
    expect(diff.map((c) => [c.cellId, c.index, c.change])).toEqual([
      ["inj-2", 0, "same"],
      ["a", 1, "changed"],
      ["b", 2, "same"],
      ["new", 3, "added"],
      ["gone", -1, "removed"],
    ]);
    expect(diff[1]).toMatchObject({ before: "1\n", after: "2\n" });
  });

  it("without an earlier run every code cell is added; errors are their traceback without colours", () => {
    const failed: Cell = {
      ...code("e", ""),
      outputs: [
        {
          output_type: "error",
          ename: "ZeroDivisionError",
          evalue: "division by zero",
          traceback: ["\u001b[31mZeroDivisionError\u001b[0m: division by zero"],
        },
      ],
    };
    expect(outputsDiff(null, [failed])).toEqual([
      { cellId: "e", index: 0, change: "added", source: failed.source, before: "", after: "ZeroDivisionError: division by zero\n" },
    ]);
  });
});
